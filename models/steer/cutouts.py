"""Augmented views of one image for CLIP: random resized crops through a random perspective, plus noise.

Each cutout is one homography (crop scale and offset, mirror, rotation, corner jitter) applied with grid_sample,
so crop, flip, affine and perspective cost one resampling together. Outside the image is white paper. Strong,
many views are what keeps steering from finding the few adversarial pixels one fixed view would reward
(CLIPDraw, pixray). The CLIP encodes every view at its own side (48²), so the view count sets the cost: 8 views
at 1.5× the CLIP's side cost no more than the former 8 at 2× (12 measured 13–50 % slower a step; `--cutouts 12`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class CutoutParams:
    count: int = 8
    scale: tuple[float, float] = (0.4, 1.0)  # crop side as a fraction of the image side
    rotate_deg: float = 12.0
    perspective: float = 0.3  # corner jitter, fraction of the half side
    noise: float = 0.1  # std of added Gaussian noise
    keep_whole: bool = True  # the first cutout is the whole image, unaugmented
    flip: bool = True  # mirror half the views left-right (the CLIP was trained with flips: a drawing's mirror is it)
    side_factor: float = 1.5  # views are this many times the CLIP's input side (then shrunk, antialiased)


def _solve_homographies(src: Tensor, dst: Tensor) -> Tensor:
    """(B, 4, 2) corners → (B, 3, 3) homographies mapping src to dst (direct linear transform)."""
    b = src.shape[0]
    x, y = src[..., 0], src[..., 1]  # (B, 4)
    u, v = dst[..., 0], dst[..., 1]
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], -1)  # (B, 4, 8)
    rows_v = torch.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], -1)
    a = torch.cat([rows_u, rows_v], 1)  # (B, 8, 8)
    rhs = torch.cat([u, v], 1)[..., None]  # (B, 8, 1)
    h = torch.linalg.solve(a, rhs)[..., 0]  # (B, 8)
    return torch.cat([h, torch.ones(b, 1, dtype=h.dtype, device=h.device)], 1).reshape(b, 3, 3)


def random_homographies(n: int, prm: CutoutParams, gen: torch.Generator) -> Tensor:
    """(n, 3, 3) maps from output coordinates in [-1, 1]² to input coordinates in [-1, 1]²."""
    corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])  # (4, 2)
    lo, hi = prm.scale
    s = lo + (hi - lo) * torch.rand(n, 1, 1, generator=gen)  # (n, 1, 1)
    off = (torch.rand(n, 1, 2, generator=gen) * 2 - 1) * (1 - s)  # crop stays inside the image
    ang = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(prm.rotate_deg)
    rot = torch.stack([torch.cos(ang), -torch.sin(ang), torch.sin(ang), torch.cos(ang)], -1).reshape(n, 2, 2)
    jitter = (torch.rand(n, 4, 2, generator=gen) * 2 - 1) * prm.perspective
    mirror = torch.ones(n, 1, 2)
    if prm.flip:
        mirror[:, 0, 0] = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    dst = ((corners[None] + jitter) * mirror) @ rot.transpose(1, 2) * s + off  # (n, 4, 2) where output corners land
    return _solve_homographies(corners[None].expand(n, 4, 2), dst)


def cutouts(image: Tensor, size: int, prm: CutoutParams, gen: torch.Generator) -> Tensor:
    """(3, H, W) in [0, 1] → (count, 3, size, size) augmented views, differentiable w.r.t. the image."""
    n = prm.count
    hom = random_homographies(n, prm, gen).to(image.device)  # (n, 3, 3)
    if prm.keep_whole:
        hom[0] = torch.eye(3)
    lin = torch.linspace(-1.0 + 1.0 / size, 1.0 - 1.0 / size, size, device=image.device)  # pixel centres
    gy, gx = torch.meshgrid(lin, lin, indexing="ij")
    out_xy1 = torch.stack([gx, gy, torch.ones_like(gx)], -1).reshape(1, -1, 3)  # (1, S², 3)
    src = out_xy1 @ hom.transpose(1, 2)  # (n, S², 3)
    grid = (src[..., :2] / src[..., 2:].clamp_min(1e-3)).reshape(n, size, size, 2)  # (n, S, S, 2)
    ink = (1.0 - image)[None].expand(n, -1, -1, -1)  # (n, 3, H, W): zero padding of ink = white paper
    views = 1.0 - F.grid_sample(ink, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if prm.noise > 0:
        views = views + prm.noise * torch.randn(views.shape, generator=gen).to(views.device)
    return views.clamp(0.0, 1.0)  # (n, 3, S, S)
