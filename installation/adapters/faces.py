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
EYES = "haarcascade_eye.xml"  # a face box must show at least one eye: the face cascade alone finds faces in clothes
DETECT_WIDTH = 320  # frames are searched at this width (faster; faces of a sitter are large)

Box = tuple[int, int, int, int]  # x, y, w, h in frame pixels


@dataclass(frozen=True)
class Verdict:
    observation: Observation
    box: Box | None  # the chosen face (even when too small or too dark), None when no face
    boxes: tuple[Box, ...]


class FaceDetector:
    def __init__(self, verify_eyes: bool = True) -> None:
        self.cascade = _cascade(CASCADE)
        self.eyes = _cascade(EYES) if verify_eyes else None

    def detect(self, bgr: np.ndarray) -> list[Box]:
        """All frontal faces in a BGR (H, W, 3) or grey frame, in frame pixels."""
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
        k = min(1.0, DETECT_WIDTH / gray.shape[1])
        small = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else gray
        small = cv2.equalizeHist(small)  # the cascade wants contrast; brightness is judged apart
        found = self.cascade.detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        boxes: list[Box] = [tuple(int(round(v / k)) for v in f) for f in found]  # type: ignore[misc]
        if self.eyes is not None:
            boxes = [b for b in boxes if self._has_eye(gray, b)]
        return boxes

    def _has_eye(self, gray: np.ndarray, box: Box) -> bool:
        """At least one eye in the upper part of the box, looked for at 120 px face width or more."""
        assert self.eyes is not None
        x, y, w, h = box
        upper = gray[max(0, y) : y + int(h * 0.62), max(0, x) : x + w]
        if upper.size == 0:
            return False
        if w < 120:
            upper = cv2.resize(upper, None, fx=120 / w, fy=120 / w, interpolation=cv2.INTER_LINEAR)
        upper = cv2.equalizeHist(upper)
        return len(self.eyes.detectMultiScale(upper, scaleFactor=1.1, minNeighbors=3, minSize=(12, 12))) > 0


def _cascade(name: str) -> cv2.CascadeClassifier:
    path = Path(cv2.data.haarcascades) / name
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise UserError(f"OpenCV's cascade {path} is missing: reinstall opencv-python 4.x (see README)")
    return cascade


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def choose(boxes: list[Box], frame_wh: tuple[int, int], rule: str, prefer: Box | None = None) -> Box | None:
    """The sitter among several faces: the one followed so far (`prefer`, if still in view), else the largest
    (= closest, for one camera) or the one nearest the frame centre."""
    if not boxes:
        return None
    if prefer is not None:
        best = max(boxes, key=lambda b: overlap(b, prefer))
        if overlap(best, prefer) > 0.3:
            return best
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


def judge(
    detector: FaceDetector,
    bgr: np.ndarray,
    t: float,
    rule: str,
    min_face: float,
    dark_below: float,
    prefer: Box | None = None,
) -> Verdict:
    """One frame → an Observation for the state machine, plus the chosen face (`prefer`: the one followed)."""
    h, w = bgr.shape[:2]
    if float(bgr.mean()) < dark_below * 0.5:  # a nearly black frame: the cascade finds nothing in it anyway
        return Verdict(Observation(t, 0, "too_dark"), None, ())
    boxes = detector.detect(bgr)
    box = choose(boxes, (w, h), rule, prefer)
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
