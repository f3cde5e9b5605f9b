"""Cut polylines at a rectangle's edge: the parts inside, each its own path.

A plotter path that leaves the page must stop where it leaves and start again where it comes back; clamping its
points onto the edge instead would draw straight lines along the margin. Each segment is clipped against the box
(Liang–Barsky); where a segment crosses the edge the path ends (or starts) exactly on the crossing point.
"""

from __future__ import annotations

import numpy as np

Path2 = np.ndarray  # (K, 2) float


def _clip_segment(a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float] | None:
    """The parameter interval [t0, t1] ⊂ [0, 1] of a + t·(b − a) inside the box, or None if it misses."""
    d = b - a
    t0, t1 = 0.0, 1.0
    for k in range(2):
        for p, q in ((-d[k], a[k] - lo[k]), (d[k], hi[k] - a[k])):
            if p == 0.0:
                if q < 0.0:
                    return None
                continue
            t = q / p
            if p < 0.0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return (t0, t1) if t0 <= t1 else None


def cut_to_box(path: Path2, lo: tuple[float, float], hi: tuple[float, float], min_points: int = 2) -> list[Path2]:
    """(K, 2) polyline → the pieces of it inside [lo, hi] (each (M ≥ min_points, 2)), in drawing order."""
    p = np.asarray(path, dtype=float)
    lo_a, hi_a = np.asarray(lo, float), np.asarray(hi, float)
    pieces: list[list[np.ndarray]] = []
    current: list[np.ndarray] = []
    if len(p) == 1:
        inside = bool(np.all(p[0] >= lo_a) and np.all(p[0] <= hi_a))
        return [p.copy()] if inside and min_points <= 1 else []
    for a, b in zip(p[:-1], p[1:], strict=True):
        span = _clip_segment(a, b, lo_a, hi_a)
        if span is None:
            if current:
                pieces.append(current)
                current = []
            continue
        t0, t1 = span
        start, end = a + t0 * (b - a), a + t1 * (b - a)
        if t0 > 0.0 and current:  # re-entering within one segment after leaving: a new piece
            pieces.append(current)
            current = []
        if not current:
            current = [start]
        if not np.array_equal(end, current[-1]):  # a segment that only touches the edge adds no point
            current.append(end)
        if t1 < 1.0:  # leaves the box inside this segment
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    out = [np.array(pc) for pc in pieces]
    return [pc for pc in out if len(pc) >= min_points]
