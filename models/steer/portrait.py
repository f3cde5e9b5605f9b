"""The pix2pix portrait, steered by strokes added to the visitor's sketch.

portrait = G(sketch ∪ added strokes): the visitor's ink is kept as drawn, CLIP moves only the added strokes, and
a penalty on the added ink keeps them few and light, so the prompt bends the AI's answer to the drawing instead
of replacing it. G is the project's trained pix2pix generator (frozen; torch, for gradients).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from models.steer.base import SteerGenerator
from models.steer.strokes import StrokesGenerator

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[1] / "pix2pix" / "trained" / "pix2pix_default.pt"


class PortraitGenerator(SteerGenerator):
    name = "portrait"

    def __init__(
        self,
        sketch: Tensor,  # (H, W) in [0, 1], 1 = paper, at the generator's resolution
        generator: torch.nn.Module,
        n_strokes: int = 24,
        ink_penalty: float = 2.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        h, w = sketch.shape
        self.size = (h, w)
        self.register_buffer("sketch", sketch.float()[None])  # (1, H, W)
        self.g = generator.eval()
        for p in self.g.parameters():
            p.requires_grad_(False)
        self.added = StrokesGenerator(size=h, n_strokes=n_strokes, segments=1, seed=seed, lr_points=0.004)
        with torch.no_grad():
            self.added.ink_logit.fill_(0.0)  # added strokes start mid-grey: they must earn their darkness
        self.ink_penalty = ink_penalty
        self._last_added: Tensor | None = None

    @torch.no_grad()
    def set_sketch(self, sketch: Tensor) -> None:
        """A newer drawing (H', W') in [0, 1]: replaces the visitor's part in place; the added strokes stay."""
        if sketch.shape != self.sketch.shape[1:]:
            sketch = torch.nn.functional.interpolate(sketch[None, None].float(), size=self.size, mode="area")[0, 0]
        self.sketch.copy_(sketch[None])

    def combined_sketch(self) -> Tensor:
        """(1, H, W): the visitor's sketch with the added strokes multiplied on (ink darkens)."""
        added = self.added()[:1]  # (1, H, W) grey strokes on white
        self._last_added = added
        return self.sketch * added

    def forward(self) -> Tensor:
        x = self.combined_sketch() * 2.0 - 1.0  # (1, H, W) in [-1, 1], paper +1
        y = self.g(x[None])[0]  # (3, H, W) in [-1, 1]
        return (y + 1.0) * 0.5

    def penalty(self) -> Tensor:
        if self._last_added is None:
            return torch.zeros(())
        return self.ink_penalty * (1.0 - self._last_added).mean()

    def param_groups(self) -> list[dict[str, Any]]:
        return self.added.param_groups()

    @torch.no_grad()
    def constrain(self) -> None:
        self.added.constrain()

    def paths(self) -> list[np.ndarray] | None:
        return None  # the portrait is pixels; the CLI vectorises it for the plotter


def load_portrait_generator(path: Path | None = None) -> tuple[torch.nn.Module, int]:
    """The pix2pix generator (frozen, eval) and its resolution."""
    from installation.core.errors import UserError
    from models.pix2pix.checkpoint import load_generator

    path = path or DEFAULT_CHECKPOINT
    g, cfg, _ = load_generator(path)
    if cfg.input_nc != 1 or cfg.output_nc != 3:
        raise UserError(f"checkpoint {path} maps {cfg.input_nc}→{cfg.output_nc} channels; steering needs 1→3")
    return g, cfg.resolution
