"""The `--triton-repo` options of `run.py export` (the repository itself is written by triton_repo.py)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_repo_arguments(p: argparse.ArgumentParser) -> None:
    from installation.runtime.triton_repo import SHIPPED

    for action in p._actions:  # the checkpoint export's required flags are not needed for a repository
        if action.dest in ("checkpoint", "out"):
            action.required = False
    g = p.add_argument_group("Triton model repository (run.py export --triton-repo DIR)")
    g.add_argument("--triton-repo", type=Path, help="write a Triton model repository here from the ONNX files")
    g.add_argument("--models", type=Path, default=SHIPPED, help="folder of pix2pix*.onnx and clip_*.onnx")
    g.add_argument("--triton-device", choices=("gpu", "cpu"), default="gpu", help="instance kind (gpu: TensorRT fp16)")
    g.add_argument("--max-batch", type=int, default=8, help="largest batch the server forms")
    g.add_argument("--queue-delay-us", type=int, default=2000, help="dynamic batching delay; 0 turns batching off")
    g.add_argument("--instances", type=int, default=1, help="model instances per device")


def main(args: argparse.Namespace) -> int:
    from installation.core.errors import UserError
    from installation.runtime.triton_repo import write_repo

    for name, value, lo, hi in (
        ("--max-batch", args.max_batch, 1, 1024),
        ("--queue-delay-us", args.queue_delay_us, 0, 1_000_000),
        ("--instances", args.instances, 1, 64),
    ):
        if not lo <= value <= hi:
            raise UserError(f"{name} is {value}: give {lo}..{hi}")
    written = write_repo(
        args.triton_repo, args.models, args.triton_device, args.max_batch, args.queue_delay_us, args.instances
    )
    for path in written:
        print(f"wrote {path}")
    print(f"serve it on a GPU host: tritonserver --model-repository {args.triton_repo.resolve()}")
    return 0
