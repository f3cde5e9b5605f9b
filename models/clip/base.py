"""The one interface every CLIP here satisfies: the small CLIP this project trains and open_clip checkpoints."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ClipModel(nn.Module):
    """encode_image / encode_text → L2-normalised (B, D) embeddings; gradients flow through encode_image.

    Subclasses set image_size, embed_dim, context_length and the mean/std buffers, and implement
    `_image_features` (normalised pixels at the native size) and `encode_tokens` (int token ids).
    """

    image_size: int  # the encoder's native input side
    embed_dim: int
    context_length: int  # token ids per text
    mean: Tensor  # (1, 3, 1, 1) buffer
    std: Tensor

    def _image_features(self, x: Tensor) -> Tensor:  # (B, 3, S, S) normalised → (B, D) unnormalised
        raise NotImplementedError

    def encode_tokens(self, ids: Tensor) -> Tensor:  # (B, L) int32/int64 token ids → (B, D) L2-normalised
        raise NotImplementedError

    def tokenize(self, texts: list[str]) -> Tensor:
        """(B, context_length) int32 token ids on the model's device."""
        from models.clip.tokenizer import tokenize

        return torch.from_numpy(tokenize(texts, self.context_length)).to(self.mean.device)

    def encode_image(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) float RGB in [0, 1], any H, W → (B, D) L2-normalised; differentiable."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"encode_image wants (B, 3, H, W), got {tuple(images.shape)}")
        x = images.to(self.mean.dtype)
        if x.shape[-2:] != (self.image_size, self.image_size):
            # (B, 3, H, W) → (B, 3, S, S); antialiased when shrinking so thin lines survive
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", antialias=True)
        x = (x - self.mean) / self.std
        return F.normalize(self._image_features(x), dim=-1)

    def encode_text(self, texts: list[str]) -> Tensor:
        """B texts → (B, D) L2-normalised."""
        return self.encode_tokens(self.tokenize(texts))

    @torch.no_grad()
    def score(self, images: Tensor, texts: list[str]) -> np.ndarray:
        """(B, N) cosine similarity of each image with each text."""
        return (self.encode_image(images) @ self.encode_text(texts).T).float().cpu().numpy()
