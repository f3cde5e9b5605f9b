"""What every steered generator offers the Steerer loop."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn


class SteerGenerator(nn.Module):
    """Holds its own parameters; forward() renders them to an image (3, H, W) in [0, 1]."""

    name = "base"
    size: tuple[int, int] = (128, 128)

    def param_groups(self) -> list[dict[str, Any]]:
        """Adam parameter groups, each with its own learning rate."""
        raise NotImplementedError

    def penalty(self) -> Tensor:
        """An extra loss term (e.g. keep added ink small); zero by default."""
        return torch.zeros(())

    def schedule(self, frac: float) -> None:
        """Called before each step with the fraction of the planned run done (0 → 1); nothing by default."""

    @torch.no_grad()
    def constrain(self) -> None:
        """Called after each optimiser step to keep parameters in their valid range."""

    def paths(self) -> list[np.ndarray] | None:
        """Plotter polylines in pixel coordinates of `size` (darkest first), or None if the result is pixels."""
        return None
