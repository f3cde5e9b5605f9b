"""Faces in camera frames: OpenCV's bundled haar cascade, the choice among several faces, the verdict for the
sitter state machine (usable, too small, too dark) and the square crop the sketcher draws from.

Everything ships with opencv-python (cv2.data.haarcascades); nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.core.errors import UserError
from installation.core.sitter import Observation

CASCADE = "haarcascade_frontalface_default.xml"
DETECT_WIDTH = 320  # frames are searched at this width (faster; faces of a sitter are large)

Box = tuple[int, int, int, int]  # x, y, w, h in frame pixels


@dataclass(frozen=True)
class Verdict:
    observation: Observation
    box: Box | None  # the chosen face (even when too small or too dark), None when no face
    boxes: tuple[Box, ...]


class FaceDetector:
    def __init__(self) -> None:
        path = Path(cv2.data.haarcascades) / CASCADE
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise UserError(f"OpenCV's face cascade {path} is missing: reinstall opencv-python 4.x (see README)")

    def detect(self, bgr: np.ndarray) -> list[Box]:
        """All frontal faces in a BGR (H, W, 3) or grey frame, in frame pixels."""
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
        k = min(1.0, DETECT_WIDTH / gray.shape[1])
        small = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else gray
        small = cv2.equalizeHist(small)  # the cascade wants contrast; brightness is judged apart
        found = self.cascade.detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        return [tuple(int(round(v / k)) for v in f) for f in found]  # type: ignore[misc]


def choose(boxes: list[Box], frame_wh: tuple[int, int], rule: str) -> Box | None:
    """The sitter among several faces: largest (= closest, for one camera) or nearest the frame centre."""
    if not boxes:
        return None
    if rule == "center":
        cx, cy = frame_wh[0] / 2, frame_wh[1] / 2
        return min(boxes, key=lambda b: (b[0] + b[2] / 2 - cx) ** 2 + (b[1] + b[3] / 2 - cy) ** 2)
    return max(boxes, key=lambda b: b[2] * b[3])


def brightness(bgr: np.ndarray, box: Box) -> float:
    """Mean grey level (0..255) inside the face box."""
    x, y, w, h = box
    roi = bgr[max(0, y) : y + h, max(0, x) : x + w]
    gray = cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY) if roi.ndim == 3 else roi
    return float(gray.mean()) if gray.size else 0.0


def judge(detector: FaceDetector, bgr: np.ndarray, t: float, rule: str, min_face: float, dark_below: float) -> Verdict:
    """One frame → an Observation for the state machine, plus the chosen face."""
    h, w = bgr.shape[:2]
    if float(bgr.mean()) < dark_below * 0.5:  # a nearly black frame: the cascade finds nothing in it anyway
        return Verdict(Observation(t, 0, "too_dark"), None, ())
    boxes = detector.detect(bgr)
    box = choose(boxes, (w, h), rule)
    if box is None:
        return Verdict(Observation(t, 0, "no_face"), None, ())
    problem = ""
    if box[2] < min_face * min(w, h):
        problem = "too_small"
    elif brightness(bgr, box) < dark_below:
        problem = "too_dark"
    return Verdict(Observation(t, len(boxes), problem), box, tuple(boxes))


def crop_face(bgr: np.ndarray, box: Box, size: int = 256, scale: float = 1.8) -> np.ndarray:
    """A square grey crop around the face, head and a little shoulder: (size, size) uint8.

    The square is `scale` face widths wide, centred a little below the box centre (the cascade's box stops at
    the chin and the forehead); parts outside the frame are filled by repeating the edge.
    """
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    x, y, w, h = box
    side = int(round(w * scale))
    cx, cy = x + w / 2, y + h * 0.58
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    pad = side
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = padded[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_CUBIC)
