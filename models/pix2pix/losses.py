"""The training objective's terms, as plain functions on tensors (pure torch, no state).

GAN losses (per discriminator scale, averaged over scales):
    vanilla  BCE on logits (the reference pix2pix)
    lsgan    least squares: D pushes real → 1, fake → 0; G pushes fake → 1 (pix2pixHD's choice)
    hinge    D: relu(1 - real) + relu(1 + fake); G: -fake
Feature matching: L1 between D's activations on the real pair and on the generated pair, every layer of every
scale (the real side detached), the stabiliser pix2pixHD pairs with multi-scale D.
Consistency: mean |G(before) - G(after)| over the pixels far from the newest stroke.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

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


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))
