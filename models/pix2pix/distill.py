"""Distilling a teacher generator into a smaller student (as GAN Compression does): outputs and features.

The student learns the teacher's answer (L1 to the teacher's output) and, at every U-Net block, the teacher's
intermediate features through a learnable 1×1 convolution from the student's channels to the teacher's
(mean squared error, teacher detached). Both are U-Nets of the same depth, so block k of one lines up with
block k of the other at the same resolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.pix2pix.networks import UnetBlock, UnetGenerator


def block_outputs(g: UnetGenerator, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The generator's answer and every inner block's output (outermost first), in one forward pass."""
    feats: list[torch.Tensor] = []
    blocks = [m for m in g.modules() if isinstance(m, UnetBlock) and not m.outermost]
    hooks = [b.register_forward_hook(lambda _m, _i, o: feats.append(o)) for b in blocks]
    try:
        y = g(x)
    finally:
        for h in hooks:
            h.remove()
    return y, feats[::-1]  # hooks fire innermost first: reverse to outermost first


class FeatureMaps(nn.Module):
    """1×1 convolutions mapping each student block's channels onto the teacher's."""

    def __init__(self, student: UnetGenerator, teacher: UnetGenerator, size: int) -> None:
        super().__init__()
        x = torch.zeros(1, 1, size, size)
        with torch.no_grad():
            _, fs = block_outputs(student, x)
            _, ft = block_outputs(teacher, x)
        if len(fs) != len(ft):
            raise ValueError(f"student has {len(fs)} blocks, teacher {len(ft)}: they must have the same depth")
        self.maps = nn.ModuleList(nn.Conv2d(a.shape[1], b.shape[1], 1) for a, b in zip(fs, ft, strict=True))


def distill_loss(
    student_y: torch.Tensor,
    student_f: list[torch.Tensor],
    teacher_y: torch.Tensor,
    teacher_f: list[torch.Tensor],
    maps: FeatureMaps,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(output L1 to the teacher, mean feature MSE over blocks), the teacher side detached."""
    out = F.l1_loss(student_y.float(), teacher_y.detach().float())
    feat = torch.stack(
        [F.mse_loss(m(s).float(), t.detach().float()) for m, s, t in zip(maps.maps, student_f, teacher_f, strict=True)]
    ).mean()
    return out, feat
