"""An image (a line drawing, or the AI's answer) → paths a plotter robot can draw, each line once.

Dark lines (ink no wider than `max_line`) are traced along their centre (installation/core/centreline.py), so
a pen line is drawn once, not as the two sides of its blob; each keeps its measured width. What remains once
those lines are filled in with their surroundings is tone: its edges become slightly wobbling contours (the
outline of a solid area, a boundary between tones), and it is hatched in up to three levels (sparse diagonals
for mid tones, denser for darks, cross-hatching for the darkest), each hatch line broken where the tone ends.
A stroke budget keeps centre lines and the longest contours first, hatching last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from installation.core.centreline import Stroke, centre_lines


@dataclass(frozen=True)
class VectoriseParams:
    work_size: int = 256  # tone (contours, hatching) is analysed with the image's shorter side at this size
    min_contour_px: float = 12.0  # shorter edge contours are dropped (at work size)
    hatch_levels: tuple[tuple[float, float, float], ...] = ((0.62, 45.0, 7.0), (0.42, 45.0, 4.0), (0.25, -45.0, 4.0))
    wobble_px: float = 0.6  # hand tremor amplitude at work size
    max_paths: int = 1500
    seed: int = 0
    centre_lines: bool = True  # False: no line tracing, only contours and hatching of the whole image
    line_px: int = 1024  # lines are traced with the longer side at least this (a larger image: at most 2×)
    ink_below: float = 0.6  # a line's ink is darker than this share of white
    max_line: float = 0.008  # wider ink (share of the longer side) is an area: outlined and hatched instead
    min_line: float = 0.006  # shorter centre lines are dropped (share of the longer side)


@dataclass(frozen=True)
class Drawing:
    """What to draw, in the image's own pixels: centre lines (with widths), then contours, then hatching."""

    size: tuple[int, int]  # (width, height) of the image, pixels
    lines: list[Stroke] = field(default_factory=list)
    contours: list[np.ndarray] = field(default_factory=list)
    hatching: list[np.ndarray] = field(default_factory=list)

    def paths(self, max_paths: int) -> list[np.ndarray]:
        """All paths by priority within the budget: lines and contours first, hatching with what is left."""
        first = [s.points for s in self.lines] + self.contours
        return first[:max_paths] + self.hatching[: max(0, max_paths - len(first))]


def _wobble(p: np.ndarray, amp: float, rng: np.random.Generator) -> np.ndarray:
    if amp <= 0 or len(p) < 3:
        return p
    n = len(p)
    walk = np.cumsum(rng.normal(0, 1, (n, 2)), axis=0).astype(np.float32)
    k = max(3, n // 8) | 1
    noise = np.asarray(cv2.GaussianBlur(walk.reshape(n, 1, 2), (1, k), 0), np.float64).reshape(n, 2)
    noise -= noise.mean(axis=0)
    return p + noise / (np.abs(noise).max() or 1.0) * amp


def contours(gray: np.ndarray, prm: VectoriseParams, rng: np.random.Generator) -> list[np.ndarray]:
    blur = cv2.GaussianBlur(gray, (0, 0), 1.2)
    edges = cv2.Canny(blur, 40, 110)
    found, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    out = []
    for c in found:
        p = c[:, 0, :].astype(np.float64)
        # Canny contours trace both sides of a 1-px edge: keep the first half of closed traces of thin lines
        if len(p) > 8 and np.linalg.norm(p[0] - p[-1]) < 2:
            half = len(p) // 2
            if np.median(np.linalg.norm(p[:half] - p[::-1][:half], axis=1)) < 2.5:
                p = p[: half + 1]
        if len(p) < 2 or np.linalg.norm(np.diff(p, axis=0), axis=1).sum() < prm.min_contour_px:
            continue
        out.append(_wobble(p[::2] if len(p) > 4 else p, prm.wobble_px, rng))
    return out


def hatching(gray: np.ndarray, prm: VectoriseParams, rng: np.random.Generator) -> list[np.ndarray]:
    """Hatch lines clipped to the regions darker than each level's threshold."""
    tone = cv2.GaussianBlur(gray, (0, 0), 2.5).astype(np.float32) / 255.0
    h, w = gray.shape
    out = []
    for threshold, angle, spacing in prm.hatch_levels:
        mask = tone < threshold
        if not mask.any():
            continue
        a = np.deg2rad(angle + rng.normal(0, 2.0))
        d = np.array([np.cos(a), np.sin(a)])
        nrm = np.array([-d[1], d[0]])
        c = np.array([w / 2, h / 2])
        reach = max(w, h) * 0.75
        t = np.arange(-reach, reach, 1.0)
        for off in np.arange(-reach, reach, spacing):
            pts = c + nrm * (off + rng.normal(0, 0.3)) + t[:, None] * d
            xi, yi = np.round(pts[:, 0]).astype(int), np.round(pts[:, 1]).astype(int)
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            on = np.zeros(len(t), bool)
            on[inside] = mask[yi[inside], xi[inside]]
            # runs of "on" become separate strokes
            edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
            for s, e in zip(edges[::2], edges[1::2], strict=True):
                if e - s >= 4:
                    out.append(_wobble(pts[s:e:2], prm.wobble_px * 0.7, rng))
    return out


def trace(gray: np.ndarray, params: VectoriseParams | None = None) -> Drawing:
    """(H, W) grey uint8 → its Drawing, in the image's pixels (any aspect)."""
    prm = params or VectoriseParams()
    rng = np.random.default_rng(prm.seed)
    h, w = gray.shape
    k_tone = prm.work_size / min(h, w)  # tone is analysed with the shorter side at work_size
    tone_size = (max(1, round(w * k_tone)), max(1, round(h * k_tone)))
    tone = cv2.resize(gray, tone_size, interpolation=cv2.INTER_AREA)
    lines: list[Stroke] = []
    if prm.centre_lines:
        lines, drawn = _centre_lines(gray, prm)
        if drawn.any():  # the traced lines are filled in with their surroundings before tone is read
            near = cv2.resize(drawn.astype(np.float32), tone_size, interpolation=cv2.INTER_AREA) > 0.02
            mask = cv2.dilate(near.astype(np.uint8), np.ones((3, 3), np.uint8))
            tone = cv2.inpaint(tone, mask, 3, cv2.INPAINT_TELEA)
    edges = sorted(contours(tone, prm, rng), key=lambda p: -len(p))
    shade = hatching(tone, prm, rng)
    back = np.array([w / tone_size[0], h / tone_size[1]])
    return Drawing((w, h), lines, [p * back for p in edges], [p * back for p in shade])


def _centre_lines(gray: np.ndarray, prm: VectoriseParams) -> tuple[list[Stroke], np.ndarray]:
    """Centre lines of the thin dark ink (image pixels) and the line-scale mask of the ink they stand for."""
    h, w = gray.shape
    side = max(h, w)
    k = max(prm.line_px / side, min(1.0, 2 * prm.line_px / side))
    size = (max(1, round(w * k)), max(1, round(h * k)))
    g = gray if k == 1 else cv2.resize(gray, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    ink = g < prm.ink_below * 255
    widest = max(3, round(prm.max_line * max(size)))
    line_ink = ink & ~(cv2.dilate(_areas(ink, widest), np.ones((3, 3), np.uint8)) > 0)
    shortest = max(3.0, prm.min_line * max(size))
    strokes = centre_lines(
        line_ink, spur_px=max(3.0, 0.3 * widest), min_length_px=shortest, bridge_px=max(3.0, 0.4 * widest)
    )
    drawn = cv2.dilate(line_ink.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return [Stroke(s.points / k, s.widths / k) for s in strokes], drawn


def _areas(ink: np.ndarray, widest: int) -> np.ndarray:
    """The ink wider than a line: what a disc of `widest` fits in, in pieces clearly wider and larger still (where
    two lines cross at a shallow angle the disc fits too, over a small patch: that stays line)."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (widest + 1, widest + 1))
    opened = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, disc)
    if not opened.any():
        return opened
    n, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    depth = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    deepest = np.zeros(n, np.float32)
    np.maximum.at(deepest, np.asarray(labels, np.int64).ravel(), depth.ravel())
    # an inscribed disc half as wide again as the widest line, over more than a crossing's worth of ink
    wide = (deepest >= 0.75 * widest) & (stats[:, cv2.CC_STAT_AREA] >= (3 * widest) ** 2)
    wide[0] = False
    return wide[labels].astype(np.uint8)


def vectorise(image: np.ndarray, canvas: int, params: VectoriseParams | None = None) -> list[np.ndarray]:
    """(H, W, 3) RGB or (H, W) grey uint8 → paths in canvas coordinates (square canvas of side `canvas`).

    The image's centre square is used; `trace` keeps any aspect and the lines' widths.
    """
    prm = params or VectoriseParams()
    gray = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    s = min(h, w)
    gray = np.ascontiguousarray(gray[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s])
    k = canvas / s
    return [np.clip(p * k, 0, canvas) for p in trace(gray, prm).paths(prm.max_paths)]
