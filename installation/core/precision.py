"""Whether the show runs the int8 copy of its CPU-tier model: pure decisions (no onnxruntime here).

The runtime opens the fp32 file and, beside it, FILE.int8.onnx (made offline by `run.py quantize`), times both
on this machine and asks `choose` which to keep. `auto` keeps int8 only where it wins on both counts: its
recorded quality against the fp32 model is within the goals (`int8_quality.within_goals` in its metadata,
measured on the held-out split by `run.py quantize --data`), and it is at least `min_speedup` times faster
here. `off` never uses it; `on` uses it whenever the file opens on the CPU (the venue's own decision).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

INT8_MODES = ("auto", "on", "off")
MIN_SPEEDUP = 1.1  # int8 must be this much faster to be worth its (small) loss of quality


@dataclass(frozen=True)
class PrecisionChoice:
    precision: str  # "fp32" or "int8"
    reason: str


def quality_within_goals(metadata: dict[str, str]) -> bool | None:
    """The int8 file's own verdict (True/False), or None where it was never measured or is unreadable."""
    raw = metadata.get("int8_quality")
    if not raw:
        return None
    try:
        verdict = json.loads(raw).get("within_goals")
    except (ValueError, AttributeError):
        return None
    return verdict if isinstance(verdict, bool) else None


def choose(
    mode: str,
    int8_found: bool,
    on_cpu: bool,
    quality_ok: bool | None,
    fp32_ms: float | None,
    int8_ms: float | None,
    min_speedup: float = MIN_SPEEDUP,
) -> PrecisionChoice:
    """fp32 or int8, and why, in words for the log."""
    if mode not in INT8_MODES:
        raise ValueError(f"model.int8 must be one of {INT8_MODES}, got {mode!r}")
    if mode == "off":
        return PrecisionChoice("fp32", "model.int8 = off")
    if not int8_found:
        return PrecisionChoice("fp32", "no int8 copy beside the model (make one with `run.py quantize`)")
    if not on_cpu:
        return PrecisionChoice("fp32", "inference runs on a GPU: int8 is for the CPU tier")
    if mode == "on":
        return PrecisionChoice("int8", "forced by model.int8 = on")
    if quality_ok is None:
        return PrecisionChoice(
            "fp32", "the int8 copy's quality against fp32 was never measured (run.py quantize --data)"
        )
    if not quality_ok:
        return PrecisionChoice("fp32", "the int8 copy's quality loss is outside the goals")
    if fp32_ms is None or int8_ms is None or int8_ms <= 0:
        return PrecisionChoice("fp32", "no timing of both copies")
    speedup = fp32_ms / int8_ms
    timing = f"int8 {int8_ms:.1f} ms vs fp32 {fp32_ms:.1f} ms a call here"
    if speedup < min_speedup:
        return PrecisionChoice("fp32", f"int8 is not faster enough on this machine ({timing})")
    return PrecisionChoice("int8", f"{speedup:.2f}× faster with quality within the goals ({timing})")
