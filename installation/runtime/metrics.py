"""Measured figures of a running show: frame times, pen-to-photon latency, inference time.

Rolling windows feed the HUD; whole-run rings (fixed size) feed the summary written to metrics.json.
A ring's memory is allocated once and reading its newest values costs the same after a minute or a whole day
(a bounded deque copied to a list every frame cost 6.6 ms a frame once full: 2.3 hours into a 60 fps day).
"""

from __future__ import annotations

import time

import numpy as np

from installation.runtime.started import interpreter_start

MAX_SAMPLES = 500_000  # per ring: 4 MB of float64 allocated up front, so a whole gallery day cannot grow memory


class Ring:
    """The newest `size` floats, in a preallocated array; `np.asarray(ring)` gives them oldest first."""

    def __init__(self, size: int = MAX_SAMPLES) -> None:
        self._a = np.full(size, np.nan)  # touched now: resident memory does not creep up as the ring fills
        self._n = 0  # values ever appended

    def append(self, value: float) -> None:
        self._a[self._n % len(self._a)] = value
        self._n += 1

    def __len__(self) -> int:
        return min(self._n, len(self._a))

    @property
    def total(self) -> int:
        """Values ever appended (the ring keeps the newest `size`)."""
        return self._n

    def last(self, k: int) -> np.ndarray:
        """The newest min(k, len) values, oldest first."""
        k = min(k, len(self))
        end = self._n % len(self._a)
        if k <= end:
            return self._a[end - k : end].copy()
        return np.concatenate([self._a[len(self._a) - (k - end) :], self._a[:end]])

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        out = self.last(len(self))
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, i: int) -> float:
        if i != -1 or not len(self):
            raise IndexError("a Ring gives only its newest value ([-1]); use last(k) or np.asarray")
        return float(self._a[(self._n - 1) % len(self._a)])


def _pct(values: Ring, q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 2) if len(values) else 0.0


class MetricsRecorder:
    def __init__(self) -> None:
        self.flips = Ring()
        self.latency_ms = Ring()
        self.inference_ms = Ring()
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
        recent = self.flips.last(window)
        span = recent[-1] - recent[0]
        return (len(recent) - 1) / span if span > 0 else 0.0

    def recent_latency(self) -> float:
        return self.latency_ms[-1] if len(self.latency_ms) else 0.0

    def recent_inference(self) -> float:
        return self.inference_ms[-1] if len(self.inference_ms) else 0.0

    def summary(self, elapsed_s: float) -> dict[str, object]:
        flips = np.asarray(self.flips)
        frame_ms = np.diff(flips) * 1000.0 if len(flips) > 1 else np.zeros(0)
        return {
            "seconds": round(elapsed_s, 2),
            "frames": self.flips.total,
            "fps": round(self.flips.total / elapsed_s, 2) if elapsed_s > 0 else 0.0,
            "ai_updates": self.ai_frames,
            "ai_updates_per_s": round(self.ai_frames / elapsed_s, 2) if elapsed_s > 0 else 0.0,
            "pen_events": self.pen_events,
            "latency_ms": {
                "p50": _pct(self.latency_ms, 50),
                "p95": _pct(self.latency_ms, 95),
                "max": round(float(np.asarray(self.latency_ms).max()), 2) if len(self.latency_ms) else 0.0,
            },
            "inference_ms": {"p50": _pct(self.inference_ms, 50), "p95": _pct(self.inference_ms, 95)},
            "frame_ms": {
                "p50": round(float(np.percentile(frame_ms, 50)), 2) if len(frame_ms) else 0.0,
                "p95": round(float(np.percentile(frame_ms, 95)), 2) if len(frame_ms) else 0.0,
                "max": round(float(frame_ms.max()), 2) if len(frame_ms) else 0.0,
            },
            # seconds from the interpreter's start (run.py's note; not counting a set-up script before the exec)
            "first_frame_s": round(self.first_flip_wall - interpreter_start(), 2) if self.first_flip_wall else None,
        }
