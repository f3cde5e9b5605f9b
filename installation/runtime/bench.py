"""`run.py bench --json FILE`: per-call timings of each live model (torch eager and each ONNX Runtime provider
this machine really has) and the end-to-end frame time of the spine (the headless demo).

Same input, same thread settings for both backends; the threads used are written into the JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from installation.core.config import load_config
from installation.core.errors import UserError

log = logging.getLogger(__name__)
DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "models" / "pix2pix_default.onnx"
DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "models" / "pix2pix" / "trained" / "pix2pix_default.pt"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", type=Path, required=True, help="where to write the results")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="ONNX model to time")
    p.add_argument("--checkpoint", type=Path, help="torch checkpoint of the same model (default: the shipped one)")
    p.add_argument("--seconds", type=float, default=8.0, help="time budget per case")
    p.add_argument("--min-calls", type=int, default=50)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads for both backends (0 = all cores)")
    p.add_argument("--e2e-seconds", type=float, default=15.0)
    p.add_argument("--skip-e2e", action="store_true")


def machine() -> dict[str, Any]:
    import onnxruntime as ort
    import torch

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "ort_available_providers": ort.get_available_providers(),
    }


def time_fn(fn, seconds: float, min_calls: int) -> dict[str, float]:  # noqa: ANN001
    for _ in range(5):
        fn()
    rss0 = psutil.Process().memory_info().rss
    peak = rss0
    times = []
    t_end = time.perf_counter() + seconds
    while len(times) < min_calls or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        if len(times) % 10 == 0:
            peak = max(peak, psutil.Process().memory_info().rss)
    a = np.asarray(times)
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p95_ms": round(float(np.percentile(a, 95)), 3),
        "calls_per_s": round(1000.0 / float(a.mean()), 2),
        "calls": len(a),
        "peak_mb": round(peak / 2**20, 1),
        "rss_delta_mb": round((peak - rss0) / 2**20, 1),
    }


def bench_model(args: argparse.Namespace) -> list[dict[str, Any]]:
    import onnxruntime as ort
    import torch

    from installation.runtime.inference import ORT_NAMES, RuntimeSettings, gpu_present, open_model, read_metadata

    meta = read_metadata(args.model)
    size = int(meta["input_size"])
    name = meta.get("model_name", args.model.stem)
    rng = np.random.default_rng(0)
    x = np.where(rng.random((1, 1, size, size)) < 0.08, -1.0, 1.0).astype(np.float32)  # sparse ink on paper
    rows: list[dict[str, Any]] = []
    threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    g, note = _torch_model(args, meta)
    with torch.inference_mode():
        xt = torch.from_numpy(x)
        r = time_fn(lambda: g(xt), args.seconds, args.min_calls)
    rows.append({"model": name, "resolution": size, "backend": "torch", "provider": "cpu-eager", "threads": threads,
                 "note": note, **r})
    available = set(ort.get_available_providers())
    for key in ("tensorrt", "cuda", "cpu"):
        if ORT_NAMES[key] not in available or (key != "cpu" and not gpu_present()):
            continue
        settings = RuntimeSettings(providers=(key,), intra_op_threads=threads, warmup_runs=3)
        model = open_model(args.model, None, settings)
        if model.provider != ORT_NAMES[key]:
            log.warning("%s asked for but the session runs on %s: row skipped", ORT_NAMES[key], model.provider)
            continue
        r = time_fn(lambda m=model: m.run_batch(x), args.seconds, args.min_calls)
        rows.append({"model": name, "resolution": size, "backend": "onnxruntime", "provider": model.provider,
                     "threads": threads, **r})
    return rows


def _torch_model(args: argparse.Namespace, meta: dict[str, str]):  # noqa: ANN202
    from models.pix2pix.checkpoint import load_generator
    from models.pix2pix.config import Pix2PixConfig
    from models.pix2pix.networks import UnetGenerator

    ckpt = args.checkpoint or (DEFAULT_CHECKPOINT if args.model == DEFAULT_MODEL else None)
    if ckpt is not None and ckpt.is_file():
        g, _, m = load_generator(ckpt)
        return g, f"trained weights from {ckpt.name}"
    g = UnetGenerator(Pix2PixConfig.from_dict(json.loads(meta["config"]))).eval()
    return g, "same architecture, random weights (timing does not depend on weights)"


def main(args: argparse.Namespace) -> int:
    if not args.model.is_file():
        raise UserError(f"model {args.model} does not exist: pass --model FILE.onnx")
    out: dict[str, Any] = {"machine": machine(), "command": "python run.py bench " + " ".join(_argv(args))}
    out["results"] = bench_model(args)
    if not args.skip_e2e:
        from installation.runtime.demo import run_headless

        cfg = load_config(None, ['input.source="replay"', f'model.path="{args.model}"', "display.fullscreen=false"])
        m = run_headless(cfg, args.e2e_seconds, None)
        out["end_to_end"] = {
            "frame_ms_p50": m["frame_ms"]["p50"],  # type: ignore[index]
            "frame_ms_p95": m["frame_ms"]["p95"],  # type: ignore[index]
            "fps": m["fps"],
            "ai_updates_per_s": m["ai_updates_per_s"],
            "latency_ms": m["latency_ms"],
            "inference_ms": m["inference_ms"],
            "first_frame_s": m["first_frame_s"],
            "rss_mb": round(float(m["rss_mb"]), 1),  # type: ignore[arg-type]
            "provider": m["provider"],
            "seconds": args.e2e_seconds,
            "display": f"{cfg.display.width}x{cfg.display.height} headless (SDL dummy)",
        }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    print(table(out))
    return 0


def table(out: dict[str, Any]) -> str:
    lines = ["| model | res | backend | provider | p50 ms | p95 ms | calls/s | peak MB |", "|---|---|---|---|---|---|---|---|"]
    for r in out["results"]:
        lines.append(f"| {r['model']} | {r['resolution']} | {r['backend']} | {r['provider']} | {r['p50_ms']} | "
                     f"{r['p95_ms']} | {r['calls_per_s']} | {r['peak_mb']} |")
    if "end_to_end" in out:
        e = out["end_to_end"]
        lines.append(f"\nend to end: frame p50 {e['frame_ms_p50']} ms, p95 {e['frame_ms_p95']} ms, {e['fps']} fps, "
                     f"{e['ai_updates_per_s']} AI updates/s, latency p95 {e['latency_ms']['p95']} ms")
    return "\n".join(lines)


def _argv(args: argparse.Namespace) -> list[str]:
    return [f"--json {args.json}"] + ([f"--model {args.model}"] if args.model != DEFAULT_MODEL else [])
