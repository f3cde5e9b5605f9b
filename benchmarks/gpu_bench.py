"""GPU benchmark of the pix2pix generator at batch 1: standalone: python3 + torch + this repository.

    python3 benchmarks/gpu_bench.py --json OUT.json [--checkpoint CKPT] [--ngf 16] [--resolution 256]

Cases, each after warm-up, timed with CUDA events (p50/p95 ms per call, calls/s = 1000 / mean):
  torch eager fp32 (NCHW and channels_last), eager fp16 (NCHW and channels_last), a CUDA graph of the fp16
  channels_last model (captured once, replayed; also with the host↔device copies of a live frame),
  torch.compile (last, and only if it finishes within --compile-timeout), and ONNX Runtime's CUDA / TensorRT
  providers only where this machine's onnxruntime offers them (otherwise the JSON says what it has).
Rows have the shape of `run.py bench` results. Budget: about a minute without TensorRT, < 3 min with it.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # models/pix2pix travels with the repository


def load_generator(args: argparse.Namespace) -> tuple[torch.nn.Module, dict[str, Any], str]:
    from models.pix2pix.checkpoint import load_generator as load
    from models.pix2pix.config import Pix2PixConfig
    from models.pix2pix.networks import UnetGenerator

    if args.checkpoint is not None:
        g, cfg, _ = load(args.checkpoint)
        return g, cfg.to_dict(), f"checkpoint {args.checkpoint.name}"
    cfg = Pix2PixConfig(ngf=args.ngf, resolution=args.resolution)
    return UnetGenerator(cfg).eval(), cfg.to_dict(), "random weights (timing does not depend on weights)"


def time_calls(fn: Callable[[], object], n: int, warmup: int) -> list[float]:
    """Per-call milliseconds from CUDA events around each call, after warm-up."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(n):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return times


def row(base: dict[str, Any], backend: str, provider: str, precision: str, times: list[float], note: str) -> dict:
    t = torch.tensor(times)
    return {
        **base,
        "backend": backend,
        "provider": provider,
        "precision": precision,
        "p50_ms": round(float(t.quantile(0.5)), 3),
        "p95_ms": round(float(t.quantile(0.95)), 3),
        "calls": len(times),
        "calls_per_s": round(1000.0 / float(t.mean()), 1),
        "peak_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1),
        "peak_mb_kind": "cuda_max_allocated",
        "note": note,
    }


def torch_cases(g: torch.nn.Module, base: dict, res: int, n: int, warmup: int) -> tuple[list[dict], dict]:
    results = []
    x = torch.rand(1, 1, res, res, device="cuda") * 2 - 1  # [1, 1, S, S]
    with torch.inference_mode():
        for precision, layout in (("fp32", "nchw"), ("fp32", "nhwc"), ("fp16", "nchw"), ("fp16", "nhwc")):
            dtype = torch.float16 if precision == "fp16" else torch.float32
            fmt = torch.channels_last if layout == "nhwc" else torch.contiguous_format
            m = g.to(dtype=dtype, memory_format=fmt)
            xi = x.to(dtype=dtype, memory_format=fmt)
            times = time_calls(lambda m=m, xi=xi: m(xi), n, warmup)
            results.append(row(base, "torch", f"cuda-eager-{layout}", precision, times, "eager"))
    g16 = g.to(dtype=torch.float16, memory_format=torch.channels_last)
    static_in = x.half().to(memory_format=torch.channels_last)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.inference_mode(), torch.cuda.stream(side):
        for _ in range(3):  # warm-up on a side stream before capture, as CUDA graphs require
            g16(static_in)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.inference_mode(), torch.cuda.graph(graph):
        static_out = g16(static_in)  # the graph's output buffer, [1, 3, S, S]
    results.append(row(base, "torch", "cuda-graph-nhwc", "fp16", time_calls(graph.replay, n, warmup), "replay"))
    host_in = torch.rand(1, 1, res, res).half().pin_memory()
    host_out = torch.empty(1, 3, res, res, dtype=torch.half).pin_memory()

    def with_copies() -> None:  # a live frame: new sketch up, graph, image down
        static_in.copy_(host_in, non_blocking=True)
        graph.replay()
        host_out.copy_(static_out, non_blocking=True)

    times = time_calls(with_copies, n, warmup)
    results.append(row(base, "torch", "cuda-graph-nhwc+copies", "fp16", times, "replay incl. H2D + D2H copies"))
    calls = 1000
    t0 = time.perf_counter()
    for _ in range(calls):
        with_copies()
    torch.cuda.synchronize()
    rate = round(calls / (time.perf_counter() - t0), 1)
    sustained = {"case": "cuda-graph-nhwc+copies fp16", "calls": calls, "calls_per_s": rate}
    return results, sustained


def ort_cases(g: torch.nn.Module, base: dict, res: int, n: int, warmup: int, tmp: Path) -> tuple[list[dict], dict]:
    """ONNX Runtime CUDA / TensorRT with IO binding on torch CUDA tensors, where onnxruntime offers them."""
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError:
        return [], {"version": None, "providers": [], "note": "onnxruntime not installed"}
    info: dict[str, Any] = {"version": ort.__version__, "providers": ort.get_available_providers()}
    wanted = [p for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider") if p in info["providers"]]
    if not wanted:
        info["note"] = "CPU-only onnxruntime: no GPU provider to time"
        return [], info
    path = tmp / "g.onnx"
    x = torch.rand(1, 1, res, res) * 2 - 1
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            g32 = copy.deepcopy(g).float().to(memory_format=torch.contiguous_format).cpu()
            names = {"input_names": ["sketch"], "output_names": ["image"]}
            torch.onnx.export(g32, (x,), str(path), **names, opset_version=17, dynamo=False)
    except Exception as e:  # exporter missing or changed on that machine
        info["note"] = f"ONNX export failed: {str(e).splitlines()[0][:200]}"
        return [], info
    results = []
    for name in wanted:
        opts: dict[str, Any] = {"device_id": 0}
        if name == "CUDAExecutionProvider":
            opts["cudnn_conv_algo_search"] = "HEURISTIC"
        else:
            opts.update(trt_fp16_enable=True, trt_engine_cache_enable=True, trt_engine_cache_path=str(tmp))
        try:
            providers = [(name, opts), "CPUExecutionProvider"]
            sess = ort.InferenceSession(str(path), providers=providers)
        except Exception as e:
            info[f"{name}_error"] = str(e).splitlines()[0][:200]
            continue
        got = sess.get_providers()[0]
        if got != name:
            info[f"{name}_error"] = f"session fell back to {got}"
            continue
        x_dev = x.cuda().contiguous()
        y_dev = torch.empty(1, 3, res, res, device="cuda")
        binding = sess.io_binding()
        binding.bind_input("sketch", "cuda", 0, np.float32, list(x_dev.shape), x_dev.data_ptr())
        binding.bind_output("image", "cuda", 0, np.float32, list(y_dev.shape), y_dev.data_ptr())
        try:
            times = time_calls(lambda s=sess, b=binding: s.run_with_iobinding(b), n, warmup)
        except Exception as e:  # engine build failure surfaces at the first run
            info[f"{name}_error"] = str(e).splitlines()[0][:200]
            continue
        precision = "fp16" if name == "TensorrtExecutionProvider" else "fp32"
        results.append(row(base, "onnxruntime", name, precision, times, "IO binding on device buffers"))
    return results, info


def compile_case(g: torch.nn.Module, base: dict, res: int, n: int, warmup: int, timeout: float) -> tuple[list, str]:
    """torch.compile of the fp16 NHWC model; abandoned (not killed) if it takes longer than `timeout`."""
    done: dict[str, Any] = {}
    x = (torch.rand(1, 1, res, res, device="cuda") * 2 - 1).half().to(memory_format=torch.channels_last)

    def work() -> None:
        try:
            c = torch.compile(g.to(dtype=torch.float16, memory_format=torch.channels_last))
            with torch.inference_mode():
                c(x)
                torch.cuda.synchronize()
                done["times"] = time_calls(lambda: c(x), n, warmup)
        except Exception as e:  # no triton, no compiler, ...
            done["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"

    t0 = time.perf_counter()
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout)
    if "times" in done:
        note = f"torch.compile default mode, compiled in {time.perf_counter() - t0:.0f} s incl. timing"
        return [row(base, "torch", "cuda-compile-nhwc", "fp16", done["times"], note)], "ok"
    return [], done.get("error", f"did not finish within {timeout:.0f} s: skipped")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, required=True, help="where to write the results")
    ap.add_argument("--checkpoint", type=Path, help="a pix2pix checkpoint (default: random weights)")
    ap.add_argument("--ngf", type=int, default=16, help="generator width without a checkpoint")
    ap.add_argument("--resolution", type=int, default=256, help="resolution without a checkpoint")
    ap.add_argument("--calls", type=int, default=300, help="timed calls per case")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--compile-timeout", type=float, default=90.0, help="seconds; 0 skips torch.compile")
    ap.add_argument("--skip-ort", action="store_true", help="skip ONNX Runtime")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print(f"no CUDA device visible to torch {torch.__version__}: run this on a GPU machine", file=sys.stderr)
        return 2
    torch.backends.cudnn.benchmark = True
    g, cfg, weights = load_generator(args)
    res = int(cfg["resolution"])
    base = {"model": f"pix2pix-ngf{cfg['ngf']}-{res}", "resolution": res, "batch": 1, "weights": weights}
    g = g.cuda().eval()
    t0 = time.perf_counter()
    results, sustained = torch_cases(g, base, res, args.calls, args.warmup)
    ort_info: dict[str, Any] = {"note": "skipped (--skip-ort)"}
    if not args.skip_ort:
        with tempfile.TemporaryDirectory() as tmp:
            rows, ort_info = ort_cases(g, base, res, args.calls, args.warmup, Path(tmp))
            results += rows
    compile_status = "skipped (--compile-timeout 0)"
    if args.compile_timeout > 0:
        rows, compile_status = compile_case(g, base, res, args.calls, args.warmup, args.compile_timeout)
        results += rows
    props = torch.cuda.get_device_properties(0)
    out = {
        "machine": {
            "gpu": torch.cuda.get_device_name(0),
            "gpu_memory_gb": round(props.total_memory / 2**30, 1),
            "os": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "onnxruntime": ort_info,
        },
        "config": cfg,
        "results": results,
        "sustained": sustained,
        "torch_compile": compile_status,
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    print("| case | precision | p50 ms | p95 ms | calls/s | peak MB |\n|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['backend']} {r['provider']} | {r['precision']} | {r['p50_ms']} | {r['p95_ms']} | "
              f"{r['calls_per_s']} | {r['peak_mb']} |")  # fmt: skip
    print(f"sustained {sustained['case']}: {sustained['calls_per_s']} calls/s; torch.compile: {compile_status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
