"""Outlines → the sketch a hand on a tablet would draw of them (numpy + OpenCV only, deterministic per rng).

A visitor draws the main contours, not every colour boundary, and draws them imperfectly: lines wobble,
break, overshoot, are sometimes drawn twice, slightly shifted or turned, with a width that follows the pressure.
The training inputs carry those faults so the model answers sketches rather than clean vector edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

INK = 0
PAPER = 255


def _length(p: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()) if len(p) > 1 else 0.0


def _resample(p: np.ndarray, step: float) -> np.ndarray:
    """Points about every `step` px along the polyline [K, 2] → [M, 2]."""
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] < step:
        return p[[0, -1]]
    t = np.linspace(0.0, s[-1], max(2, int(s[-1] / step) + 1))
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], axis=1)


def _smooth_noise(n: int, amp: float, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency 2-D wobble [n, 2]: a random walk, smoothed, of roughly `amp` px."""
    walk = np.cumsum(rng.normal(0, 1, (n, 2)), axis=0)
    k = max(3, n // 6) | 1
    walk = cv2.GaussianBlur(walk.astype(np.float32).reshape(n, 1, 2), (1, k), 0).reshape(n, 2)
    walk -= walk.mean(axis=0)
    scale = np.abs(walk).max() or 1.0
    return walk / scale * amp


def select_strokes(lines: list[np.ndarray], size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The lines a person would draw: long contours always, short details sometimes."""
    lengths = np.array([_length(p) for p in lines])
    if not len(lengths):
        return []
    keep_len = size * rng.uniform(0.06, 0.16)  # shorter than this: kept with a probability
    out = []
    for p, n in zip(lines, lengths, strict=True):
        if n < 2:
            continue
        if n >= keep_len or rng.random() < 0.25 * n / keep_len:
            out.append(p)
    budget = rng.integers(40, 130)  # nobody draws 600 strokes
    if len(out) > budget:
        order = np.argsort([-_length(p) for p in out])[:budget]
        out = [out[i] for i in sorted(order)]
    return out


@dataclass(frozen=True)
class HandStroke:
    """One stroke as the hand drew it: its pen-down pieces (float px [K, 2]) and pen width in px."""

    pieces: tuple[np.ndarray, ...]
    width: int


def hand_strokes(lines: list[np.ndarray], size: int, rng: np.random.Generator) -> list[HandStroke]:
    """The strokes a visitor would draw of the outlines, in the outlines' order, each with its faults."""
    s = size / 256.0
    base_w = rng.uniform(0.6, 1.6) * s  # this "visitor's" pen
    out: list[HandStroke] = []
    for p in select_strokes(lines, size, rng):
        q = _resample(p, 3.0 * s)
        n = len(q)
        # a small offset and turn of the whole stroke, plus a wobble along it
        c = q.mean(axis=0)
        a = rng.normal(0, 0.03)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        q = (q - c) @ rot.T + c + rng.normal(0, 1.2 * s, 2)
        q = q + _smooth_noise(n, rng.uniform(0.3, 1.6) * s, rng)
        if n >= 4 and rng.random() < 0.3:  # overshoot at one end
            d = q[-1] - q[-2]
            q = np.vstack([q, q[-1] + d * rng.uniform(1, 3)])
        pieces = [q]
        if n >= 8 and rng.random() < 0.35:  # a break: the pen lifted mid-line
            cut = int(rng.integers(2, n - 2))
            gap = int(rng.integers(1, 3))
            pieces = [q[:cut], q[cut + gap :]]
        passes = 2 if rng.random() < 0.15 else 1  # drawn twice, slightly apart
        drawn = []
        for k in range(passes):
            off = rng.normal(0, 1.0 * s, 2) if k else 0.0
            drawn += [piece + off for piece in pieces if len(piece) >= 2]
        if drawn:
            out.append(HandStroke(tuple(drawn), max(1, round(base_w * rng.uniform(0.6, 1.3)))))
    return out


def render(strokes: list[HandStroke], size: int, img: np.ndarray | None = None) -> np.ndarray:
    """Strokes drawn in order onto paper (size, size) uint8 (255 paper, 0 ink); onto `img` when given."""
    img = np.full((size, size), PAPER, np.uint8) if img is None else img
    shift = 4
    f = float(1 << shift)
    for st in strokes:
        for piece in st.pieces:
            pts = np.round(piece * f).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(img, [pts], False, INK, st.width, cv2.LINE_AA, shift)
    return img


def stray_marks(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    size = img.shape[0]
    s = size / 256.0
    for _ in range(int(rng.poisson(0.6))):  # stray marks
        x, y = rng.uniform(0, size, 2)
        d = rng.normal(0, 4 * s, 2)
        cv2.line(img, (int(x), int(y)), (int(x + d[0]), int(y + d[1])), INK, 1, cv2.LINE_AA)
    return img


def degrade(lines: list[np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """A hand-drawn-looking sketch (size, size) uint8 (255 paper, 0 ink) of the outline polylines."""
    return stray_marks(render(hand_strokes(lines, size, rng), size), rng)


@dataclass(frozen=True)
class PartialSketch:
    """A drawing caught part-way: `before` (first k-1 strokes), `after` (first k), and where stroke k is not."""

    before: np.ndarray  # (S, S) uint8
    after: np.ndarray  # (S, S) uint8: the training input
    far: np.ndarray  # (S, S) bool: more than `far_px` from the newest stroke (stroke k)
    k: int  # strokes in `after`
    n: int  # strokes in the whole drawing


def partial_sketch(
    lines: list[np.ndarray], size: int, rng: np.random.Generator, p_partial: float = 0.5, far_px: float = 20.0
) -> PartialSketch:
    """A prefix of the hand's strokes (kept in drawing order) and the same prefix less its newest stroke.

    With probability 1 - p_partial the drawing is complete (k = n); otherwise k is uniform in
    [ceil(n/4), n - 1]. far_px is at 256² and scales with the size.
    """
    strokes = hand_strokes(lines, size, rng)
    n = len(strokes)
    if n == 0:
        blank = np.full((size, size), PAPER, np.uint8)
        return PartialSketch(blank, blank.copy(), np.ones((size, size), bool), 0, 0)
    k = n
    if n >= 2 and rng.random() < p_partial:
        k = int(rng.integers(max(1, -(-n // 4)), n))
    before = stray_marks(render(strokes[: k - 1], size), rng)
    after = render(strokes[k - 1 : k], size, before.copy())
    newest = render(strokes[k - 1 : k], size)
    dist = cv2.distanceTransform((newest > 127).astype(np.uint8), cv2.DIST_L2, 3)
    return PartialSketch(before, after, dist > far_px * size / 256.0, k, n)
