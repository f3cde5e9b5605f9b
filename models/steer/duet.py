"""Duet strokes: a few new pen strokes added to the sheet as it is, steered by CLIP, kept off the artist's ink.

The sheet (the artist's lines and the AI's earlier ones) is a fixed background; only the new strokes' Bézier
control points are optimised (one pen: fixed width, black ink), so nothing on the sheet is ever erased.
CLIP sees the sheet with the new strokes multiplied onto it. The penalty is the share of the new strokes'
coverage that falls on `avoid` (the artist's ink, widened by the pen's half width): it pushes strokes off the
artist's lines, and an end may still rest against a line (the post-filter in installation/core/duet_ink.py
cuts whatever still crosses).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from models.steer.base import SteerGenerator
from models.steer.raster import bezier_polylines, rasterise


class DuetStrokesGenerator(SteerGenerator):
    name = "duet"

    def __init__(
        self,
        sheet: Tensor,  # (S, S) in [0, 1], 1 = paper
        avoid: Tensor,  # (S, S) in [0, 1], 1 = the artist's ink
        starts: list[np.ndarray],  # each (4, 2) control points in [0, 1] coordinates: one cubic per stroke
        width_px: float = 1.5,
        avoid_weight: float = 4.0,
        lr: float = 0.008,
    ) -> None:
        super().__init__()
        if not starts:
            raise ValueError("a duet turn needs at least one starting stroke")
        s = sheet.shape[-1]
        self.size = (s, s)
        self.register_buffer("sheet", sheet.float().reshape(1, s, s))
        self.register_buffer("avoid", avoid.float().reshape(s, s))
        self.ctrl = nn.Parameter(torch.from_numpy(np.stack(starts)).float())  # (N, 4, 2)
        self.width_px = width_px
        self.avoid_weight = avoid_weight
        self.lr = lr
        self._cover: Tensor | None = None

    def _strokes(self) -> Tensor:
        n = self.ctrl.shape[0]
        pts = bezier_polylines(self.ctrl, 12)  # (N, 13, 2)
        widths = torch.full((n,), self.width_px)
        inks = torch.zeros(n, 3)
        return rasterise(pts, widths, inks, self.size)  # (3, S, S): the new strokes alone, on white

    def forward(self) -> Tensor:
        alone = self._strokes()
        self._cover = 1.0 - alone[0]  # (S, S) the new strokes' coverage
        return alone * self.sheet  # (3, S, S)

    def penalty(self) -> Tensor:
        if self._cover is None:
            return torch.zeros(())
        over = (self._cover * self.avoid).sum() / self._cover.sum().clamp_min(1.0)
        return self.avoid_weight * over

    def param_groups(self) -> list[dict[str, Any]]:
        return [{"params": [self.ctrl], "lr": self.lr}]

    @torch.no_grad()
    def constrain(self) -> None:
        self.ctrl.clamp_(0.02, 0.98)

    @torch.no_grad()
    def paths(self) -> list[np.ndarray]:
        """The new strokes as polylines in pixels of `size`, in the order they were given."""
        pts = bezier_polylines(self.ctrl, 16).numpy() * self.size[0]  # (N, 17, 2)
        return [p for p in pts]
