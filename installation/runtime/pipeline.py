"""The inference worker: owns the model session, turns the newest sketch into the newest AI image.

In: a LatestSlot[SketchFrame] the main thread fills when the canvas changes. Out: a LatestSlot[AIFrame] the
renderer polls. A sketch whose sequence number (or pixels) equals the last one answered is skipped, so an
idle canvas costs no inference. One stop event ends it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from installation.core.frames import AIFrame, SketchFrame
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)


class ImageModel(Protocol):
    """What the worker needs of a model: the runtime's Model satisfies it."""

    provider: str
    name: str

    def run(self, sketch: np.ndarray) -> np.ndarray:  # (S, S) uint8 → (S, S, 3) uint8
        ...


class InferenceWorker(threading.Thread):
    def __init__(
        self,
        model: ImageModel,
        sketches: LatestSlot[SketchFrame],
        answers: LatestSlot[AIFrame],
        stop: threading.Event,
    ) -> None:
        super().__init__(name="inference", daemon=True)
        self.model = model
        self.sketches = sketches
        self.answers = answers
        self.stop = stop
        self.calls = 0
        self.skipped = 0
        self.error: BaseException | None = None
        self._last_seq = -1
        self._last_image: np.ndarray | None = None

    def swap(self, model: ImageModel) -> None:
        """Answer with `model` from the next call on (built elsewhere); the current sketch is answered again."""
        self.model = model
        self._last_seq, self._last_image = -1, None

    def run(self) -> None:
        """Unsupervised use (tests, benchmarks): the first failure is kept in `error` for the caller."""
        try:
            self.serve(self.stop, lambda: None)
        except BaseException as e:  # surfaced by the caller, which decides what to do
            log.exception("inference worker failed")
            self.error = e

    def serve(self, stop: threading.Event, beat: Callable[[], None]) -> None:
        """The worker loop; raises on failure (the supervisor restarts it, the model session is kept)."""
        while not stop.is_set():
            beat()
            frame = self.sketches.take(timeout=0.05)
            if frame is None:
                continue
            if frame.seq == self._last_seq or (
                self._last_image is not None and np.array_equal(frame.image, self._last_image)
            ):
                self.skipped += 1
                continue
            t0 = time.perf_counter()
            image = self.model.run(frame.image)
            ms = (time.perf_counter() - t0) * 1000.0
            self.calls += 1
            self._last_seq, self._last_image = frame.seq, frame.image
            self.answers.put(AIFrame(frame.seq, frame.pen_t, image, ms, time.monotonic()))
