"""A Triton server anyone can start here: PyTriton (it ships `tritonserver`) binding the repository's ONNX files.

Runs in the optional environment .venv-triton (PyTriton 0.7.0 needs numpy < 2; scripts/setup_triton.sh makes
it), started by `run.py serve`, never imported by the show. For each model folder of a repository written by
`run.py export --triton-repo` it opens the ONNX file with ONNX Runtime and binds it with the folder's own
config.pbtxt: max batch size, dynamic batching with its queue delay, instance count. `--no-batch` variants
(NAME_nobatch: max batch 1) are bound beside them so a benchmark compares both in one server.
Usage: python -m installation.serving.pytriton_server --repo DIR --http-port P --grpc-port P --metrics-port P
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from installation.core.pbtxt import ModelConfig, read_model_config

log = logging.getLogger("pytriton_server")
DTYPES = {"uint8": "uint8", "float32": "float32", "float16": "float16", "int32": "int32"}


def _infer_func(session: Any, cfg: ModelConfig) -> Any:  # noqa: ANN401
    from pytriton.decorators import batch

    names = [t.name for t in cfg.outputs]

    @batch
    def infer(**inputs: Any) -> dict[str, Any]:  # noqa: ANN401
        outs = session.run(names, inputs)
        return dict(zip(names, outs, strict=True))

    return infer


def bind(triton: Any, folder: Path, threads: int, no_batch: bool) -> list[str]:  # noqa: ANN401
    import numpy as np
    import onnxruntime as ort
    from pytriton.model_config import DynamicBatcher, Tensor
    from pytriton.model_config import ModelConfig as PtConfig

    cfg = read_model_config((folder / "config.pbtxt").read_text(encoding="utf-8"), str(folder / "config.pbtxt"))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    funcs = []
    for _ in range(max(1, cfg.instances)):
        session = ort.InferenceSession(str(folder / "1" / "model.onnx"), opts, providers=["CPUExecutionProvider"])
        funcs.append(_infer_func(session, cfg))
    inputs = [Tensor(name=t.name, dtype=np.dtype(DTYPES[t.dtype]), shape=t.dims) for t in cfg.inputs]
    outputs = [Tensor(name=t.name, dtype=np.dtype(DTYPES[t.dtype]), shape=t.dims) for t in cfg.outputs]
    batcher = DynamicBatcher(
        max_queue_delay_microseconds=cfg.queue_delay_us,
        preferred_batch_size=list(cfg.preferred_batch_sizes) or None,
    )
    names = [cfg.name]
    triton.bind(
        model_name=cfg.name,
        infer_func=funcs,
        inputs=inputs,
        outputs=outputs,
        config=PtConfig(max_batch_size=max(1, cfg.max_batch_size), batcher=batcher),
        strict=True,
    )
    if no_batch:
        triton.bind(
            model_name=cfg.name + "_nobatch",
            infer_func=funcs,
            inputs=inputs,
            outputs=outputs,
            config=PtConfig(max_batch_size=1, batcher=DynamicBatcher()),
            strict=True,
        )
        names.append(cfg.name + "_nobatch")
    return names


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pytriton_server")
    p.add_argument("--repo", type=Path, required=True)
    p.add_argument("--models", default="", help="comma-separated model folders (default: all)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--http-port", type=int, default=8000)
    p.add_argument("--grpc-port", type=int, default=8001)
    p.add_argument("--metrics-port", type=int, default=8002)
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads per instance")
    p.add_argument("--no-batch", action="store_true", help="also bind NAME_nobatch (max batch 1)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from pytriton.triton import DEFAULT_PROTECTED_ENDPOINTS, Triton, TritonConfig, TritonSecurityConfig

    wanted = [m for m in args.models.split(",") if m]
    folders = sorted(f for f in args.repo.iterdir() if (f / "config.pbtxt").is_file())
    folders = [f for f in folders if not wanted or f.name in wanted]
    if not folders:
        print(f"error: no model folders in {args.repo}", file=sys.stderr)
        return 2
    config = TritonConfig(
        http_address=args.host,
        http_port=args.http_port,
        grpc_address=args.host,
        grpc_port=args.grpc_port,
        metrics_address=args.host,
        metrics_port=args.metrics_port,
        exit_on_error=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # statistics (batch sizes, counts) stay readable for the station benchmark; the rest stays behind a token
    security = TritonSecurityConfig(restricted_endpoints=[e for e in DEFAULT_PROTECTED_ENDPOINTS if e != "statistics"])
    with Triton(config=config, security_config=security) as triton:
        bound = [n for f in folders for n in bind(triton, f, args.threads, args.no_batch)]
        triton.run()  # start the server without blocking
        log.info("serving %s on http %s:%d, grpc %d", ", ".join(bound), args.host, args.http_port, args.grpc_port)
        print("READY", flush=True)
        try:
            while not stop.wait(0.5) and triton.is_alive():
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
