"""GPU benchmark of the pix2pix generator at batch 1 (run on a CUDA machine; needs only torch + this repo).

    python3 benchmarks/gpu_bench.py --json OUT.json [--checkpoint CKPT] [--ngf 16] [--resolution 256]

Measures torch eager fp32, fp16 (channels_last) and fp16 replayed through a CUDA graph, with CUDA events,
after warm-up; and ONNX Runtime's CUDA/TensorRT providers only if that machine's onnxruntime offers them.
Rows have the shape of `run.py bench`'s results.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.pix2pix.config import Pix2PixConfig  # noqa: E402
from models.pix2pix.networks import UnetGenerator  # noqa: E402


def time_calls(fn, n: int = 300, warmup: int = 30) -> list[float]:  # noqa: ANN001
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(n):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return times


def row(name: str, res: int, backend: str, provider: str, times: list[float], note: str) -> dict:
    t = torch.tensor(times)
    p50 = float(t.quantile(0.5))
    return {
        "model": name,
        "resolution": res,
        "backend": backend,
        "provider": provider,
        "p50_ms": round(p50, 3),
        "p95_ms": round(float(t.quantile(0.95)), 3),
        "calls_per_s": round(1000.0 / p50, 1),
        "peak_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1),
        "note": note,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--ngf", type=int, default=16)
    ap.add_argument("--resolution", type=int, default=256)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: this benchmark is for a GPU machine", file=sys.stderr)
        return 2
    if args.checkpoint:
        state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
        cfg = Pix2PixConfig.from_dict(state["config"])
        g = UnetGenerator(cfg)
        g.load_state_dict(state["generator"])
    else:
        cfg = Pix2PixConfig(ngf=args.ngf, resolution=args.resolution)
        g = UnetGenerator(cfg)
    name = f"pix2pix-ngf{cfg.ngf}"
    res = cfg.resolution
    g = g.cuda().eval()
    x = torch.rand(1, 1, res, res, device="cuda") * 2 - 1
    results = []
    with torch.inference_mode():
        results.append(row(name, res, "torch", "cuda-eager-fp32", time_calls(lambda: g(x)), "eager fp32"))
        g16 = g.half().to(memory_format=torch.channels_last)
        x16 = x.half().to(memory_format=torch.channels_last)
        results.append(row(name, res, "torch", "cuda-eager-fp16", time_calls(lambda: g16(x16)), "eager fp16 NHWC"))
    static_in = x16.clone()
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.inference_mode(), torch.cuda.stream(s):
        for _ in range(3):
            g16(static_in)
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.inference_mode(), torch.cuda.graph(graph):
        static_out = g16(static_in)  # noqa: F841 - the graph's output buffer
    results.append(row(name, res, "torch", "cuda-graph-fp16", time_calls(graph.replay), "CUDA graph replay fp16 NHWC"))
    # end-to-end per call including host→device copy of a new sketch and device→host copy of the image
    host_in = torch.rand(1, 1, res, res).half().pin_memory()
    host_out = torch.empty(1, 3, res, res, dtype=torch.half).pin_memory()

    def with_copies() -> None:
        static_in.copy_(host_in, non_blocking=True)
        graph.replay()
        host_out.copy_(static_out, non_blocking=True)

    results.append(row(name, res, "torch", "cuda-graph-fp16+copies", time_calls(with_copies), "incl. H2D+D2H"))
    t0 = time.perf_counter()
    n = 1000
    for _ in range(n):
        with_copies()
    torch.cuda.synchronize()
    sustained = n / (time.perf_counter() - t0)
    try:
        import onnxruntime as ort

        ort_info = {"version": ort.__version__, "providers": ort.get_available_providers()}
    except ImportError:
        ort_info = {"version": None, "providers": []}
    out = {
        "machine": {
            "gpu": torch.cuda.get_device_name(0),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "onnxruntime": ort_info,
        },
        "results": results,
        "sustained_calls_per_s_graph_fp16_with_copies": round(sustained, 1),
    }
    args.json.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
