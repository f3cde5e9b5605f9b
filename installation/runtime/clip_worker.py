"""Scores the newest AI image against the current prompt with CLIP, at most `hz` times a second.

The main thread `offer`s (image, prompt) whenever either changes (a one-slot latest-value hand-off, never a
queue); the worker owns the ONNX Runtime sessions, scores the newest pair and leaves the result in `latest`.
A missing or broken CLIP export is logged once and reported in `error`; the show goes on without a score.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from installation.core.errors import UserError
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipScore:
    prompt: str
    cosine: float
    t: float  # monotonic time of the score

    def hud_line(self) -> str:
        return f'CLIP {self.cosine:+.3f}  "{self.prompt[:60]}"'


class ClipScoreWorker(threading.Thread):
    def __init__(self, folder: Path, hz: float, threads: int, stop: threading.Event, int8: str = "auto") -> None:
        super().__init__(name="clip-score", daemon=True)
        self.int8 = int8
        self.folder, self.period, self.threads, self.stop = folder, 1.0 / hz, threads, stop
        self.inbox: LatestSlot[tuple[np.ndarray, str]] = LatestSlot()
        self.latest: LatestSlot[ClipScore] = LatestSlot()
        self.error = ""
        self.calls = 0
        self._offered: tuple[int, str] | None = None

    def offer(self, image: np.ndarray, prompt: str) -> None:
        """(H, W, 3) uint8 RGB and the prompt; ignored if neither changed since the last offer."""
        key = (id(image), prompt)
        if key != self._offered:
            self._offered = key
            self.inbox.put((image, prompt))

    def run(self) -> None:
        from installation.runtime.clip_score import ClipScorer
        from installation.runtime.inference import RuntimeSettings

        try:
            settings = RuntimeSettings(providers=("cpu",), intra_op_threads=self.threads)
            scorer = ClipScorer(self.folder, settings, self.int8)
        except UserError as e:
            self.error = str(e)
            log.error("CLIP scoring is off: %s", e)
            return
        log.info("CLIP scoring with %s (%d² images) at ≤ %.1f Hz", scorer.name, scorer.image_size, 1 / self.period)
        while not self.stop.is_set():
            item = self.inbox.take(timeout=0.25)
            if item is None:
                continue
            image, prompt = item
            t0 = time.monotonic()
            cosine = float(scorer.score(image, [prompt])[0]) if prompt.strip() else 0.0
            self.calls += 1
            self.latest.put(ClipScore(prompt, cosine, time.monotonic()))
            self.stop.wait(max(0.0, self.period - (time.monotonic() - t0)))
