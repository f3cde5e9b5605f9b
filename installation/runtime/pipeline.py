"""The inference worker: owns the model session, turns the newest sketch into the newest AI image.

In: a LatestSlot[SketchFrame] the main thread fills when the canvas changes. Out: a LatestSlot[AIFrame] the
renderer polls. A sketch whose sequence number (or pixels) equals the last one answered is skipped, so an
idle canvas costs no inference. One stop event ends it.

With steadiness on (core/steady, `display.steady_s`), what is handed on is the shown image: the newest answer
taken at once near the ink that changed; elsewhere held while the ink keeps changing (and `display.steady_hold_s`
after), then glided towards it. While the shown image has not yet settled
onto the newest answer, the worker hands on a glide step every SETTLE_EVERY_S without calling the model
(`settling` frames, which carry no new pen event and so no latency).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from installation.core import steady
from installation.core.frames import AIFrame, SketchFrame
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)
SETTLE_EVERY_S = 0.05  # glide steps while the canvas rests (20 a second)


def display_steadiness(config: Callable[[], Any]) -> Callable[[], steady.Steadiness]:
    """Steadiness from the running show's config (read at every answer, so `/param display.steady_s` applies)."""
    return lambda: steady.from_display(config().display)


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
        steadiness: Callable[[], steady.Steadiness] | None = None,
    ) -> None:
        super().__init__(name="inference", daemon=True)
        self.model = model
        self.sketches = sketches
        self.answers = answers
        self.stop = stop
        self.steadiness = steadiness or (lambda: steady.OFF)  # read at every answer: /param takes effect at once
        self.calls = 0
        self.skipped = 0
        self.settling_frames = 0
        self.error: BaseException | None = None
        self._last_seq = -1
        self._last_image: np.ndarray | None = None
        self._last: AIFrame | None = None  # the newest answer as the model gave it
        self._shown: np.ndarray | None = None  # (S, S, 3) float32: what was last handed on, while steadying
        self._shown_t = 0.0
        self._changed_t = 0.0  # when an answer last came for changed ink (the far field holds after it)

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
            frame = self.sketches.take(timeout=SETTLE_EVERY_S)
            if frame is None:
                self._settle()
                continue
            if frame.seq == self._last_seq or (
                self._last_image is not None and np.array_equal(frame.image, self._last_image)
            ):
                self.skipped += 1
                self._settle()
                continue
            t0 = time.perf_counter()
            image = self.model.run(frame.image)
            ms = (time.perf_counter() - t0) * 1000.0
            self.calls += 1
            answer = AIFrame(frame.seq, frame.pen_t, image, ms, time.monotonic())
            shown = self._steady(frame.image, answer)
            self._last_seq, self._last_image, self._last = frame.seq, frame.image, answer
            self.answers.put(answer if shown is None else replace(answer, image=shown, answer=image))

    def _steady(self, sketch: np.ndarray, answer: AIFrame) -> np.ndarray | None:
        """The image to show for a new answer (uint8), or None to show the answer as it is (steadiness off)."""
        s = self.steadiness()
        if not s.on:
            self._shown = None
            return None
        rested = steady.rested_s(self._shown_t, answer.done_t, self._changed_t, s)
        if self._shown is not None and self._last is not None and rested > 0:  # glide to the previous answer
            self._shown = steady.glide(self._shown, self._last.image, rested, s)
        # after a swap there is no last sketch: everything changed, the new model's answer is shown at once
        changed = steady.changed_ink(self._last_image, sketch)
        self._shown = steady.arrive(self._shown, answer.image, steady.near_weight(changed, s))
        self._shown_t = answer.done_t
        if changed.any():
            self._changed_t = answer.done_t
        return steady.to_uint8(self._shown)

    def _settle(self) -> None:
        """One glide step towards the newest answer while the canvas rests; the answer itself once settled."""
        last = self._last
        if last is None or self._shown is None or np.array_equal(self._shown, last.image):  # none, or settled
            return
        now = time.monotonic()
        s = self.steadiness()
        rested = steady.rested_s(self._shown_t, now, self._changed_t, s)
        if s.on and not rested:  # still holding: nothing to glide, nothing new to show
            return
        self._shown = steady.glide(self._shown, last.image, rested, s)
        self._shown_t = now
        done = not s.on or steady.settled(self._shown, last.image)
        image = last.image if done else steady.to_uint8(self._shown)
        if done:
            self._shown = last.image.astype(np.float32)
        self.settling_frames += 1
        self.answers.put(replace(last, image=image, inference_ms=0.0, done_t=now, settling=True, answer=last.image))
