"""The training objective's terms, as plain functions on tensors (pure torch, no state).

GAN losses (per discriminator scale, averaged over scales):
    vanilla  BCE on logits (the reference pix2pix)
    lsgan    least squares: D pushes real → 1, fake → 0; G pushes fake → 1 (pix2pixHD's choice)
    hinge    D: relu(1 - real) + relu(1 + fake); G: -fake
Feature matching: L1 between D's activations on the real pair and on the generated pair, every layer of every
scale (the real side detached), the stabiliser pix2pixHD pairs with multi-scale D.
Consistency: mean |G(before) - G(after)| over the pixels far from the newest stroke.
Lattice excess: how far the answer's lattice peak (metrics.lattice_peak, on its luminance) exceeds an allowed
ratio, as a hinge on the log ratio of every lattice frequency. The ratio, not the peak's power: a term on the
power alone is lowered most cheaply by blurring the whole answer (a first CPU run with the ring held fixed lost
its pen lines and 0.02 of L1 in one epoch); blurring lowers peak and ring together and gains nothing here,
except where the ring is already at the 8-bit floor (flat fills), as in the metric.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from models.pix2pix import metrics
from models.pix2pix.metrics import LUMA, rounding_floor

GAN_LOSSES = ("vanilla", "lsgan", "hinge")


def d_loss(kind: str, real: list[torch.Tensor], fake: list[torch.Tensor]) -> torch.Tensor:
    """Discriminator loss over scales: real/fake are lists of logits [N, 1, h, w], one per scale."""
    terms = []
    for r, f in zip(real, fake, strict=True):
        r, f = r.float(), f.float()
        if kind == "vanilla":
            terms.append(0.5 * (_bce(r, 1.0) + _bce(f, 0.0)))
        elif kind == "lsgan":
            terms.append(0.5 * (((r - 1) ** 2).mean() + (f**2).mean()))
        elif kind == "hinge":
            terms.append(F.relu(1 - r).mean() + F.relu(1 + f).mean())
        else:
            raise ValueError(f"unknown GAN loss {kind!r}")
    return torch.stack(terms).mean()


def g_loss(kind: str, fake: list[torch.Tensor]) -> torch.Tensor:
    """Generator's adversarial loss over scales (fake: logits per scale)."""
    terms = []
    for f in fake:
        f = f.float()
        if kind == "vanilla":
            terms.append(_bce(f, 1.0))
        elif kind == "lsgan":
            terms.append(((f - 1) ** 2).mean())
        elif kind == "hinge":
            terms.append(-f.mean())
        else:
            raise ValueError(f"unknown GAN loss {kind!r}")
    return torch.stack(terms).mean()


def feature_matching(real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """Mean over scales of the summed per-layer L1 (logits excluded) between real (detached) and fake features."""
    per_scale = []
    for rs, fs in zip(real, fake, strict=True):
        per_scale.append(sum(F.l1_loss(f.float(), r.detach().float()) for r, f in zip(rs[:-1], fs[:-1], strict=True)))
    return torch.stack([torch.as_tensor(t) for t in per_scale]).mean()


def far_consistency(before: torch.Tensor, after: torch.Tensor, far: torch.Tensor) -> torch.Tensor:
    """Mean |before - after| where far = 1. before/after [N, C, S, S], far [N, 1, S, S] in {0, 1}."""
    w = far.expand_as(before).float()
    return ((before.float() - after.float()).abs() * w).sum() / w.sum().clamp_min(1.0)


def lattice_excess(fake: torch.Tensor, allowed: float = 6.0) -> torch.Tensor:
    """Mean over images of Σ over lattice frequencies of relu(log(peak / ring) - log(allowed)): 0 when every
    lattice frequency of every answer is at most `allowed` times its ring. fake [N, 3, S, S] in [-1, 1]."""
    return F.relu(lattice_log_ratios(fake) - float(np.log(allowed))).sum(dim=1).mean()


def lattice_log_ratios(fake: torch.Tensor) -> torch.Tensor:
    """log(peak / ring) at each lattice frequency: [N, 3, S, S] in [-1, 1] → [N, L] (L = 63 at periods 2/4/8).

    Peak and ring as metrics.lattice_peak measures them (Hann-windowed luminance, mean removed; the peak the
    largest power within ±1 bin; the ring the same radius 2-4 bins away, or the same axis for a frequency on
    one; floored at 8-bit rounding noise), so exp of the row's max is that image's lattice peak.
    """
    with torch.autocast(fake.device.type, enabled=False):  # the FFT in fp32, whatever the training's precision
        return _lattice_log_ratios(fake.float())


def _lattice_log_ratios(fake: torch.Tensor) -> torch.Tensor:
    n = fake.shape[-1]
    rows, cols, centre, ring = _lattice_boxes(n, str(fake.device))  # [L, 9] [L, 9] [9, 9] [L, 9, 9]
    rgb = (fake + 1) / 2  # [N, 3, S, S] in [0, 1]
    grey = sum(k * rgb[:, i] for i, k in enumerate(LUMA))  # [N, S, S]
    w = torch.hann_window(n, periodic=False, dtype=torch.float32, device=fake.device)  # = np.hanning(n)
    grey = (grey - grey.mean(dim=(1, 2), keepdim=True)) * w[:, None] * w[None, :]
    power = torch.fft.fft2(grey).abs() ** 2  # [N, S, S]
    box = power[:, rows[:, :, None], cols[:, None, :]]  # [N, L, 9, 9] around each lattice frequency
    peak = box[:, :, centre].amax(dim=2)  # [N, L]
    ref = (box * ring).sum(dim=(2, 3)) / ring.sum(dim=(1, 2))  # [N, L]
    return torch.log(peak.clamp_min(1e-30)) - torch.log(ref.clamp_min(rounding_floor(n)))


@functools.lru_cache(maxsize=8)
def _lattice_boxes(n: int, device: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """metrics.lattice_boxes as tensors on `device` (the ring as float weights)."""
    rows, cols, centre, ring = metrics.lattice_boxes(n)
    dev = torch.device(device)
    return (
        torch.tensor(rows, device=dev),  # copies: metrics' arrays are shared and read-only
        torch.tensor(cols, device=dev),
        torch.tensor(centre, device=dev),
        torch.tensor(ring, dtype=torch.float32, device=dev),
    )


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))
