"""The CPU tier in int8 where it wins: FILE.int8.onnx beside the model, timed against fp32 on this machine.

`best_precision(model, open_path, mode)` takes the opened fp32 model; on the CPU, with `model.int8` not off and
an int8 copy (made by `run.py quantize`) beside it, it opens that copy, times both interleaved on the same input,
and keeps the one installation.core.precision.choose picks. It logs which and why, once. Both stay available
to the adaptive ladder (installation/runtime/adaptive_models.py) when int8's quality is within the goals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from installation.core.errors import UserError
from installation.core.precision import choose, quality_within_goals

log = logging.getLogger(__name__)
TIMING_CALLS = 6  # per model, interleaved: ~0.1 s on an idle 2-core machine


def int8_path(fp32: Path) -> Path:
    return fp32.with_name(fp32.stem + ".int8.onnx")


@dataclass
class PrecisionResult:
    model: Any  # the runtime Model to run
    precision: str
    reason: str
    fp32_ms: float | None = None
    int8_ms: float | None = None
    cheaper: list[Any] = field(default_factory=list)  # models with acceptable quality that cost less, cheapest last

    def summary(self) -> dict[str, object]:
        return {"precision": self.precision, "reason": self.reason, "fp32_ms": self.fp32_ms, "int8_ms": self.int8_ms}


def time_models(models: list[Any], calls: int = TIMING_CALLS) -> list[float]:
    """Median ms per call of each model, interleaved call by call on blank paper (load hits all alike)."""
    sketches = [np.full((m.input_size, m.input_size), 255, np.uint8) for m in models]
    times: list[list[float]] = [[] for _ in models]
    for _ in range(calls):
        for k, m in enumerate(models):
            t0 = time.perf_counter()
            m.run(sketches[k])
            times[k].append((time.perf_counter() - t0) * 1000.0)
    return [round(median(t), 2) for t in times]


def best_precision(model: Any, open_path: Callable[[Path], Any], mode: str) -> PrecisionResult:
    """fp32 `model` or its int8 copy, whichever wins here; says which in one log line."""
    on_cpu = getattr(model, "tier", "cpu") == "cpu" and model.provider == "CPUExecutionProvider"
    path = int8_path(Path(model.path))
    found = path.is_file() and model.metadata.get("precision", "fp32") == "fp32"
    int8 = None
    if mode != "off" and found and on_cpu:
        try:
            int8 = open_path(path)
        except UserError as e:  # a broken int8 copy never stops the show: fp32 goes on
            log.warning("int8 copy %s cannot be used (%s): running fp32", path.name, e)
            found = False
    if int8 is not None and int8.metadata.get("source_sha256") != getattr(model, "sha256", None):
        log.warning(
            "int8 copy %s was made from another file than %s (a replaced model): running fp32; re-make it with "
            "`python run.py quantize --model %s --data PACK`",
            path.name, Path(model.path).name, model.path,
        )  # fmt: skip
        int8, found = None, False
    quality = quality_within_goals(int8.metadata) if int8 is not None else None
    fp32_ms = int8_ms = None
    if int8 is not None:
        fp32_ms, int8_ms = time_models([model, int8])
    choice = choose(mode, found and int8 is not None, on_cpu, quality, fp32_ms, int8_ms)
    chosen = int8 if choice.precision == "int8" and int8 is not None else model
    faster = fp32_ms is not None and int8_ms is not None and int8_ms < fp32_ms
    cheaper = [int8] if chosen is model and int8 is not None and quality and faster else []
    if chosen is not model:
        chosen.tier = model.tier
    if mode != "off" and (found or on_cpu):
        log.warning("model precision: %s (%s)", choice.precision, choice.reason)
    return PrecisionResult(chosen, choice.precision, choice.reason, fp32_ms, int8_ms, cheaper)
