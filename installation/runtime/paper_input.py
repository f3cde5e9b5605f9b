"""Paper under the camera → sketches for the pipeline, in a worker of its own (the display never waits on it).

With a venue profile's paper section the frame is undistorted, the sheet found and rectified (calibration's
PaperRectifier); without one, the uncalibrated centre-crop path. A sketch that differs from the last one handed
on by no more than camera noise (0.1 % of its pixels) is not handed on, so a still sheet costs no inference.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import cv2
import numpy as np

from installation.core.frames import CameraFrame
from installation.core.slots import LatestSlot

if TYPE_CHECKING:
    from calibration.profile import Profile

log = logging.getLogger(__name__)


class PaperSketchWorker(threading.Thread):
    """camera frames (slot) → (read time, sketch uint8 size², 255 paper / 0 ink) (slot)."""

    def __init__(
        self,
        frames: LatestSlot[CameraFrame],
        out: LatestSlot[tuple[float, np.ndarray]],
        stop: threading.Event,
        to_sketch: Callable[[np.ndarray], np.ndarray | None],
        size: int,
    ) -> None:
        super().__init__(name="paper", daemon=True)
        self.frames, self.out, self.stop = frames, out, stop
        self.to_sketch, self.size = to_sketch, size
        # camera noise flips a few edge pixels from frame to frame; compared with the last sketch handed on,
        # so a small new stroke still adds up and goes through
        self.tolerance_px = max(16, int(0.001 * size * size))
        self.unchanged = 0
        self.no_paper = 0
        self.error: BaseException | None = None
        self._last: np.ndarray | None = None

    def run(self) -> None:
        try:
            self.serve(self.stop, lambda: None)
        except Exception as e:  # noqa: BLE001 - unsupervised use: kept for the caller to see
            log.exception("paper input failed")
            self.error = e

    def serve(self, stop: threading.Event, beat: Callable[[], None]) -> None:
        """The loop; under the show's Supervisor an exception here restarts it with back-off."""
        while not stop.is_set():
            beat()
            frame = self.frames.take(timeout=0.2)
            if frame is None:
                continue
            sketch = self.to_sketch(frame.image)
            if sketch is None:
                self.no_paper += 1
                continue
            if sketch.shape != (self.size, self.size):
                sketch = cv2.resize(sketch, (self.size, self.size), interpolation=cv2.INTER_AREA)
            if self._last is not None and np.count_nonzero(sketch != self._last) <= self.tolerance_px:
                self.unchanged += 1
                continue
            self._last = sketch
            self.out.put((frame.t, sketch))


def sketcher_from_profile(profile: Profile | None, size: int) -> Callable[[np.ndarray], np.ndarray | None]:
    """The frame → sketch function: calibrated when the venue profile has a paper section."""
    from installation.adapters.camera import frame_to_sketch

    if profile is not None and profile.paper is not None:
        from calibration.paper import rectifier_for

        rect = rectifier_for(profile.paper, profile.camera, 2 * size)
        log.info(
            "camera input: paper rectified (%s markers, %s)",
            "with" if profile.paper.markers else "no",
            "undistorted" if profile.camera is not None else "camera not calibrated",
        )
        return rect.sketch
    log.info("camera input: uncalibrated centre crop (calibrate paper --profile for the rectified sheet)")
    return lambda image: frame_to_sketch(image, size)
