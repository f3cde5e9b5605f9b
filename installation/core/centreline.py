"""Ink lines → their centre lines, as ordered polylines a plotter draws once (not the two sides of each line).

Three steps: Guo–Hall thinning of the ink mask to one-pixel lines; the thinned pixels as a graph (endpoints,
junctions, the runs between them), walked into polylines; then clean-up: short spurs off a junction (thinning
noise at corners and line ends) are pruned, junctions a few pixels apart become one crossing, and at each
junction the runs that continue each other most straightly are joined, so an X gives two strokes and a T one
long stroke and one short. Each point keeps the ink
width measured there (twice the distance to the paper), as metadata for the plotter.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# the eight neighbours (dy, dx), clockwise from north; the 4-neighbours are the even ones
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


@dataclass(frozen=True)
class Stroke:
    points: np.ndarray  # [K, 2] float x, y in pixels, in drawing order
    widths: np.ndarray  # [K] ink width at each point, pixels

    @property
    def length(self) -> float:
        return float(np.linalg.norm(np.diff(self.points, axis=0), axis=1).sum()) if len(self.points) > 1 else 0.0


def thin(ink: np.ndarray, max_iter: int = 40) -> np.ndarray:
    """Guo–Hall thinning of a boolean ink mask (H, W) to one-pixel lines, vectorised over the image.

    Guo–Hall rather than Zhang–Suen: Zhang–Suen erases two-pixel-thick diagonal lines altogether (every
    anti-aliased 45° pen line at 1 px), Guo–Hall keeps them.
    """
    img = np.pad(ink.astype(bool), 1)
    for _ in range(max_iter):
        changed = False
        for step in (0, 1):
            # neighbours P2..P9 clockwise from north, each (H, W)
            p2, p3, p4, p5, p6, p7, p8, p9 = (
                img[1 + dy : img.shape[0] - 1 + dy, 1 + dx : img.shape[1] - 1 + dx] for dy, dx in _NEIGHBOURS
            )
            c = (~p2 & (p3 | p4)).astype(np.int8) + (~p4 & (p5 | p6)) + (~p6 & (p7 | p8)) + (~p8 & (p9 | p2))
            n1 = (p9 | p2).astype(np.int8) + (p3 | p4) + (p5 | p6) + (p7 | p8)
            n2 = (p2 | p3).astype(np.int8) + (p4 | p5) + (p6 | p7) + (p8 | p9)
            n = np.minimum(n1, n2)
            m = ((p6 | p7 | ~p9) & p8) if step == 0 else ((p2 | p3 | ~p5) & p4)
            kill = img[1:-1, 1:-1] & (c == 1) & (n >= 2) & (n <= 3) & ~m
            if kill.any():
                img[1:-1, 1:-1][kill] = False
                changed = True
        if not changed:
            break
    return img[1:-1, 1:-1].copy()


def centre_lines(
    ink: np.ndarray,
    spur_px: float = 3.0,
    min_length_px: float = 3.0,
    bridge_px: float = 4.0,
    join_angle_deg: float = 50.0,
) -> list[Stroke]:
    """Boolean ink mask (H, W) → centre-line strokes, longest first.

    `spur_px`: a run from a junction to a free end shorter than this is pruned; `min_length_px`: shorter
    strokes are dropped; `bridge_px`: junctions closer than this along a run are one crossing (thinning splits
    an X into two forks joined by a short bridge, which both lines pass through); `join_angle_deg`: at a
    junction two runs are joined when one turns into the other by at most this much.
    """
    skel = thin(ink)
    width = cv2.distanceTransform(np.pad(ink.astype(np.uint8), 1), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    graph = _Graph(skel)
    runs = graph.runs()
    runs = _prune_spurs(runs, graph, spur_px)
    runs = _contract_bridges(runs, graph, bridge_px)
    chains = _join_at_junctions(runs, join_angle_deg)
    out = []
    for pix in chains:
        pts = pix[:, ::-1].astype(np.float64)  # (y, x) pixels → x, y
        if len(pts) < 2:
            continue
        w = np.maximum(2.0 * width[pix[:, 0], pix[:, 1]] - 1.0, 1.0)
        s = Stroke(pts, w.astype(np.float64))
        if s.length >= min_length_px:
            out.append(s)
    return sorted(out, key=lambda s: -s.length)


@dataclass
class _Run:
    pix: np.ndarray  # [K, 2] (y, x) pixels from one node to the other
    start: int  # node id at pix[0] (-1: none, a closed ring)
    end: int  # node id at pix[-1]
    length: float = -1.0  # pixels along the run (measured on creation)

    def __post_init__(self) -> None:
        if self.length < 0:
            steps = np.abs(np.diff(self.pix, axis=0)).sum(axis=1)  # 1 straight, 2 diagonal (8-connected pixels)
            self.length = float((steps == 1).sum() + np.sqrt(2) * (steps == 2).sum())


class _Graph:
    """The thinned pixels with a neighbour rule that keeps staircases as chains.

    Every 4-neighbour is adjacent; a diagonal neighbour only when neither 4-neighbour between them is ink (a
    staircase step would otherwise make a triangle: three pixels of degree 3 on a plain line).
    """

    def __init__(self, skel: np.ndarray) -> None:
        h, w = skel.shape
        pad = np.pad(skel, 1)
        ys, xs = np.nonzero(skel)
        self.yx = np.stack([ys, xs], axis=1)
        index = np.full((h + 2, w + 2), -1, np.int64)
        index[ys + 1, xs + 1] = np.arange(len(ys))
        nbrs: list[list[int]] = [[] for _ in range(len(ys))]
        for k, (dy, dx) in enumerate(_NEIGHBOURS):
            on = pad[ys + 1 + dy, xs + 1 + dx]
            if k % 2:  # diagonal: only across an empty corner
                on &= ~pad[ys + 1 + dy, xs + 1] & ~pad[ys + 1, xs + 1 + dx]
            for i in np.flatnonzero(on):
                nbrs[i].append(int(index[ys[i] + 1 + dy, xs[i] + 1 + dx]))
        self.nbrs = nbrs
        self.degree = np.array([len(n) for n in nbrs], np.int64)
        # nodes: free ends (degree 1) each their own; junction pixels (degree ≥ 3) grouped when adjacent
        self.node = np.full(len(ys), -1, np.int64)
        count = 0
        for i in range(len(ys)):
            if self.node[i] >= 0 or self.degree[i] == 2 or self.degree[i] == 0:
                continue
            self.node[i] = count
            if self.degree[i] >= 3:
                stack = [i]
                while stack:
                    j = stack.pop()
                    for m in nbrs[j]:
                        if self.node[m] < 0 and self.degree[m] >= 3:
                            self.node[m] = count
                            stack.append(m)
            count += 1
        self.nodes = count
        self.is_end = np.zeros(count, bool)
        for i in np.flatnonzero(self.degree == 1):
            self.is_end[self.node[i]] = True

    def runs(self) -> list[_Run]:
        """Every stretch of pixels between two nodes once, then the closed rings that have no node."""
        seen: set[tuple[int, int]] = set()
        out: list[_Run] = []
        for i in np.flatnonzero(self.node >= 0):
            for j in self.nbrs[i]:
                if (i, j) in seen or self.node[j] == self.node[i]:
                    continue
                walk = self._walk(i, j, seen)
                out.append(_Run(self.yx[walk], int(self.node[walk[0]]), int(self.node[walk[-1]])))
        visited = np.zeros(len(self.yx), bool)
        for a, b in seen:
            visited[a] = visited[b] = True
        for i in np.flatnonzero((self.degree == 2) & ~visited):
            if visited[i]:
                continue
            walk = self._walk(i, self.nbrs[i][0], seen)
            visited[walk] = True
            out.append(_Run(self.yx[walk], -1, -1))
        return out

    def _walk(self, i: int, j: int, seen: set[tuple[int, int]]) -> list[int]:
        walk = [i, j]
        seen.add((i, j))
        seen.add((j, i))
        prev, cur = i, j
        while self.node[cur] < 0 and cur != i:
            nxt = next((m for m in self.nbrs[cur] if m != prev and (cur, m) not in seen), -1)
            if nxt < 0:
                break
            seen.add((cur, nxt))
            seen.add((nxt, cur))
            walk.append(nxt)
            prev, cur = cur, nxt
        return walk


def _prune_spurs(runs: list[_Run], graph: _Graph, spur_px: float) -> list[_Run]:
    """Drop short runs from a junction to a free end, while the junction keeps at least two other runs."""
    at = np.zeros(graph.nodes, np.int64)
    for r in runs:
        for n in (r.start, r.end):
            if n >= 0:
                at[n] += 1
    keep = []
    for r in sorted(runs, key=lambda r: r.length):
        ends = [n for n in (r.start, r.end) if n >= 0]
        junction = [n for n in ends if not graph.is_end[n]]
        free = [n for n in ends if graph.is_end[n]]
        if len(junction) == 1 and len(free) == 1 and at[junction[0]] >= 3 and r.length < spur_px:
            at[junction[0]] -= 1
            continue
        keep.append(r)
    return keep


def _contract_bridges(runs: list[_Run], graph: _Graph, bridge_px: float) -> list[_Run]:
    """Merge junctions joined by a run shorter than `bridge_px` into one node; the bridge itself goes."""
    root = list(range(graph.nodes))

    def find(n: int) -> int:
        while root[n] != n:
            root[n] = root[root[n]]
            n = root[n]
        return n

    keep = []
    for r in runs:
        short = r.start >= 0 and r.end >= 0 and r.length < bridge_px
        if short and not graph.is_end[r.start] and not graph.is_end[r.end] and find(r.start) != find(r.end):
            root[find(r.start)] = find(r.end)
            continue
        keep.append(r)
    relabel = [(find(r.start) if r.start >= 0 else -1, find(r.end) if r.end >= 0 else -1) for r in keep]
    return [_Run(r.pix, a, b, r.length) for r, (a, b) in zip(keep, relabel, strict=True)]


def _direction(pix: np.ndarray, from_start: bool, reach: int = 6) -> np.ndarray:
    """Unit vector from a run's end pixel into the run, over up to `reach` pixels."""
    seg = pix[: reach + 1] if from_start else pix[::-1][: reach + 1]
    d = (seg[-1] - seg[0]).astype(np.float64)
    n = float(np.hypot(*d))
    return d / n if n > 0 else d


def _join_at_junctions(runs: list[_Run], join_angle_deg: float) -> list[np.ndarray]:
    """Chain the runs: at every node, pair the run ends that continue each other most straightly."""
    ends_at: dict[int, list[tuple[int, bool]]] = {}  # node → (run index, True if the run starts there)
    for k, r in enumerate(runs):
        if r.start >= 0:
            ends_at.setdefault(r.start, []).append((k, True))
        if r.end >= 0:
            ends_at.setdefault(r.end, []).append((k, False))
    link: dict[tuple[int, bool], tuple[int, bool]] = {}
    limit = -np.cos(np.deg2rad(join_angle_deg))  # directions into the two runs must be about opposite
    for ends in ends_at.values():
        if len(ends) < 2:
            continue
        dirs = [_direction(runs[k].pix, s) for k, s in ends]
        pairs = sorted((float(dirs[a] @ dirs[b]), a, b) for a in range(len(ends)) for b in range(a + 1, len(ends)))
        used: set[int] = set()
        for cos, a, b in pairs:
            # two ends left at a node are one line passing through it, whatever the angle
            if (cos > limit and len(ends) > 2) or a in used or b in used or ends[a][0] == ends[b][0]:
                continue
            used |= {a, b}
            link[ends[a]] = ends[b]
            link[ends[b]] = ends[a]
    done = np.zeros(len(runs), bool)
    chains: list[np.ndarray] = []
    for k in range(len(runs)):
        if done[k]:
            continue
        # walk back from run k's start to the first run of its chain, then forward along the chain
        first, first_fwd = k, True
        while True:
            nxt = link.get((first, first_fwd))  # the end linked to where we enter `first`
            if nxt is None or done[nxt[0]] or nxt[0] == k:
                break
            first, first_fwd = nxt[0], not nxt[1]
        parts: list[np.ndarray] = []
        step: tuple[int, bool] | None = (first, first_fwd)
        while step is not None and not done[step[0]]:
            cur, fwd = step
            done[cur] = True
            parts.append(runs[cur].pix if fwd else runs[cur].pix[::-1])
            step = link.get((cur, not fwd))  # the end we leave `cur` by is linked to the next run's entry
        chains.append(np.concatenate(parts) if len(parts) > 1 else parts[0])
    return chains
