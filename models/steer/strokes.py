"""CLIPDraw-style strokes: the parameters are Bézier control points, widths and inks, rendered by raster.py.

Strokes may start from given polylines (the visitor's sketch, vectorised); the rest start as short random
curves. Separate learning rates for points, widths and inks, as CLIPDraw does. The result is vector: paths()
hands the plotter the strokes that are dark enough to draw, darkest first, cut at the page edge.

Against adversarial scribbles (many tiny wiggles that please one CLIP and mean nothing to a person):
- schedules (`schedule(frac)`, called by the Steerer with the fraction of the run done): the run starts with
  half the strokes and adds the rest by 60 % of it, and the widest allowed width shrinks from 1.5× to 1× the
  range, so the first strokes lay out the big shapes;
- regularisers (`penalty()`): curvature (squared second differences over squared steps: a wiggle costs, an arc
  hardly), length (dots and page-long lines cost), overlap (sample points of different strokes lying on each
  other cost: coherent strokes do not pile up into blots).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from installation.core.pagecut import cut_to_box
from models.steer.base import SteerGenerator
from models.steer.raster import bezier_polylines, rasterise


@dataclass(frozen=True)
class StrokeRegularisers:
    curvature: float = 0.02  # weight of the wiggle energy
    length: float = 1.0  # weight of the too-short / too-long hinge
    min_length: float = 0.06  # fraction of the side: shorter strokes are dots
    max_length: float = 0.9
    overlap: float = 0.05  # weight of the pile-up term
    start_fraction: float = 0.5  # strokes active at the start of a run (schedule)
    full_at: float = 0.6  # fraction of the run by which all strokes are active
    wide_start: float = 1.5  # the widest width at the start, × the range's top (narrows to 1× by full_at)


NO_REGULARISERS = StrokeRegularisers(0.0, 0.0, 0.0, math.inf, 0.0, 1.0, 0.0, 1.0)


def _resample(p: np.ndarray, count: int) -> np.ndarray:
    """A polyline (K, 2) → `count` points evenly spaced along its length."""
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return np.repeat(p[:1], count, axis=0)
    t = np.linspace(0.0, s[-1], count)
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], axis=1)


def curvature_energy(pts: Tensor) -> Tensor:
    """(N, K, 2) polylines → (N,) Σ|second difference|² / Σ|step|²: ~0 for a straight line, large for a wiggle."""
    d1 = pts[:, 1:] - pts[:, :-1]  # (N, K-1, 2)
    d2 = d1[:, 1:] - d1[:, :-1]  # (N, K-2, 2)
    return d2.square().sum((1, 2)) / (d1.square().sum((1, 2)) + 1e-6)


def polyline_length(pts: Tensor) -> Tensor:
    """(N, K, 2) → (N,)."""
    return (pts[:, 1:] - pts[:, :-1]).square().sum(-1).add(1e-9).sqrt().sum(1)


def overlap_energy(pts: Tensor, sigma: float) -> Tensor:
    """(N, K, 2) → scalar: mean Gaussian proximity of sample points of *different* strokes (σ in [0, 1] units)."""
    n, k, _ = pts.shape
    if n < 2:
        return pts.sum() * 0.0
    flat = pts.reshape(n * k, 2)
    d2 = torch.cdist(flat, flat).square()  # (NK, NK)
    owner = torch.arange(n, device=pts.device).repeat_interleave(k)
    other = owner[:, None] != owner[None, :]
    return (torch.exp(-d2 / (2 * sigma * sigma)) * other).sum() / (n * (n - 1) * k)


class StrokesGenerator(SteerGenerator):
    name = "strokes"

    def __init__(
        self,
        size: int = 224,
        n_strokes: int = 48,
        segments: int = 2,
        samples_per_segment: int = 6,
        width_range: tuple[float, float] = (0.006, 0.03),  # fraction of the image side
        colour: bool = False,
        init_paths: list[np.ndarray] | None = None,  # polylines in [0, 1] coordinates
        seed: int = 0,
        lr_points: float = 0.006,
        lr_widths: float = 0.1,
        lr_inks: float = 0.05,
        reg: StrokeRegularisers | None = None,
    ) -> None:
        super().__init__()
        self.size = (size, size)
        self.samples = samples_per_segment
        self.width_range = width_range
        self.lrs = (lr_points, lr_widths, lr_inks)
        self.reg = reg or StrokeRegularisers()
        gen = torch.Generator().manual_seed(seed)
        c = 3 * segments + 1
        starts = 0.08 + 0.84 * torch.rand(n_strokes, 1, 2, generator=gen)  # (N, 1, 2)
        steps = 0.06 * torch.randn(n_strokes, c - 1, 2, generator=gen)
        ctrl = torch.cat([starts, starts + steps.cumsum(1)], 1)  # (N, C, 2): short random walks
        given = [p for p in (init_paths or []) if len(p) >= 2][:n_strokes]
        self.given = len(given)
        for i, p in enumerate(given):
            ctrl[i] = torch.from_numpy(_resample(np.asarray(p, np.float64), c)).float()
        self.ctrl = nn.Parameter(ctrl)
        w0 = torch.full((n_strokes,), -1.0)  # widths start near the thin end
        self.width_logit = nn.Parameter(w0 + 0.3 * torch.randn(n_strokes, generator=gen))
        ink0 = torch.full((n_strokes, 3 if colour else 1), -1.5)  # dark grey
        ink0[: len(given)] = -3.0  # the visitor's lines start black
        self.ink_logit = nn.Parameter(ink0 + 0.2 * torch.randn(ink0.shape, generator=gen))
        self.active = n_strokes  # strokes rendered now (the schedule may start with fewer)
        self.wide = 1.0  # the widest width now, × the range's top
        self._pts: Tensor | None = None  # the last forward's polylines, for penalty()

    def schedule(self, frac: float) -> None:
        r = self.reg
        ramp = 1.0 if r.full_at <= 0 else min(1.0, max(0.0, frac) / r.full_at)
        n = self.ctrl.shape[0]
        self.active = max(self.given, min(n, math.ceil(n * (r.start_fraction + (1 - r.start_fraction) * ramp))))
        self.wide = r.wide_start + (1.0 - r.wide_start) * ramp

    def widths_px(self) -> Tensor:
        lo, hi = self.width_range
        hi = lo + (hi - lo) * self.wide
        return (lo + (hi - lo) * torch.sigmoid(self.width_logit)) * max(self.size)  # (N,)

    def inks(self) -> Tensor:
        return torch.sigmoid(self.ink_logit).expand(-1, 3)  # (N, 3), 0 = black

    def forward(self) -> Tensor:
        k = self.active
        pts = bezier_polylines(self.ctrl[:k], self.samples)  # (k, K, 2)
        self._pts = pts
        return rasterise(pts, self.widths_px()[:k], self.inks()[:k], self.size)  # (3, H, W)

    def penalty(self) -> Tensor:
        pts, r = self._pts, self.reg
        if pts is None:
            return torch.zeros(())
        free = pts[self.given :]  # the visitor's own lines are not judged
        if len(free) == 0:
            return pts.sum() * 0.0
        total = r.curvature * curvature_energy(free).mean()
        length = polyline_length(free)
        hinge = torch.relu(r.min_length - length) + torch.relu(length - r.max_length)
        total = total + r.length * hinge.mean()
        if r.overlap > 0:
            sigma = float(self.widths_px().detach().mean()) / max(self.size)
            total = total + r.overlap * overlap_energy(free[:, ::3], max(sigma, 1e-3))  # every 3rd point: 9× cheaper
        return total

    def param_groups(self) -> list[dict[str, Any]]:
        lp, lw, li = self.lrs
        return [
            {"params": [self.ctrl], "lr": lp},
            {"params": [self.width_logit], "lr": lw},
            {"params": [self.ink_logit], "lr": li},
        ]

    @torch.no_grad()
    def constrain(self) -> None:
        self.ctrl.clamp_(-0.05, 1.05)
        self.width_logit.clamp_(-6.0, 6.0)
        self.ink_logit.clamp_(-6.0, 6.0)

    @torch.no_grad()
    def paths(self, min_darkness: float = 0.35) -> list[np.ndarray]:
        """Polylines in px, darkest first; a stroke that leaves the page is cut there into separate paths."""
        k = self.active
        side = float(max(self.size))
        pts = bezier_polylines(self.ctrl[:k], 16).numpy() * side  # (k, K, 2) in px
        dark = 1.0 - self.inks()[:k].mean(1).numpy()  # (k,)
        order = np.argsort(-dark, kind="stable")
        return [piece for i in order if dark[i] >= min_darkness for piece in cut_to_box(pts[i], (0, 0), (side, side))]
