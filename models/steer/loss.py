"""The steering loss: weighted spherical distances between image cutouts and prompt embeddings.

dist(a, b) = 2 · arcsin(‖a − b‖ / 2)² for L2-normalised a, b (the squared great-circle distance, up to a factor).
A positive weight pulls the image towards its text, a negative one pushes it away.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def spherical_distance(a: Tensor, b: Tensor) -> Tensor:
    """(A, D), (B, D) normalised → (A, B) distances in [0, π²/2]."""
    chord = (a[:, None, :] - b[None, :, :]).norm(dim=-1)  # (A, B)
    return 2.0 * torch.arcsin((chord / 2).clamp(max=1.0)).pow(2)


@dataclass
class Target:
    """Encoded prompts: text embeddings (P, D) and their weights (P,)."""

    embeds: Tensor
    weights: Tensor


def steer_loss(image_embeds: Tensor, target: Target) -> Tensor:
    """(C, D) cutout embeddings → scalar: Σ_p w_p · mean_c dist(image_c, text_p)."""
    d = spherical_distance(image_embeds, target.embeds)  # (C, P)
    return (d.mean(0) * target.weights).sum()


def similarity(image_embeds: Tensor, text_embeds: Tensor) -> Tensor:
    """Cosine similarity (A, B) of normalised embeddings."""
    return image_embeds @ text_embeds.T


def encode_target(clip: torch.nn.Module, texts: list[str], weights: list[float]) -> Target:
    with torch.no_grad():
        emb = clip.encode_text(texts)  # type: ignore[operator]  # (P, D)
    return Target(emb.detach(), torch.tensor(weights, dtype=emb.dtype, device=emb.device))
