"""CLIPDraw-style strokes: the parameters are Bézier control points, widths and inks, rendered by raster.py.

Strokes may start from given polylines (the visitor's sketch, vectorised); the rest start as short random
curves. Separate learning rates for points, widths and inks, as CLIPDraw does. The result is vector: paths()
hands the plotter the strokes that are dark enough to draw, darkest first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from models.steer.base import SteerGenerator
from models.steer.raster import bezier_polylines, rasterise


def _resample(p: np.ndarray, count: int) -> np.ndarray:
    """A polyline (K, 2) → `count` points evenly spaced along its length."""
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return np.repeat(p[:1], count, axis=0)
    t = np.linspace(0.0, s[-1], count)
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], axis=1)


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
    ) -> None:
        super().__init__()
        self.size = (size, size)
        self.samples = samples_per_segment
        self.width_range = width_range
        self.lrs = (lr_points, lr_widths, lr_inks)
        gen = torch.Generator().manual_seed(seed)
        c = 3 * segments + 1
        starts = 0.08 + 0.84 * torch.rand(n_strokes, 1, 2, generator=gen)  # (N, 1, 2)
        steps = 0.06 * torch.randn(n_strokes, c - 1, 2, generator=gen)
        ctrl = torch.cat([starts, starts + steps.cumsum(1)], 1)  # (N, C, 2): short random walks
        given = [p for p in (init_paths or []) if len(p) >= 2][:n_strokes]
        for i, p in enumerate(given):
            ctrl[i] = torch.from_numpy(_resample(np.asarray(p, np.float64), c)).float()
        self.ctrl = nn.Parameter(ctrl)
        w0 = torch.full((n_strokes,), -1.0)  # widths start near the thin end
        self.width_logit = nn.Parameter(w0 + 0.3 * torch.randn(n_strokes, generator=gen))
        ink0 = torch.full((n_strokes, 3 if colour else 1), -1.5)  # dark grey
        ink0[: len(given)] = -3.0  # the visitor's lines start black
        self.ink_logit = nn.Parameter(ink0 + 0.2 * torch.randn(ink0.shape, generator=gen))

    def widths_px(self) -> Tensor:
        lo, hi = self.width_range
        return (lo + (hi - lo) * torch.sigmoid(self.width_logit)) * max(self.size)  # (N,)

    def inks(self) -> Tensor:
        return torch.sigmoid(self.ink_logit).expand(-1, 3)  # (N, 3), 0 = black

    def forward(self) -> Tensor:
        pts = bezier_polylines(self.ctrl, self.samples)  # (N, K, 2)
        return rasterise(pts, self.widths_px(), self.inks(), self.size)  # (3, H, W)

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
        pts = bezier_polylines(self.ctrl, 16).numpy() * max(self.size)  # (N, K, 2) in px
        dark = 1.0 - self.inks().mean(1).numpy()  # (N,)
        order = np.argsort(-dark)
        return [np.clip(pts[i], 0, max(self.size)) for i in order if dark[i] >= min_darkness]
