"""Camera capture: a worker that owns one OpenCV VideoCapture and hands out the newest frame.

The source is a camera index ("0") or a video file. Frames carry their read time; a camera that stops
delivering is reopened with back-off, never taking the display down. A video file loops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from installation.core.errors import UserError
from installation.core.frames import CameraFrame
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)


NDI_PREFIX = "ndi:"  # "ndi:NAME": the NDI source whose name contains NAME (a rig's camera feed; adapters/ndi.py)


def _is_file(source: int | str) -> bool:
    return isinstance(source, str) and not source.startswith(NDI_PREFIX)


def parse_source(source: str, option: str | None = None) -> int | str:
    """'0' → camera index 0; 'ndi:NAME' → an NDI source; anything else is a video file path that must exist.

    `option`: the command-line option the source came from (e.g. "--live"), named in the error; None: the
    config's input.camera."""
    if source.strip().isdigit():
        return int(source)
    if source.startswith(NDI_PREFIX) and source[len(NDI_PREFIX) :].strip():
        return source
    if not Path(source).is_file():
        raise UserError(f"{option or 'camera source'} {source!r} is neither a camera index nor an existing video file")
    return source


def open_capture(source: int | str, option: str | None = None) -> Any:
    if isinstance(source, str) and source.startswith(NDI_PREFIX):
        from installation.adapters.ndi_camera import open_ndi

        return open_ndi(source[len(NDI_PREFIX) :])
    cap = cv2.VideoCapture(source)
    if not cap.isOpened():
        cap.release()
        if isinstance(source, int):
            fix = f"give {option} another" if option else "set input.camera to another"
            raise UserError(
                f"camera index {source} cannot be opened: check it is plugged in, or {fix} index or a video file"
            )
        raise UserError(f"video file {source} cannot be opened by OpenCV: convert it to MP4/H.264 or AVI")
    return cap


class CameraWorker(threading.Thread):
    """Reads frames into `frames` until `stop` is set; reconnects with back-off when reads fail.

    `opener(source)` returns an object with OpenCV's read()/set()/release(); tests pass a replaying fake that
    can be unplugged and replugged. `connected` says whether frames are flowing (for the status line).
    """

    def __init__(
        self,
        source: str,
        frames: LatestSlot[CameraFrame],
        stop: threading.Event,
        max_backoff_s: float = 5.0,
        opener: Callable[[int | str], Any] | None = None,
        option: str | None = None,
    ) -> None:
        super().__init__(name="camera", daemon=True)
        self.opener = opener or (lambda src: open_capture(src, option))
        self.source = parse_source(source, option) if opener is None else source
        self.frames = frames
        self.stop = stop
        self.max_backoff_s = max_backoff_s
        self.reconnects = 0
        self.seq = 0
        self.connected = True
        self._cap: Any = self.opener(self.source)  # fail fast at start-up

    def run(self) -> None:
        self.serve(self.stop, lambda: None)

    def serve(self, stop: threading.Event, beat: Callable[[], None]) -> None:
        """Frames until `stop`. Each run owns its capture handle (the one opened at start-up, or its own), so a
        run that the supervisor abandons while stuck in `read()` keeps its handle, and its replacement opens a
        fresh one; the stuck run releases its own if it ever returns."""
        backoff = 0.2
        cap, self._cap = self._cap, None
        try:
            while not stop.is_set():
                beat()
                if cap is None:
                    try:
                        cap = self.opener(self.source)
                        self.reconnects += 1
                        self.connected = True
                        log.info("camera %s reconnected", self.source)
                        backoff = 0.2
                    except UserError as e:
                        log.warning("%s; retrying in %.1f s", e, backoff)
                        stop.wait(backoff)
                        backoff = min(self.max_backoff_s, backoff * 2)
                        continue
                ok, image = cap.read()
                if not ok:
                    if _is_file(self.source):  # a video file: loop it
                        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                        ok, image = cap.read()
                    if not ok:
                        log.warning("camera %s stopped delivering frames; reopening", self.source)
                        self.connected = False
                        cap.release()
                        cap = None
                        continue
                self.seq += 1
                self.frames.put(CameraFrame(self.seq, time.monotonic(), image))
                if _is_file(self.source):
                    stop.wait(1 / 30)  # a file plays at about camera rate
        except BaseException:
            self.connected = False  # a failure inside the device: the restarted worker opens it afresh
            raise
        finally:
            if cap is not None:
                cap.release()


def frame_to_sketch(bgr: np.ndarray, size: int) -> np.ndarray:
    """A camera frame of a drawing → (size, size) uint8 sketch (255 paper, 0 ink).

    Centre square crop, adaptive threshold (robust to uneven light). Rectifying the paper with a homography
    belongs to calibration; this is the uncalibrated path.
    """
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    h, w = gray.shape
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop = cv2.resize(gray[y0 : y0 + side, x0 : x0 + side], (size, size), interpolation=cv2.INTER_AREA)
    block = max(3, (size // 16) | 1)
    ink = cv2.adaptiveThreshold(crop, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 12)
    return cv2.medianBlur(ink, 3)
