"""Frames handed between the pipeline's threads. Frozen: once handed over, nobody mutates them.

Every frame carries the sequence number of the canvas state it shows and `pen_t`, the monotonic time of
the newest pen event it reflects, so the renderer measures pen-to-photon latency instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class SketchFrame:
    seq: int  # canvas version this raster shows
    pen_t: float  # time.monotonic() of the newest pen event in it
    image: np.ndarray  # (H, W) uint8, 255 paper, 0 ink, at the model's input size


@dataclass(frozen=True, slots=True)
class AIFrame:
    seq: int  # canvas version the model answered
    pen_t: float  # pen_t of the SketchFrame it answered
    image: np.ndarray  # (H, W, 3) uint8 RGB
    inference_ms: float  # wall time of the model call alone
    done_t: float  # time.monotonic() when the answer was ready
    settling: bool = False  # a far-field glide step between answers (core/steady): no new pen event, no latency
    answer: np.ndarray | None = None  # the model's own answer when `image` is its steadied view (core/steady)

    @property
    def model_image(self) -> np.ndarray:
        """What the model answered (archived and saved), whatever the screen shows while it settles."""
        return self.image if self.answer is None else self.answer


@dataclass(frozen=True, slots=True)
class CameraFrame:
    seq: int  # frame counter of the capture adapter (restarts never reuse a number)
    t: float  # time.monotonic() when the frame was read
    image: np.ndarray  # (H, W, 3) uint8 BGR, as OpenCV delivers it
