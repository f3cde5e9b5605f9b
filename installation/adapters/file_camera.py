"""A fake camera for sitter mode without hardware: replays an image or a video file as camera frames.

An image is shown for `present_s` seconds (the sitter sits), then an empty grey wall (the sitter leaves); a
video plays once at its own frame rate, then the empty wall. Frames go into the same one-slot hand-off a
real CameraWorker fills, at about camera rate.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

from installation.core.errors import UserError
from installation.core.frames import CameraFrame
from installation.core.slots import LatestSlot

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
WALL_BGR = (120, 124, 128)


class FileCamera(threading.Thread):
    def __init__(
        self,
        path: Path,
        frames: LatestSlot[CameraFrame],
        stop: threading.Event,
        present_s: float | None = None,
        fps: float = 30.0,
    ) -> None:
        super().__init__(name="file-camera", daemon=True)
        self.path = Path(path)
        self.frames = frames
        self.stop = stop
        self.present_s = present_s
        self.fps = fps
        self.seq = 0
        self.left = False  # True once the sitter has "left" (the file is over)
        if not self.path.is_file():
            raise UserError(f"sitter input {self.path} does not exist: give an image or a video file")
        self.image: np.ndarray | None = None
        self.cap: cv2.VideoCapture | None = None
        if self.path.suffix.lower() in IMAGE_SUFFIXES:
            from installation.core.image_files import image_size

            image_size(self.path, "sitter image", unreadable_ok=True)  # a huge one is refused before decoding
            self.image = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
            if self.image is None or min(self.image.shape[:2]) < 32:
                raise UserError(f"sitter image {self.path} cannot be read or is tiny: use a PNG/JPEG photograph")
        else:
            self.cap = cv2.VideoCapture(str(self.path))
            ok, first = self.cap.read() if self.cap.isOpened() else (False, None)
            if not ok:
                self.cap.release()
                raise UserError(f"sitter video {self.path} cannot be read by OpenCV: convert it to MP4/H.264")
            self.image = first
            self.fps = self.cap.get(cv2.CAP_PROP_FPS) or fps

    def _wall(self) -> np.ndarray:
        assert self.image is not None
        return np.full_like(self.image, WALL_BGR)

    def run(self) -> None:
        t0 = time.monotonic()
        frame = self.image
        while not self.stop.is_set():
            now = time.monotonic()
            if self.cap is not None and not self.left:
                if self.seq > 0:
                    ok, nxt = self.cap.read()
                    if ok:
                        frame = nxt
                    else:
                        self.left = True
            elif self.present_s is not None and now - t0 >= self.present_s:
                self.left = True
            if self.left:
                frame = self._wall()
            self.seq += 1
            assert frame is not None
            self.frames.put(CameraFrame(self.seq, now, frame))
            self.stop.wait(1.0 / self.fps)
        if self.cap is not None:
            self.cap.release()
