"""The AI's strokes against the artist's ink: where they cross it, cutting them off it, where they may start,
and the sheet drawn in two inks.

All polylines here are (K, 2) float arrays in pixels of the mask they are measured against (x right, y down).
The artist's ink is a boolean mask (True = ink). An AI stroke *crosses* the ink along the part of its centre line
that lies inside the mask; it *joins* the ink where one of its ends touches it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

STEP_PX = 0.25  # centre lines are sampled this finely when measured or cut
HUMAN_BGR = (30, 30, 30)  # the artist's ink on the contact sheet and the screen (near black)
AI_BGR = (200, 90, 20)  # the AI's ink (a blue), BGR


def ink_mask(raster: np.ndarray, threshold: int = 160) -> np.ndarray:
    """A uint8 raster (255 paper, 0 ink) → bool mask of ink."""
    return np.asarray(raster) < threshold


def _samples(p: np.ndarray, step: float = STEP_PX) -> tuple[np.ndarray, np.ndarray]:
    """Points every `step` px along a polyline, and the length each sample stands for."""
    p = np.asarray(p, np.float64)
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    total = float(seg.sum())
    if len(p) < 2 or total <= 0:
        return p[:1], np.zeros(min(1, len(p)))
    s = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(2, int(np.ceil(total / step)) + 1)
    t = np.linspace(0.0, total, n)
    pts = np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], axis=1)
    w = np.full(n, total / (n - 1))
    w[0] = w[-1] = total / (n - 1) / 2
    return pts, w


def _inside(mask: np.ndarray, pts: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    xi = np.clip(np.floor(pts[:, 0]).astype(int), 0, w - 1)
    yi = np.clip(np.floor(pts[:, 1]).astype(int), 0, h - 1)
    return mask[yi, xi]


def length(p: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(np.asarray(p, float), axis=0), axis=1).sum()) if len(p) > 1 else 0.0


@dataclass(frozen=True)
class Crossing:
    total_px: float  # the AI strokes' centre-line length
    over_ink_px: float  # of it, inside the artist's ink

    @property
    def fraction(self) -> float:
        return self.over_ink_px / self.total_px if self.total_px > 0 else 0.0


def crossing(paths: list[np.ndarray], mask: np.ndarray) -> Crossing:
    """How much of the strokes' length lies over the ink."""
    total = over = 0.0
    for p in paths:
        pts, w = _samples(p)
        total += float(w.sum())
        over += float(w[_inside(mask, pts)].sum())
    return Crossing(total, over)


def cut_over_ink(
    paths: list[np.ndarray], mask: np.ndarray, join_px: float = 1.0, min_px: float = 6.0
) -> list[np.ndarray]:
    """Each stroke with the parts over the ink cut out; a piece keeps up to `join_px` of ink at an end where it
    meets the ink (it joins the line there, it does not cross it); pieces shorter than `min_px` are dropped."""
    out: list[np.ndarray] = []
    reach = max(0, int(round(join_px / STEP_PX)))
    for p in paths:
        pts, _ = _samples(p)
        if len(pts) < 2:
            continue
        inside = _inside(mask, pts)
        n = len(pts)
        i = 0
        while i < n:
            if inside[i]:
                i += 1
                continue
            j = i
            while j < n and not inside[j]:
                j += 1
            a = max(0, i - reach) if i > 0 else 0  # an end meeting the ink: reach into it a little
            b = min(n, j + reach) if j < n else n
            piece = pts[a:b]
            if length(piece) >= min_px:
                out.append(_thin(piece))
            i = j
    return out


def _thin(pts: np.ndarray, every_px: float = 1.0) -> np.ndarray:
    """Keep about one point per `every_px` of a densely sampled piece (ends kept)."""
    k = max(1, int(round(every_px / STEP_PX)))
    idx = list(range(0, len(pts) - 1, k)) + [len(pts) - 1]
    return pts[idx]


def join_budget(paths: list[np.ndarray], mask: np.ndarray, max_fraction: float) -> list[np.ndarray]:
    """`paths` (already cut) or, if their joins still cross more than `max_fraction`, the same cut without joins."""
    if crossing(paths, mask).fraction <= max_fraction:
        return paths
    return cut_over_ink(paths, mask, join_px=0.0)


def seeds(
    artist: list[np.ndarray], mask: np.ndarray, n: int, rng: np.random.Generator, reach_px: float
) -> list[np.ndarray]:
    """`n` starting polylines (4 points each, mask pixels) that continue the drawing: from the newest artist
    strokes' free ends outwards along their direction, then, for the rest, in open paper away from the ink."""
    h, w = mask.shape
    out: list[np.ndarray] = []
    ends: list[tuple[np.ndarray, np.ndarray]] = []
    for p in reversed(artist):  # newest first
        p = np.asarray(p, float)
        if len(p) < 2 or length(p) < 2:
            continue
        for tip, back in ((p[-1], p[max(0, len(p) - 4)]), (p[0], p[min(len(p) - 1, 3)])):
            d = tip - back
            norm = float(np.hypot(*d))
            if norm > 0:
                ends.append((tip, d / norm))
    for tip, d in ends[:n]:
        turn = rng.normal(0.0, 0.5)
        c, s = np.cos(turn), np.sin(turn)
        d2 = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
        start = tip + d * 2.0  # just off the end: the stroke joins the line there
        pts = np.stack([start + (d * (1 - k) + d2 * k) * reach_px * k for k in (0.0, 1 / 3, 2 / 3, 1.0)])
        out.append(np.clip(pts, 1, [w - 2, h - 2]))
    if len(out) < n:
        dist = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
        margin = int(0.08 * min(h, w))
        inner = np.zeros_like(dist)
        inner[margin : h - margin, margin : w - margin] = dist[margin : h - margin, margin : w - margin]
        flat = np.asarray(inner, np.float64).ravel()
        median = float(np.quantile(flat[flat > 0], 0.5)) if np.any(flat > 0) else 3.0
        good = np.flatnonzero(flat >= max(3.0, median))
        while len(out) < n and len(good):
            k = int(good[rng.integers(len(good))])
            y, x = divmod(k, w)
            ang = rng.uniform(0, 2 * np.pi)
            d = np.array([np.cos(ang), np.sin(ang)])
            pts = np.stack([np.array([x, y], float) + d * reach_px * f for f in (0.0, 1 / 3, 2 / 3, 1.0)])
            out.append(np.clip(pts, 1, [w - 2, h - 2]))
    return out


def order_from(paths: list[np.ndarray], start: np.ndarray | None) -> list[np.ndarray]:
    """Paths in drawing order: the shortest first (the robot's first acknowledgement comes soonest), then
    nearest-neighbour over path ends (a path may be drawn backwards)."""
    left = [np.asarray(p, float) for p in paths if len(p) >= 2]
    if not left:
        return []
    first = min(range(len(left)), key=lambda i: length(left[i]))
    seq = [left.pop(first)]
    if start is not None and np.linalg.norm(seq[0][-1] - start) < np.linalg.norm(seq[0][0] - start):
        seq[0] = seq[0][::-1]
    while left:
        pos = seq[-1][-1]
        best, rev, best_d = 0, False, np.inf
        for i, p in enumerate(left):
            for r, end in ((False, p[0]), (True, p[-1])):
                d = float(np.linalg.norm(end - pos))
                if d < best_d:
                    best, rev, best_d = i, r, d
        p = left.pop(best)
        seq.append(p[::-1] if rev else p)
    return seq


def two_inks(strokes: list[tuple[str, np.ndarray]], side: int, canvas: int, width_px: float = 2.0) -> np.ndarray:
    """(side, side, 3) BGR: each (who, polyline in canvas px) in its ink, human near black, AI blue, on white."""
    img = np.full((side, side, 3), 255, np.uint8)
    k = side / canvas
    thick = max(1, round(width_px * side / 512))
    for who, p in strokes:
        pts: np.ndarray = np.round(np.asarray(p, float) * k * 16).astype(np.int32).reshape(-1, 1, 2)
        if len(pts) == 1:
            pts = np.concatenate([pts, pts])
        colour = AI_BGR if who == "ai" else HUMAN_BGR
        cv2.polylines(img, [pts], False, colour, thick, cv2.LINE_AA, shift=4)
    return img


class InkSheet:
    """The sheet in two inks, drawn as it grows (a segment per pen move, a polyline per AI stroke): RGB for the
    screen, so a frame never redraws the whole drawing."""

    def __init__(self, side: int, canvas: int, width_px: float = 3.0) -> None:
        self.rgb = np.full((side, side, 3), 255, np.uint8)
        self.k = side / canvas
        self.thick = max(1, round(width_px * side / 512))
        self._last: tuple[int, int] | None = None

    def _pt(self, x: float, y: float) -> tuple[int, int]:
        return (round(x * self.k * 16), round(y * self.k * 16))

    def pen(self, kind: str, x: float = 0.0, y: float = 0.0) -> None:
        """An artist's pen event (down, move, up) in canvas pixels."""
        colour = HUMAN_BGR[::-1]
        if kind == "down":
            self._last = self._pt(x, y)
            cv2.line(self.rgb, self._last, self._last, colour, self.thick, cv2.LINE_AA, 4)
        elif kind == "move" and self._last is not None:
            p = self._pt(x, y)
            cv2.line(self.rgb, self._last, p, colour, self.thick, cv2.LINE_AA, 4)
            self._last = p
        elif kind == "up":
            self._last = None

    def stroke(self, who: str, pts: np.ndarray) -> None:
        q = np.round(np.asarray(pts, float) * self.k * 16).astype(np.int32).reshape(-1, 1, 2)
        colour = (AI_BGR if who == "ai" else HUMAN_BGR)[::-1]
        cv2.polylines(self.rgb, [q], False, colour, self.thick, cv2.LINE_AA, shift=4)
