"""Paper under the camera → the canvas: find the paper, rectify it, binarise the ink, ignore the hand.

`PaperRectifier.sketch(frame)` is stateful across frames: corners are locked while the camera is still (they
only move when the detection moves by more than `lock_px` for `confirm` frames in a row), so the rectified
image does not jitter; a large dark blob (a hand, a sleeve) is replaced by the ink last seen there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from calibration.markers import detect_paper_corners


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Four points ordered TL, TR, BR, BL."""
    pts = np.asarray(pts, float).reshape(4, 2)
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]])


def find_paper_quad(gray: np.ndarray, min_area: float = 0.08) -> np.ndarray | None:
    """The largest bright convex quadrilateral (the paper without markers), refined to sub-pixel corners."""
    blur = cv2.GaussianBlur(gray, (5, 5), 0)
    _, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))  # ink lines inside the paper
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    best, best_area = None, min_area * gray.size
    for c in contours:
        area = cv2.contourArea(c)
        if area < best_area:
            continue
        quad = cv2.approxPolyDP(c, 0.02 * cv2.arcLength(c, True), True)
        if len(quad) == 4 and cv2.isContourConvex(quad):
            best, best_area = quad.reshape(4, 2).astype(float), area
    if best is None:
        return None
    return order_corners(_refine(gray, best))


def _refine(gray: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Fit a line to each paper edge (points sampled along the contour's edges) and intersect neighbours."""
    edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 30, 90)
    ys, xs = np.nonzero(edges)
    pts = np.stack([xs, ys], 1).astype(float)
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        ab = b - a
        n = np.array([-ab[1], ab[0]]) / (np.hypot(*ab) + 1e-9)
        t = ((pts - a) @ ab) / (ab @ ab)
        near = (np.abs((pts - a) @ n) < 4) & (t > 0.1) & (t < 0.9)
        if near.sum() < 10:
            return quad
        vx, vy, x0, y0 = cv2.fitLine(pts[near].astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    out = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        m = np.array([d1, -d2]).T
        if abs(np.linalg.det(m)) < 1e-9:
            return quad
        s = np.linalg.solve(m, p2 - p1)
        out.append(p1 + s[0] * d1)
    return np.array(out)


def binarise(rectified_gray: np.ndarray) -> np.ndarray:
    """Ink (0) on paper (255), robust to uneven light: divide by a large-blur estimate of the paper's light."""
    g = rectified_gray.astype(np.float32)
    k = max(15, (rectified_gray.shape[0] // 12) | 1)
    bg = cv2.dilate(g, np.ones((7, 7), np.uint8))  # remove thin ink before estimating the light
    bg = cv2.GaussianBlur(bg, (k, k), 0)
    ratio = g / np.maximum(bg, 1.0)
    return np.where(ratio < 0.72, 0, 255).astype(np.uint8)


@dataclass
class PaperRectifier:
    canvas: int = 256
    lock_px: float = 1.0
    confirm: int = 3
    hand_fraction: float = 0.01  # dark blobs larger than this share of the canvas are a hand, not ink
    corners: np.ndarray | None = None
    _pending: list[np.ndarray] = field(default_factory=list)
    _last: np.ndarray | None = None

    def detect(self, gray: np.ndarray) -> np.ndarray | None:
        found = detect_paper_corners(gray)
        return found if found is not None else find_paper_quad(gray)

    def _update_corners(self, found: np.ndarray | None) -> None:
        if found is None:
            return
        if self.corners is None:
            self.corners = found
            return
        if np.abs(found - self.corners).max() <= self.lock_px:
            self._pending.clear()
            return
        self._pending.append(found)
        if len(self._pending) >= self.confirm:  # it really moved: follow it
            self.corners = np.median(np.array(self._pending), axis=0)
            self._pending.clear()

    def sketch(self, frame_bgr: np.ndarray) -> np.ndarray | None:
        gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY) if frame_bgr.ndim == 3 else frame_bgr
        self._update_corners(self.detect(gray))
        if self.corners is None:
            return None
        s = self.canvas
        dst = np.array([[0, 0], [s, 0], [s, s], [0, s]], np.float32)
        h = cv2.getPerspectiveTransform(self.corners.astype(np.float32), dst)
        rect = cv2.warpPerspective(gray, h, (s, s), flags=cv2.INTER_AREA, borderValue=255)
        ink = binarise(rect)
        return self._mask_hand(ink)

    def _mask_hand(self, ink: np.ndarray) -> np.ndarray:
        n, labels, stats, _ = cv2.connectedComponentsWithStats((ink == 0).astype(np.uint8), connectivity=8)
        big = np.zeros(ink.shape, bool)
        for i in range(1, n):
            x, y, w, h, area = stats[i]
            solid = area / max(1, w * h)
            if area > self.hand_fraction * ink.size and solid > 0.35:  # a filled blob, not a long thin line
                big |= labels == i
        if big.any():
            big = cv2.dilate(big.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
            ink = ink.copy()
            ink[big] = self._last[big] if self._last is not None else 255
        self._last = ink
        return ink
