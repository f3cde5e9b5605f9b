"""Plotter paths: polylines to simplify, merge, order and map from canvas pixels to paper millimetres.

A path is a float array [K, 2]. Ordering is greedy nearest-neighbour over path ends (a path may be drawn
backwards), then 2-opt moves on the order within a time budget; pen-up travel is measured as vpype does: the
sum of distances from each path's end to the next path's start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

Path2 = np.ndarray  # [K, 2] float

PAPERS_MM = {"a5": (148.0, 210.0), "a4": (210.0, 297.0), "a3": (297.0, 420.0), "letter": (215.9, 279.4)}


@dataclass(frozen=True)
class Stats:
    paths: int
    points: int
    pen_down_mm: float
    pen_up_mm: float


def path_length(p: Path2) -> float:
    return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()) if len(p) > 1 else 0.0


def travel(paths: list[Path2], start: np.ndarray | None = None) -> float:
    """Pen-up distance: from `start` (if given) to the first path, then end of each path to the next start."""
    total = float(np.linalg.norm(paths[0][0] - start)) if paths and start is not None else 0.0
    for a, b in zip(paths, paths[1:], strict=False):
        total += float(np.linalg.norm(b[0] - a[-1]))
    return total


def stats(paths: list[Path2]) -> Stats:
    return Stats(len(paths), int(sum(len(p) for p in paths)), sum(map(path_length, paths)), travel(paths))


def simplify(p: Path2, tolerance: float) -> Path2:
    """Ramer–Douglas–Peucker, iterative (no recursion limit on long paths)."""
    if len(p) < 3 or tolerance <= 0:
        return p
    keep = np.zeros(len(p), bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(p) - 1)]
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        a, b = p[i], p[j]
        seg = b - a
        n = float(np.hypot(*seg))
        pts = p[i + 1 : j]
        if n == 0:
            d = np.linalg.norm(pts - a, axis=1)
        else:
            d = np.abs(seg[0] * (pts[:, 1] - a[1]) - seg[1] * (pts[:, 0] - a[0])) / n
        k = int(np.argmax(d))
        if d[k] > tolerance:
            m = i + 1 + k
            keep[m] = True
            stack += [(i, m), (m, j)]
    return p[keep]


def merge(paths: list[Path2], tolerance: float, allow_reverse: bool = True) -> list[Path2]:
    """Join consecutive paths whose ends meet within `tolerance` (reversing one when allowed and needed)."""
    out: list[Path2] = []
    for p in paths:
        if out:
            q = out[-1]
            pairs = ((q, p), (q, p[::-1]), (q[::-1], p), (q[::-1], p[::-1])) if allow_reverse else ((q, p),)
            for a, b in pairs:
                if np.linalg.norm(a[-1] - b[0]) <= tolerance:
                    out[-1] = np.vstack([a, b[1:]])
                    break
            else:
                out.append(p)
        else:
            out.append(p)
    return out


def order(paths: list[Path2], start: tuple[float, float] = (0.0, 0.0), budget_s: float = 0.5) -> list[Path2]:
    """Paths in drawing order (some reversed) with little pen-up travel; 2-opt gets `budget_s` after greedy."""
    if len(paths) < 2:
        return list(paths)
    starts = np.array([p[0] for p in paths], float)
    ends = np.array([p[-1] for p in paths], float)
    seq = _greedy(starts, ends, np.asarray(start, float))
    seq = _two_opt(seq, starts, ends, time.perf_counter() + budget_s)
    return [paths[i][::-1] if rev else paths[i] for i, rev in seq]


def _greedy(starts: np.ndarray, ends: np.ndarray, pos: np.ndarray) -> list[tuple[int, bool]]:
    """Nearest free path end, found through a uniform grid searched in growing rings."""
    n = len(starts)
    pts = np.vstack([starts, ends])  # endpoint e < n: start of path e; e >= n: end of path e - n
    lo = pts.min(axis=0)
    span = float(max(np.ptp(pts, axis=0).max(), 1e-9))
    g = max(1, int(np.sqrt(n / 2)))  # about two paths per cell
    cell = span / g + 1e-12
    cx = np.minimum(((pts - lo) / cell).astype(int), g - 1)
    grid: dict[tuple[int, int], set[int]] = {}
    for e, (x, y) in enumerate(cx):
        grid.setdefault((int(x), int(y)), set()).add(e)
    seq: list[tuple[int, bool]] = []
    for _ in range(n):
        px, py = np.minimum(np.maximum(((pos - lo) / cell).astype(int), 0), g - 1)
        best, best_d, r = -1, np.inf, 0
        while r <= g:
            ring = [(x, y) for x in range(px - r, px + r + 1) for y in (py - r, py + r)]
            ring += [(x, y) for y in range(py - r + 1, py + r) for x in (px - r, px + r)]
            for c in ring:
                for e in grid.get(c, ()):
                    d = float(((pts[e] - pos) ** 2).sum())
                    if d < best_d:
                        best, best_d = e, d
            if best >= 0 and np.sqrt(best_d) <= r * cell:
                break  # nothing outside this ring can be nearer
            r += 1
        i, rev = (best, False) if best < n else (best - n, True)
        for e in (i, i + n):
            grid[(int(cx[e][0]), int(cx[e][1]))].discard(e)
        seq.append((i, rev))
        pos = starts[i] if rev else ends[i]
    return seq


def _two_opt(seq: list[tuple[int, bool]], starts: np.ndarray, ends: np.ndarray, t_end: float) -> list[tuple[int, bool]]:
    """Reverse blocks of the order (flipping each path in them) while that shortens travel and time remains.

    For each position a, the best block end b is found at once with numpy over all later positions:
    reversing seq[a+1..b] swaps edges (a→a+1, b→b+1) for (a→b, a+1→b+1) with every path in it drawn backwards.
    """
    idx = np.array([i for i, _ in seq])
    rev = np.array([r for _, r in seq])
    heads = np.where(rev[:, None], ends[idx], starts[idx])  # [n, 2] where each path's drawing starts
    tails = np.where(rev[:, None], starts[idx], ends[idx])
    n = len(seq)
    improved = True
    while improved and time.perf_counter() < t_end:
        improved = False
        for a in range(n - 2):
            if a % 64 == 0 and time.perf_counter() >= t_end:
                break
            b = np.arange(a + 2, n)  # candidate block ends
            nxt = np.minimum(b + 1, n - 1)
            last = b == n - 1  # a block reaching the end has no following edge
            old = np.linalg.norm(heads[a + 1] - tails[a]) + np.where(
                last, 0.0, np.linalg.norm(heads[nxt] - tails[b], axis=1)
            )
            new = np.linalg.norm(tails[b] - tails[a], axis=1) + np.where(
                last, 0.0, np.linalg.norm(heads[nxt] - heads[a + 1], axis=1)
            )
            gain = old - new
            k = int(np.argmax(gain))
            if gain[k] > 1e-9:
                e = int(b[k])
                blk = slice(a + 1, e + 1)
                heads[blk], tails[blk] = tails[blk][::-1].copy(), heads[blk][::-1].copy()
                idx[blk] = idx[blk][::-1].copy()
                rev[blk] = ~rev[blk][::-1]
                improved = True
    return [(int(i), bool(r)) for i, r in zip(idx, rev, strict=True)]


@dataclass(frozen=True)
class PaperMapping:
    """Canvas pixels → paper millimetres: the square canvas fitted into the paper minus margins, centred."""

    canvas: int
    paper_mm: tuple[float, float]
    margin_mm: float

    @property
    def scale(self) -> float:
        w, h = self.paper_mm
        return min(w - 2 * self.margin_mm, h - 2 * self.margin_mm) / self.canvas

    def offset(self) -> np.ndarray:
        w, h = self.paper_mm
        side = self.scale * self.canvas
        return np.array([(w - side) / 2, (h - side) / 2])

    def to_mm(self, p: Path2) -> Path2:
        return p * self.scale + self.offset()


@dataclass(frozen=True)
class PageFit:
    """A page (w × h in its own units: an image's pixels, an SVG's user units) → paper millimetres.

    The page keeps its proportions and is centred: a whole sheet (`sheet`: an SVG page, a drawing of the full
    paper) fills the paper, its own margins scaled with it (an A4 drawing onto A3 grows by √2); anything else
    goes inside the paper minus `margin_mm`, as the square canvas does (PaperMapping).
    """

    page: tuple[float, float]
    paper_mm: tuple[float, float]
    margin_mm: float
    sheet: bool

    @property
    def scale(self) -> float:
        m = 0.0 if self.sheet else self.margin_mm
        (w, h), (pw, ph) = self.paper_mm, self.page
        return min((w - 2 * m) / max(pw, 1e-9), (h - 2 * m) / max(ph, 1e-9))

    def offset(self) -> np.ndarray:
        (w, h), (pw, ph) = self.paper_mm, self.page
        return np.array([(w - pw * self.scale) / 2, (h - ph * self.scale) / 2])

    def to_mm(self, p: Path2) -> Path2:
        return p * self.scale + self.offset()


def paper_size(name: str) -> tuple[float, float]:
    from installation.core.errors import UserError

    if name.lower() not in PAPERS_MM:
        raise UserError(f"unknown paper {name!r}: choose one of {', '.join(PAPERS_MM)}")
    return PAPERS_MM[name.lower()]


def prepare(
    paths: list[Path2],
    tolerance: float,
    merge_tol: float,
    start: tuple[float, float] = (0.0, 0.0),
    budget_s: float = 0.35,
) -> list[Path2]:
    """Simplify, drop degenerate paths, order, then merge paths that now meet end to start."""
    simple = [simplify(np.asarray(p, float), tolerance) for p in paths if len(p) >= 2]
    simple = [p for p in simple if path_length(p) > 0]
    return merge(order(simple, start, budget_s), merge_tol, allow_reverse=False)
