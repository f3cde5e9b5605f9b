"""Measured figures of a running show: frame times, pen-to-photon latency, inference time.

Rolling windows feed the HUD; whole-run lists (bounded) feed the summary written to metrics.json.
"""

from __future__ import annotations

import os
import time
from collections import deque

import numpy as np

MAX_SAMPLES = 500_000  # a bound, so a whole gallery day cannot grow memory without limit


def _pct(values: deque[float] | list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 2) if values else 0.0


class MetricsRecorder:
    def __init__(self) -> None:
        self.flips: deque[float] = deque(maxlen=MAX_SAMPLES)
        self.latency_ms: deque[float] = deque(maxlen=MAX_SAMPLES)
        self.inference_ms: deque[float] = deque(maxlen=MAX_SAMPLES)
        self.ai_frames = 0
        self.pen_events = 0
        self.first_flip_wall: float | None = None

    def frame(self, flip_t: float) -> None:
        if self.first_flip_wall is None:
            self.first_flip_wall = time.time()
        self.flips.append(flip_t)

    def ai_shown(self, latency_s: float, inference_ms: float) -> None:
        self.ai_frames += 1
        self.latency_ms.append(latency_s * 1000.0)
        self.inference_ms.append(inference_ms)

    def recent_fps(self, window: int = 60) -> float:
        if len(self.flips) < 2:
            return 0.0
        recent = list(self.flips)[-window:]
        span = recent[-1] - recent[0]
        return (len(recent) - 1) / span if span > 0 else 0.0

    def recent_latency(self) -> float:
        return self.latency_ms[-1] if self.latency_ms else 0.0

    def recent_inference(self) -> float:
        return self.inference_ms[-1] if self.inference_ms else 0.0

    def summary(self, elapsed_s: float) -> dict[str, object]:
        flips = np.asarray(self.flips)
        frame_ms = np.diff(flips) * 1000.0 if len(flips) > 1 else np.zeros(0)
        return {
            "seconds": round(elapsed_s, 2),
            "frames": len(flips),
            "fps": round(len(flips) / elapsed_s, 2) if elapsed_s > 0 else 0.0,
            "ai_updates": self.ai_frames,
            "ai_updates_per_s": round(self.ai_frames / elapsed_s, 2) if elapsed_s > 0 else 0.0,
            "pen_events": self.pen_events,
            "latency_ms": {
                "p50": _pct(self.latency_ms, 50),
                "p95": _pct(self.latency_ms, 95),
                "max": round(max(self.latency_ms), 2) if self.latency_ms else 0.0,
            },
            "inference_ms": {"p50": _pct(self.inference_ms, 50), "p95": _pct(self.inference_ms, 95)},
            "frame_ms": {
                "p50": _pct(list(frame_ms), 50),
                "p95": _pct(list(frame_ms), 95),
                "max": round(float(frame_ms.max()), 2) if len(frame_ms) else 0.0,
            },
            "first_frame_s": round(self.first_flip_wall - _process_start(), 2) if self.first_flip_wall else None,
        }


def _process_start() -> float:
    import psutil

    return psutil.Process(os.getpid()).create_time()
