"""Image metrics on [-1, 1] tensors [N, C, H, W]: L1 and SSIM (Gaussian window 11, σ 1.5, per channel)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def l1(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().mean())


def _window(channels: int, device: torch.device) -> torch.Tensor:
    x = torch.arange(11, dtype=torch.float32, device=device) - 5
    g = torch.exp(-(x**2) / (2 * 1.5**2))
    g = g / g.sum()
    w = (g[:, None] * g[None, :])[None, None]  # [1, 1, 11, 11]
    return w.expand(channels, 1, 11, 11).contiguous()


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean SSIM of images mapped to [0, 1]."""
    a, b = (a.float() + 1) / 2, (b.float() + 1) / 2
    c = a.shape[1]
    w = _window(c, a.device)
    mu_a, mu_b = F.conv2d(a, w, groups=c), F.conv2d(b, w, groups=c)
    var_a = F.conv2d(a * a, w, groups=c) - mu_a**2
    var_b = F.conv2d(b * b, w, groups=c) - mu_b**2
    cov = F.conv2d(a * b, w, groups=c) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(s.mean())
