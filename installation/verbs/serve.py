"""`run.py serve`: one Triton server for the gallery's stations, started from PyTriton in .venv-triton.

Writes (or reuses) a Triton repository of the shipped models (`run.py export --triton-repo`, CPU instances),
makes the optional environment on first use (scripts/setup_triton.sh), starts the server and waits until
Ctrl+C. Stations point `model.url` at this host's HTTP port (or gRPC with `model.protocol = "grpc"`).
On a GPU host the official server serves the same repository written with `--triton-device gpu`.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import time
from pathlib import Path

from installation.core.errors import UserError

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo", type=Path, default=Path("runs/triton-repo"), help="Triton repository (written if absent)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (the gallery network's address)")
    p.add_argument("--http-port", type=int, default=8000)
    p.add_argument("--grpc-port", type=int, default=8001)
    p.add_argument("--metrics-port", type=int, default=8002)
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads per model instance")
    p.add_argument("--no-batch", action="store_true", help="also serve NAME_nobatch (max batch 1) for comparisons")
    p.add_argument("--seconds", type=float, help="stop after this many seconds (default: until Ctrl+C)")


def main(args: argparse.Namespace) -> int:
    from installation.runtime.triton_repo import SHIPPED, write_repo
    from installation.runtime.triton_server import SETUP, Ports, TritonServer, triton_env

    for name in ("http_port", "grpc_port", "metrics_port"):
        if not 1 <= getattr(args, name) <= 65535:
            raise UserError(f"--{name.replace('_', '-')} must be 1..65535")
    if triton_env()[0] is None:
        log.warning("making the Triton server environment: bash %s (first use only)", SETUP)
        if subprocess.run(["bash", str(SETUP)], check=False).returncode != 0:
            raise UserError(f"bash {SETUP} failed: see its output above, fix it, then run `run.py serve` again")
    if not (args.repo / "pix2pix_default_u8" / "config.pbtxt").is_file():
        write_repo(args.repo, SHIPPED, "cpu", 8, 2000, 1)
    server = TritonServer(
        args.repo, Ports(args.http_port, args.grpc_port, args.metrics_port), no_batch=args.no_batch,
        threads=args.threads, host=args.host,
    )  # fmt: skip
    server.start("pix2pix_default_u8")
    print(f"Triton serving {args.repo} on http {args.host}:{args.http_port}, grpc {args.host}:{args.grpc_port}")
    print(f'stations: --set model.backend=triton --set model.url="{args.host}:{args.http_port}"')
    try:
        end = time.monotonic() + args.seconds if args.seconds else None
        while server.proc is not None and server.proc.poll() is None:
            if end is not None and time.monotonic() >= end:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
