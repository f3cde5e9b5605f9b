"""`run.py bench --json FILE`: per-call timings of each live model and the end-to-end frame time of the spine.

For each model (the shipped ONNX file, or --model/--checkpoint) at its resolution, batch 1:
  - torch eager, rebuilt from the config embedded in the ONNX metadata with the checkpoint's weights when the
    checkpoint is known (--checkpoint, or the trained one whose sha256 the file records), else with random
    weights (noted in the row: timing does not depend on the weights); on CUDA too where torch has it;
  - ONNX Runtime through the project's runtime, once per provider this machine really gets (a provider that
    falls back to CPU is listed under "skipped", not timed twice).
Both backends get the same input (a real sketch) and the same intra-op thread count; both are in each row.
Per case: warm-up, then at least --calls timed calls and until --seconds have passed. peak_mb is the rise
of the process's peak resident memory over the case (Linux VmHWM, reset per case), or torch's CUDA peak.
End to end: the headless demo (`run_headless`) for --e2e-seconds: frame times and pen-to-photon latency.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from installation.core.errors import UserError
from installation.core.files import check_writable, write_text_atomic
from installation.verbs.common import repo_path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = ROOT / "installation" / "assets" / "models" / "pix2pix_default.onnx"
TRAINED_CHECKPOINT = ROOT / "models" / "pix2pix" / "trained" / "pix2pix_default.pt"
MAX_CALLS = 5000


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", type=Path, required=True, help="where to write the results")
    p.add_argument("--model", type=Path, action="append", default=[], help="ONNX model (repeatable)")
    p.add_argument("--checkpoint", type=Path, help="torch checkpoint of the (first) model; alone: exported first")
    p.add_argument("--seconds", type=float, default=3.0, help="time budget per case")
    p.add_argument("--calls", type=int, default=50, help="at least this many timed calls per case")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls before timing")
    p.add_argument("--threads", type=int, default=0, help="intra-op threads for both backends (0 = physical cores)")
    p.add_argument("--providers", default="tensorrt,cuda,cpu", help="ONNX Runtime providers to try, in order")
    p.add_argument("--skip-torch", action="store_true", help="time only ONNX Runtime")
    p.add_argument("--skip-e2e", action="store_true", help="skip the end-to-end headless demo")
    p.add_argument("--e2e-seconds", type=float, default=10.0)
    p.add_argument(
        "--ndi", action="store_true", help="only NDI: loopback latency, display fps NDI on/off (ndi_bench.py)"
    )
    p.add_argument("--stations", help="N,N,...: headless stations against one Triton server vs local (bench_stations)")
    p.add_argument("--server-threads", type=int, default=2, help="--stations: ONNX Runtime threads of the server")
    p.add_argument("--load-seconds", type=float, default=10.0, help="--stations: seconds of each closed-loop load")
    p.add_argument("--rate", action="store_true", help="issue 18's ratios: backends call by call, show variants")
    p.add_argument("--rate-calls", type=int, default=40, help="--rate: calls per backend and thread count")
    p.add_argument("--rate-rounds", type=int, default=2, help="--rate: rounds of the show variants")


def main(args: argparse.Namespace) -> int:
    check_writable(args.json, "--json")  # before minutes of timing, not after
    if args.ndi:
        from installation.verbs.ndi_bench import run

        run(args.json, seconds=args.e2e_seconds)
        return 0
    if args.stations:
        from installation.verbs.bench_stations import main as stations_main

        return stations_main(args)
    if args.calls < 1 or args.seconds < 0 or args.warmup < 0:
        raise UserError("--calls must be ≥ 1, --seconds and --warmup ≥ 0")
    threads = args.threads or psutil.cpu_count(logical=False) or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        models = _models(args, Path(tmp))
        from installation.runtime.speed_class import speed_class

        out: dict[str, Any] = {"machine": machine(), "settings": _settings(args, threads), "results": []}
        out["machine"]["speed_class"] = speed_class()
        out["skipped"] = []
        models += [q for q in (_int8_of(p) for p in models) if q is not None and q not in models]
        for i, path in enumerate(models):
            rows, skipped = bench_model(path, args.checkpoint if i == 0 else None, args, threads)
            out["results"] += rows
            out["skipped"] += skipped
        if not args.skip_e2e:
            out["end_to_end"] = end_to_end(models[0], args.e2e_seconds, threads)
            out["end_to_end"]["speed"] = speed_class()
        if args.rate:
            from installation.verbs.bench_rate import compare_backends, compare_e2e

            out["rate"] = {"backends": compare_backends(models[0], _int8_of(models[0]), [1, 2], args.rate_calls)}
            if not args.skip_e2e:
                out["rate"]["show"] = compare_e2e(models[0], args.e2e_seconds, args.rate_rounds)
        out["machine"]["speed_class_at_end"] = speed_class()
    _write_json(args.json, out)
    print(table(out))
    return 0


def _models(args: argparse.Namespace, tmp: Path) -> list[Path]:
    """The ONNX files to time: --model, else the shipped model, else an export of --checkpoint."""
    if args.model:
        for p in args.model:
            if not p.is_file():
                raise UserError(f"model {p} does not exist: pass an exported .onnx with --model")
        return list(args.model)
    if args.checkpoint is not None:
        from models.pix2pix.export import export

        out = tmp / f"{args.checkpoint.stem}.onnx"
        log.info("exporting %s to a temporary ONNX file for the benchmark", args.checkpoint)
        export(args.checkpoint, out, parity_count=2)
        return [out]
    if DEFAULT_MODEL.is_file():
        return [DEFAULT_MODEL]
    raise UserError(f"no model to benchmark: {DEFAULT_MODEL} is missing; pass --model FILE.onnx or --checkpoint")


def _int8_of(path: Path) -> Path | None:
    """The int8 copy `run.py quantize` writes beside an fp32 model, if there is one."""
    from installation.runtime.precision import int8_path

    q = int8_path(path)
    return q if q.is_file() and not path.stem.endswith(".int8") else None


def _settings(args: argparse.Namespace, threads: int) -> dict[str, Any]:
    return {
        "threads": threads,
        "inter_op_threads": 1,
        "batch": 1,
        "warmup": args.warmup,
        "min_calls": args.calls,
        "seconds_per_case": args.seconds,
        "input": "the first parity sketch (an embedded session, rasterised) as float32 NCHW in [-1, 1]",
    }


def machine() -> dict[str, Any]:
    import torch

    from installation.runtime.inference import available_providers, ort_version

    cpu = platform.processor()
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), cpu)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "gpu": _gpu_name(torch),
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": ort_version(),
        "ort_available_providers": available_providers(),
    }


def _gpu_name(torch: Any) -> str | None:
    if torch.cuda.is_available():
        return str(torch.cuda.get_device_name(0))
    if shutil.which("nvidia-smi"):
        try:
            r = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
            )
            return r.stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            return None
    return None


# -- timing --------------------------------------------------------------------------------------------------
class PeakMemory:
    """Rise of the peak RSS during a case: Linux VmHWM reset via clear_refs, else sampled RSS."""

    def __init__(self) -> None:
        gc.collect()
        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.exact = _reset_hwm()
        self.sampled = self.base

    def sample(self) -> None:
        if not self.exact:
            self.sampled = max(self.sampled, self.proc.memory_info().rss)

    def peak_mb(self) -> float:
        peak = _read_hwm() if self.exact else self.sampled
        return round(max(0, (peak or self.sampled) - self.base) / 2**20, 1)


def _reset_hwm() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _read_hwm() is not None
    except OSError:
        return False


def _read_hwm() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def time_calls(fn: Callable[[], object], args: argparse.Namespace, mem: PeakMemory, sync: Callable[[], None]) -> dict:
    """Warm-up, then ≥ args.calls timed calls and until args.seconds have passed (at most MAX_CALLS)."""
    for _ in range(args.warmup):
        fn()
    sync()
    times: list[float] = []
    t_end = time.perf_counter() + args.seconds
    while len(times) < MAX_CALLS and (len(times) < args.calls or time.perf_counter() < t_end):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1000.0)
        mem.sample()
    a = np.asarray(times)
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p95_ms": round(float(np.percentile(a, 95)), 3),
        "mean_ms": round(float(a.mean()), 3),
        "calls": len(a),
        "calls_per_s": round(1000.0 * len(a) / float(a.sum()), 2),
    }


# -- per model -----------------------------------------------------------------------------------------------
def bench_model(
    path: Path, checkpoint: Path | None, args: argparse.Namespace, threads: int
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    from installation.runtime.inference import read_metadata

    meta, _ = read_metadata(path)
    size = int(meta["input_size"])
    base = {
        "model": meta.get("model_name", path.stem),
        "model_file": repo_path(path),
        "resolution": size,
        "batch": 1,
    }
    x = _example(meta)  # [1, C, S, S], the same for every backend
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    if not args.skip_torch and meta.get("precision", "fp32") == "fp32":  # torch has no int8 copy of the network
        rows += bench_torch(meta, checkpoint, x, args, threads, base)
    for key in [p.strip() for p in args.providers.split(",") if p.strip()]:
        row, why = bench_ort(path, key, x, args, threads, base)
        if row is not None:
            rows.append(row)
        else:
            skipped.append({"model": base["model"], "backend": "onnxruntime", "provider": key, "reason": why})
            log.info("onnxruntime %s skipped: %s", key, why)
    from installation.runtime.speed_class import speed_class

    speed = speed_class()
    return [{**r, "speed": speed} for r in rows], skipped


def _example(meta: dict[str, str]) -> np.ndarray:
    from models.pix2pix.export import EXPORTERS

    kind = meta.get("kind", "")
    if kind not in EXPORTERS:
        raise UserError(f"bench does not know model kind {kind!r}: known kinds are {sorted(EXPORTERS)}")
    x, _ = EXPORTERS[kind].examples(meta, None, 1)
    return x[:1]


def bench_torch(
    meta: dict[str, str],
    checkpoint: Path | None,
    x: np.ndarray,
    args: argparse.Namespace,
    threads: int,
    base: dict,
) -> list[dict[str, Any]]:
    import torch

    torch.set_num_threads(threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for device in devices:
        mem = PeakMemory()
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        module, weights = _torch_module(meta, checkpoint)
        module = module.to(device)
        xt = torch.from_numpy(x).to(device)
        sync = torch.cuda.synchronize if device == "cuda" else _nothing
        with torch.inference_mode():
            r = time_calls(lambda m=module, t=xt: m(t), args, mem, sync)
        peak = round(torch.cuda.max_memory_allocated() / 2**20, 1) if device == "cuda" else mem.peak_mb()
        kind = "cuda_max_allocated" if device == "cuda" else _mem_kind(mem)
        rows.append({
            **base, "backend": "torch", "provider": f"{device}-eager", "precision": "fp32",
            "threads": threads, **r, "peak_mb": peak, "peak_mb_kind": kind, "weights": weights,
        })  # fmt: skip
        del module, xt
    return rows


def _torch_module(meta: dict[str, str], checkpoint: Path | None) -> tuple[Any, str]:
    """(module in eval mode, what its weights are) for the ONNX file's architecture."""
    from models.pix2pix.export import EXPORTERS

    spec = EXPORTERS[meta["kind"]]
    want = meta.get("checkpoint_sha256", "")
    if checkpoint is None and TRAINED_CHECKPOINT.is_file():
        from models.pix2pix.checkpoint import file_sha256

        if want and file_sha256(TRAINED_CHECKPOINT) == want:
            checkpoint = TRAINED_CHECKPOINT
    if checkpoint is not None:
        loaded = spec.load(checkpoint)
        if want and loaded.metadata.get("checkpoint_sha256") != want:
            log.warning("%s is not the checkpoint this ONNX file was exported from (sha256 differs)", checkpoint)
        if loaded.metadata.get("config") != meta.get("config"):
            raise UserError(f"checkpoint {checkpoint} has another architecture than the ONNX file: pass its own")
        return loaded.module, f"checkpoint {checkpoint.name}"
    return spec.rebuild(meta), "same architecture, random weights (timing does not depend on weights)"


def bench_ort(
    path: Path, key: str, x: np.ndarray, args: argparse.Namespace, threads: int, base: dict
) -> tuple[dict[str, Any] | None, str]:
    from installation.runtime.inference import (
        ORT_NAMES,
        RuntimeSettings,
        available_providers,
        gpu_present,
        open_model,
    )

    if key not in ORT_NAMES:
        raise UserError(f"--providers: unknown provider {key!r}; choose from {list(ORT_NAMES)}")
    name = ORT_NAMES[key]
    if name not in available_providers():
        return None, f"this onnxruntime build does not offer {name}"
    if key != "cpu" and not gpu_present():
        return None, "no NVIDIA GPU on this machine (no /dev/nvidia0, no nvidia-smi)"
    mem = PeakMemory()
    model = open_model(path, None, RuntimeSettings(providers=(key,), intra_op_threads=threads, warmup_runs=0))
    if model.provider != name:
        return None, f"asked for {name}, the session fell back to {model.provider}"
    run = model.run_batch
    r = time_calls(lambda: run(x), args, mem, _nothing)
    row = {
        **base, "backend": "onnxruntime", "provider": model.provider,
        "precision": model.metadata.get("precision", "fp32"), "threads": threads, **r,
        "peak_mb": mem.peak_mb(), "peak_mb_kind": _mem_kind(mem), "weights": "exported",
    }  # fmt: skip
    return row, ""


def _mem_kind(mem: PeakMemory) -> str:
    return "rss_hwm_rise" if mem.exact else "rss_sampled_rise"


def _nothing() -> None:
    return None


# -- end to end ----------------------------------------------------------------------------------------------
def end_to_end(model: Path, seconds: float, threads: int) -> dict[str, Any]:
    """The real spine, headless, replaying the embedded sessions with this model."""
    try:
        from installation.core.config import load_config
        from installation.verbs.demo import run_headless
    except ImportError as e:
        raise UserError(f"the end-to-end part needs the headless demo ({e}): pass --skip-e2e") from e
    from installation.runtime.inference import read_metadata

    size = read_metadata(model)[0]["input_size"]
    overrides = ['input.source="replay"', f"model.path={json.dumps(str(model))}", f"model.input_size={size}"]
    overrides.append(f"model.threads={threads}")
    # a benchmark is not the show: no default port (a show may be running), no archived works, no show log
    overrides += ["osc.port=0", "osc.state_out=[]", "archive.enabled=false", 'logging.file=""']
    cfg = load_config(overrides=overrides)
    m = run_headless(cfg, seconds, None)
    return {
        "frame_ms_p50": m["frame_ms"]["p50"],
        "frame_ms_p95": m["frame_ms"]["p95"],
        "fps": m["fps"],
        "ai_updates_per_s": m["ai_updates_per_s"],
        "latency_ms": m["latency_ms"],
        "inference_ms": m["inference_ms"],
        "frames": m["frames"],
        "provider": m["provider"],
        "model": m["model"],
        "rss_mb": round(float(m["rss_mb"]), 1),
        "rate": m.get("rate"),
        "seconds": seconds,
        "display": f"{cfg.display.width}x{cfg.display.height} headless, {cfg.display.fps} fps cap",
    }


# -- output --------------------------------------------------------------------------------------------------
def table(out: dict[str, Any]) -> str:
    head = "| model | res | backend | provider | threads | p50 ms | p95 ms | calls/s | peak MB | speed | weights |"
    lines = [head, "|" + "---|" * 11]
    for r in out["results"]:
        sp = r.get("speed", {})
        lines.append(
            f"| {r['model']} | {r['resolution']} | {r['backend']} | {r['provider']} | {r['threads']} | "
            f"{r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['calls_per_s']:.1f} | {r['peak_mb']} | "
            f"{sp.get('score')} (load {sp.get('load_avg_1m')}) | {r['weights']} |"
        )
    sc = out["machine"].get("speed_class", {})
    lines.append(f"\nmachine speed class: {sc.get('score')} ({sc.get('class')}, load {sc.get('load_avg_1m')})")
    if out.get("skipped"):
        lines.append("")
    for s in out.get("skipped", []):
        lines.append(f"skipped {s['backend']} {s['provider']} for {s['model']}: {s['reason']}")
    e = out.get("end_to_end")
    if e:
        lines.append(
            f"\nend to end ({e['provider']}): frame p50 {e['frame_ms_p50']} ms, p95 {e['frame_ms_p95']} ms, "
            f"{e['fps']} fps, {e['ai_updates_per_s']} AI updates/s, latency p50 {e['latency_ms']['p50']} ms, "
            f"p95 {e['latency_ms']['p95']} ms; speed class {e.get('speed', {}).get('score')}"
        )
    rate = out.get("rate", {})
    for t in ("threads_1", "threads_2"):
        b = rate.get("backends", {}).get(t)
        if b:
            lines.append(f"{t}: p50 ms {b['p50_ms']}, speed-ups { ({k: v for k, v in b.items() if 'speedup' in k}) }")
    if "show" in rate:
        lines.append(f"show variants (mean): {rate['show']['mean']}; ratios {rate['show']['ratios']}")
    return "\n".join(lines)


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2), fix="choose a writable --json path")
