"""Paper under the camera → the canvas: find the paper, rectify it, binarise the ink, ignore the hand.

`PaperRectifier.sketch(frame)` is stateful across frames: corners are locked while the camera is still (they
only move when the detection moves by more than `lock_px` for `confirm` frames in a row), so the rectified
image does not jitter; a large dark blob (a hand, a sleeve) is replaced by the ink last seen there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from calibration.camera import Intrinsics, undistort_maps
from calibration.markers import detect_paper_corners, marker_zones
from calibration.profile import CameraSection, PaperSection


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
        if len(quad) == 4 and cv2.isContourConvex(quad) and _inside(quad.reshape(4, 2), gray.shape, 2):
            best, best_area = quad.reshape(4, 2).astype(float), area
    if best is None or _contrast(gray, best) < 20:
        return None  # nothing, or a "sheet" no brighter than what surrounds it
    return order_corners(_refine(gray, best))


def _inside(quad: np.ndarray, shape: tuple[int, ...], margin: float) -> bool:
    """The whole sheet in view: a quad touching the frame's edge is cut off (or is the frame itself)."""
    h, w = shape[:2]
    return bool(
        (quad >= margin).all() and (quad[:, 0] <= w - 1 - margin).all() and (quad[:, 1] <= h - 1 - margin).all()
    )


def _contrast(gray: np.ndarray, quad: np.ndarray) -> float:
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(inside, quad.astype(np.int32), 1)
    ring = cv2.dilate(inside, np.ones((25, 25), np.uint8)) - inside
    if not ring.any():
        return 0.0
    return float(np.median(gray[inside > 0]) - np.median(gray[ring > 0]))


def _refine(gray: np.ndarray, quad: np.ndarray, reach: float = 6.0, samples: int = 80) -> np.ndarray:
    """Sub-pixel corners: along each edge, find where the intensity profile across it crosses half-way between
    desk and paper, fit a line to those crossings, and intersect neighbouring lines."""
    img = cv2.GaussianBlur(gray, (3, 3), 0).astype(np.float32)
    centre = quad.mean(axis=0)
    offsets = np.arange(-reach, reach + 0.01, 0.25, dtype=np.float32)  # along the normal, outside → inside
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        ab = b - a
        n = np.array([-ab[1], ab[0]]) / (np.hypot(*ab) + 1e-9)
        if (centre - a) @ n < 0:
            n = -n  # n points into the paper
        t = np.linspace(0.08, 0.92, samples)
        base = a + t[:, None] * ab  # (S, 2)
        pts = base[:, None, :] + offsets[None, :, None] * n  # (S, K, 2)
        prof = cv2.remap(img, pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32), cv2.INTER_LINEAR)
        lo, hi = np.percentile(prof, [10, 90], axis=1)  # (S,) each: desk and paper levels per profile
        mid = ((lo + hi) / 2)[:, None]
        above = prof >= mid  # (S, K)
        j = np.argmax(above, axis=1)  # first sample on the paper side
        ok = (hi - lo >= 20) & above.any(axis=1) & (j > 0)  # contrast here (not ink, shadow or off-image)
        if ok.sum() < 10:
            return quad
        rows = np.nonzero(ok)[0]
        jj = j[rows]
        p0, p1 = prof[rows, jj - 1], prof[rows, jj]
        frac = (mid[rows, 0] - p0) / np.maximum(p1 - p0, 1e-6)
        crossings = base[rows] + (offsets[jj - 1] + frac * 0.25)[:, None] * n
        vx, vy, x0, y0 = cv2.fitLine(crossings.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    out = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        m = np.array([d1, -d2]).T
        if abs(np.linalg.det(m)) < 1e-9:
            return quad
        s = np.linalg.solve(m, p2 - p1)
        out.append(p1 + s[0] * d1)
    refined = np.array(out)
    return refined if np.abs(refined - quad).max() < reach else quad


def binarise(rectified_gray: np.ndarray, threshold: float = 0.5, out_size: int | None = None) -> np.ndarray:
    """Ink (0) on paper (255), robust to uneven light and shadow.

    Each pixel is divided by a local estimate of the paper's light (thin ink removed by a dilation, then a wide
    blur); a pixel is ink where it keeps less than `threshold` of that light. With `out_size` the ratio is
    area-averaged down before thresholding (render at 2× then decide at 1×: line widths come out right).
    """
    g = rectified_gray.astype(np.float32)
    k = max(15, (rectified_gray.shape[0] // 12) | 1)
    bg = cv2.dilate(cv2.medianBlur(rectified_gray, 3), np.ones((7, 7), np.uint8))
    small = cv2.resize(bg, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA).astype(np.float32)
    small = cv2.GaussianBlur(small, ((k // 4) | 1, (k // 4) | 1), 0)  # the wide blur, at quarter size
    bg = cv2.resize(small, (g.shape[1], g.shape[0]), interpolation=cv2.INTER_LINEAR)
    ratio = g / np.maximum(bg, 1.0)
    if out_size is not None and out_size != ratio.shape[0]:
        ratio = cv2.resize(ratio, (out_size, out_size), interpolation=cv2.INTER_AREA)
    return np.where(ratio < threshold, 0, 255).astype(np.uint8)


def paper_box(canvas: int, paper_wh: tuple[float, float]) -> tuple[float, float, float, float]:
    """Where the paper lands in the square canvas, aspect kept and centred: (x0, y0, x1, y1)."""
    w, h = paper_wh
    scale = canvas / max(w, h)
    x0, y0 = (canvas - w * scale) / 2, (canvas - h * scale) / 2
    return x0, y0, x0 + w * scale, y0 + h * scale


def ink_region(canvas: int, paper_wh: tuple[float, float], markers: bool, border: int) -> np.ndarray:
    """Where ink can be on the canvas: the paper's box less a `border` band along its edge and, with markers, the
    marker squares. The rectifier and the accuracy benchmark's ground truth judge by this same rule."""
    x0, y0, x1, y1 = paper_box(canvas, paper_wh)
    keep = np.zeros((canvas, canvas), bool)
    keep[int(np.ceil(y0)) + border : int(y1) - border, int(np.ceil(x0)) + border : int(x1) - border] = True
    if markers:
        s = (x1 - x0) / paper_wh[0]  # the aspect is kept: one scale both ways
        for zx0, zy0, zx1, zy1 in marker_zones(paper_wh):
            keep[int(y0 + zy0 * s) : int(np.ceil(y0 + zy1 * s)), int(x0 + zx0 * s) : int(np.ceil(x0 + zx1 * s))] = False
    return keep


@dataclass
class PaperRectifier:
    """Camera frames → the visitor's sketch on the canvas (uint8, ink 0 on 255)."""

    canvas: int = 256
    paper_wh: tuple[float, float] = (1.0, 1.0)  # paper size in any unit (its aspect and the marker layout)
    markers: bool = True  # look for corner markers first; the bright quad is the fall-back
    intrinsics: Intrinsics | None = None  # undistort first when the camera is calibrated
    threshold: float = 0.5  # ink keeps less than half the paper's light (half-max: line widths preserved)
    lock_px: float = 1.0
    confirm: int = 3
    hand_fraction: float = 0.01  # dark blobs larger than this share of the canvas are a hand, not ink
    border: int = 2  # canvas pixels along the paper's edge that never count as ink
    detect_every: int = 3  # once locked, look for the sheet every n-th frame (it rarely moves)
    forget_after: int = 10  # detections in a row without the sheet before it counts as gone
    corners: np.ndarray | None = None
    _frames: int = 0
    _misses: int = 0
    _pending: list[np.ndarray] = field(default_factory=list)
    _last: np.ndarray | None = None
    _maps: tuple[np.ndarray, np.ndarray] | None = None
    _region: np.ndarray | None = None

    def undistort(self, gray: np.ndarray) -> np.ndarray:
        if self.intrinsics is None:
            return gray
        if self._maps is None or self._maps[0].shape[:2] != gray.shape[:2]:
            self._maps = undistort_maps(self.intrinsics, (gray.shape[1], gray.shape[0]))
        return cv2.remap(gray, self._maps[0], self._maps[1], cv2.INTER_LINEAR, borderValue=0)

    def detect(self, gray: np.ndarray) -> np.ndarray | None:
        found = detect_paper_corners(gray, self.paper_wh) if self.markers else None
        if found is not None:
            return _refine(gray, found)  # the sheet's own edges, where the desk shows them, beat extrapolation
        return find_paper_quad(gray)

    def _update_corners(self, found: np.ndarray | None) -> None:
        if found is None:  # covered for a moment, or taken away: forget it after `forget_after` misses
            self._misses += 1
            if self._misses >= self.forget_after:
                self.corners, self._last = None, None
                self._pending.clear()
            return
        self._misses = 0
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

    def sketch(self, frame: np.ndarray) -> np.ndarray | None:
        """The rectified, binarised sketch, or None while no paper has been seen."""
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        gray = self.undistort(gray)
        self._frames += 1
        if self.corners is None or self._pending or self._misses or self._frames % self.detect_every == 0:
            self._update_corners(self.detect(gray))
        if self.corners is None:
            return None
        ss = 2 * self.canvas  # render at 2×, decide ink at 1×
        rect = cv2.warpPerspective(gray, self._to_canvas(ss), (ss, ss), flags=cv2.INTER_LINEAR, borderValue=255)
        ink = binarise(rect, self.threshold, out_size=self.canvas)
        ink = self._blank_non_paper(ink)
        colour = self.undistort(frame) if frame.ndim == 3 else None
        small = cv2.warpPerspective(
            colour if colour is not None else gray, self._to_canvas(self.canvas), (self.canvas, self.canvas)
        )
        return self._mask_hand(ink, foreign_objects(small, self.hand_fraction))

    def _to_canvas(self, side: int) -> np.ndarray:
        assert self.corners is not None
        x0, y0, x1, y1 = paper_box(side, self.paper_wh)
        dst = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32) - 0.5  # edges → pixel centres
        return cv2.getPerspectiveTransform(self.corners.astype(np.float32), dst)

    def _blank_non_paper(self, ink: np.ndarray) -> np.ndarray:
        """Outside the paper, its edge and the marker squares is never ink."""
        if self._region is None or self._region.shape != ink.shape:  # fixed for a rectifier: made once
            self._region = ink_region(self.canvas, self.paper_wh, self.markers, self.border)
        out = np.full_like(ink, 255)
        out[self._region] = ink[self._region]
        return out

    def _mask_hand(self, ink: np.ndarray, foreign: np.ndarray) -> np.ndarray:
        """Where a hand or sleeve covers the sheet, keep the ink last seen there."""
        n, labels, stats, _ = cv2.connectedComponentsWithStats((ink == 0).astype(np.uint8), connectivity=8)
        big = foreign.copy()
        for i in range(1, n):
            x, y, w, h, area = stats[i]
            solid = area / max(1, w * h)
            if area > self.hand_fraction * ink.size and solid > 0.35:  # a filled dark blob, not a long thin line
                big |= labels == i
        if big.any():
            big = cv2.dilate(big.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
            ink = ink.copy()
            ink[big] = self._last[big] if self._last is not None else 255
        self._last = ink
        return ink


def rectifier_for(paper: PaperSection, camera: CameraSection | None, canvas: int) -> PaperRectifier:
    """The rectifier a venue profile describes: its paper settings, undistorted when the camera is calibrated."""
    intr = None
    if camera is not None:
        size = (int(camera.image_size[0]), int(camera.image_size[1]))
        intr = Intrinsics.known(camera.camera_matrix, camera.dist_coeffs, size, camera.rms)
    return PaperRectifier(canvas, (paper.paper_mm[0], paper.paper_mm[1]), paper.markers, intr, paper.threshold)


def paper_light(gray: np.ndarray, iterations: int = 4) -> np.ndarray:
    """The sheet's light as a smooth quadratic surface, fitted robustly (ink, hands and shadows left out)."""
    g = cv2.resize(gray, (48, 48), interpolation=cv2.INTER_AREA).astype(np.float64)
    ys, xs = np.mgrid[0:48, 0:48] / 47.0
    basis = np.stack([np.ones_like(xs), xs, ys, xs * ys, xs**2, ys**2], -1).reshape(-1, 6)  # (2304, 6)
    v = g.ravel()
    keep = v >= np.percentile(v, 30)
    coef = np.zeros(6)
    for _ in range(iterations):
        coef, *_ = np.linalg.lstsq(basis[keep], v[keep], rcond=None)
        keep = v >= 0.92 * (basis @ coef)
    light = (basis @ coef).reshape(48, 48).astype(np.float32)
    return cv2.resize(light, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)


def foreign_objects(rect: np.ndarray, min_fraction: float) -> np.ndarray:
    """Large regions on the rectified sheet that are neither paper nor pen lines: coloured (skin, clothes) or
    much darker than the sheet's light over an area wider than any stroke."""
    gray = cv2.cvtColor(rect, cv2.COLOR_BGR2GRAY) if rect.ndim == 3 else rect
    mask = gray.astype(np.float32) < 0.8 * paper_light(gray)
    if rect.ndim == 3:
        ycc = cv2.cvtColor(rect, cv2.COLOR_BGR2YCrCb).astype(np.int16)
        chroma = np.maximum(np.abs(ycc[..., 1] - 128), np.abs(ycc[..., 2] - 128))
        mask |= chroma > 14
    k = max(5, (rect.shape[0] // 48) | 1)  # wider than a pen line at this size: thin ink does not survive
    solid = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    out = np.zeros(gray.shape, bool)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] > min_fraction * gray.size:
            out |= labels == i
    return out
