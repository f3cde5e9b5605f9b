"""The display-rate parts of `run.py bench` (issue 18), each a ratio measured within one run on one machine:

- `compare_backends`: torch eager, ONNX Runtime fp32 and ONNX Runtime int8 of the same network taking turns
  call by call (so a change in the machine's load hits all of them alike), at each thread count;
- `compare_e2e`: the headless show (`run_headless`) in rounds of variants: 1 and 2 inference threads without
  frame files, and the chosen threads writing MP4 + PNG frames (what `demo --headless` does); the variants take
  turns round by round for the same reason.
Every block carries the machine's speed class and load (installation/runtime/speed_class.py) beside it.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from installation.runtime.speed_class import speed_class

log = logging.getLogger(__name__)


def compare_backends(fp32: Path, int8: Path | None, threads_list: list[int], calls: int) -> dict[str, Any]:
    import torch

    from installation.runtime.inference import RuntimeSettings, open_model, read_metadata
    from installation.verbs.bench import _example, _torch_module

    meta, _ = read_metadata(fp32)
    x = _example(meta)
    module, weights = _torch_module(meta, None)
    out: dict[str, Any] = {"model": meta.get("model_name", fp32.stem), "torch_weights": weights, "calls": calls}
    for threads in threads_list:
        torch.set_num_threads(threads)
        settings = RuntimeSettings(providers=("cpu",), intra_op_threads=threads, warmup_runs=2)
        runs: dict[str, Any] = {"torch_eager": None, "ort_fp32": open_model(fp32, None, settings).run_batch}
        if int8 is not None:
            runs["ort_int8"] = open_model(int8, None, settings).run_batch
        xt = torch.from_numpy(x)
        with torch.inference_mode():
            runs["torch_eager"] = lambda t=xt: module(t)
            fns = {k: (v if k == "torch_eager" else (lambda f=v: f(x))) for k, v in runs.items()}
            for f in fns.values():
                for _ in range(3):
                    f()
            times: dict[str, list[float]] = {k: [] for k in fns}
            for _ in range(calls):
                for k, f in fns.items():
                    t0 = time.perf_counter()
                    f()
                    times[k].append((time.perf_counter() - t0) * 1000.0)
        p50 = {k: round(median(v), 2) for k, v in times.items()}
        block: dict[str, Any] = {"p50_ms": p50, "speed": speed_class()}
        block["ort_fp32_speedup_vs_torch"] = round(p50["torch_eager"] / p50["ort_fp32"], 2)
        if "ort_int8" in p50:
            block["ort_int8_speedup_vs_torch"] = round(p50["torch_eager"] / p50["ort_int8"], 2)
            block["int8_speedup_vs_fp32"] = round(p50["ort_fp32"] / p50["ort_int8"], 2)
        out[f"threads_{threads}"] = block
        log.info("backends at %d thread(s): %s", threads, json.dumps(block))
    return out


def compare_e2e(model: Path, seconds: float, rounds: int) -> dict[str, Any]:
    from installation.core.config import load_config
    from installation.runtime.inference import read_metadata
    from installation.verbs.demo import run_headless

    size = read_metadata(model)[0]["input_size"]
    base = ['input.source="replay"', f"model.path={json.dumps(str(model))}", f"model.input_size={size}"]
    base += ["osc.port=0", "osc.state_out=[]", "archive.enabled=false", 'logging.file=""']
    variants = {
        "threads_1_no_files": (["model.threads=1"], False),
        "threads_2_no_files": (["model.threads=2"], False),
        "chosen_threads_frames": ([], True),
        "chosen_threads_no_files": ([], False),
    }
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in variants}
    for r in range(rounds):
        for name, (extra, frames) in variants.items():
            cfg = load_config(overrides=base + extra)
            with tempfile.TemporaryDirectory(prefix="bench-frames-") as tmp:
                m = run_headless(cfg, seconds, Path(tmp) if frames else None)
            runs[name].append(_e2e_row(m, seconds, frames))
            log.info("e2e round %d %s: %s", r + 1, name, json.dumps(runs[name][-1]))
    out: dict[str, Any] = {"seconds_per_run": seconds, "rounds": rounds, "runs": runs}
    means = {k: {f: _mean([row[f] for row in v]) for f in ("fps", "ai_updates_per_s", "latency_p95_ms")}
             for k, v in runs.items()}  # fmt: skip
    out["mean"] = means
    out["ratios"] = {
        "frames_fps_vs_no_files": round(
            means["chosen_threads_frames"]["fps"] / means["chosen_threads_no_files"]["fps"], 2
        ),
        "threads_2_vs_1_fps": round(means["threads_2_no_files"]["fps"] / means["threads_1_no_files"]["fps"], 2),
        "threads_2_vs_1_ai_updates": round(
            means["threads_2_no_files"]["ai_updates_per_s"]
            / max(means["threads_1_no_files"]["ai_updates_per_s"], 1e-9),
            2,
        ),
    }
    return out


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 2)


def _e2e_row(m: dict[str, Any], seconds: float, frames: bool) -> dict[str, Any]:
    rate = m.get("rate") or {}
    return {
        "fps": m["fps"],
        "ai_updates_per_s": m["ai_updates_per_s"],
        "latency_p50_ms": m["latency_ms"]["p50"],
        "latency_p95_ms": m["latency_ms"]["p95"],
        "inference_ms_p50": m["inference_ms"]["p50"] if isinstance(m["inference_ms"], dict) else m["inference_ms"],
        "threads": rate.get("threads"),
        "precision": rate.get("precision"),
        "model": m["model"],
        "frames_out": m.get("frames_out"),
        "seconds": seconds,
        "speed": speed_class(),
    }
