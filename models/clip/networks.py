"""The small CLIP: a conv image encoder and a small transformer text encoder into one embedding space."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.clip.base import ClipModel
from models.clip.config import ClipConfig


def _conv_bn(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.GELU())


class _Stage(nn.Module):
    """Stride-2 conv then a residual 3×3 pair: (B, Cin, H, W) → (B, Cout, H/2, W/2)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.down = _conv_bn(cin, cout, 2)
        self.res = nn.Sequential(_conv_bn(cout, cout, 1), nn.Conv2d(cout, cout, 3, 1, 1, bias=False))
        self.norm = nn.BatchNorm2d(cout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.down(x)
        return F.gelu(x + self.norm(self.res(x)))


class ImageEncoder(nn.Module):
    def __init__(self, cfg: ClipConfig) -> None:
        super().__init__()
        w = cfg.widths
        self.stem = _conv_bn(3, w[0], 1)
        self.stages = nn.Sequential(*[_Stage(a, b) for a, b in zip((w[0], *w[:-1]), w, strict=True)])
        self.proj = nn.Linear(w[-1] * 2, cfg.embed_dim)

    def forward(self, x: Tensor) -> Tensor:  # (B, 3, S, S) → (B, D)
        x = self.stages(self.stem(x))  # (B, C, S/2^k, S/2^k)
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)  # (B, 2C): mean + max pooling
        return self.proj(pooled)


class _Block(nn.Module):
    """Pre-norm transformer block with a padding mask: (B, L, W) → (B, L, W)."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:  # bias (B, 1, 1, L): 0 for tokens, -1e4 for padding
        b, n, w = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(w // self.heads) + bias, dim=-1)  # (B, H, L, L)
        x = x + self.out((att @ v).transpose(1, 2).reshape(b, n, w))
        return x + self.mlp(self.ln2(x))


class TextEncoder(nn.Module):
    def __init__(self, cfg: ClipConfig) -> None:
        super().__init__()
        self.token = nn.Embedding(cfg.vocab_size, cfg.token_dim)
        self.lift = nn.Linear(cfg.token_dim, cfg.text_width)
        self.pos = nn.Parameter(torch.randn(cfg.context_length, cfg.text_width) * 0.01)
        self.blocks = nn.ModuleList([_Block(cfg.text_width, cfg.text_heads) for _ in range(cfg.text_layers)])
        self.ln = nn.LayerNorm(cfg.text_width)
        self.proj = nn.Linear(cfg.text_width, cfg.embed_dim)
        nn.init.normal_(self.token.weight, std=0.02)

    def forward(self, ids: Tensor) -> Tensor:  # (B, L) int → (B, D)
        ids = ids.long()
        keep = (ids != 0).to(self.pos.dtype)  # (B, L): 1 for real tokens (start/end included), 0 for padding
        x = self.lift(self.token(ids)) + self.pos[: ids.shape[1]]  # (B, L, W)
        bias = ((1.0 - keep) * -1e4)[:, None, None, :]  # (B, 1, 1, L)
        for blk in self.blocks:
            x = blk(x, bias)
        x = self.ln(x)
        pooled = (x * keep[..., None]).sum(1) / keep.sum(1, keepdim=True).clamp_min(1.0)  # (B, W) masked mean
        return self.proj(pooled)


class SmallClip(ClipModel):
    """The project's own CLIP (see config.py); trained by models/clip/train.py."""

    def __init__(self, cfg: ClipConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.image_size, self.embed_dim, self.context_length = cfg.image_size, cfg.embed_dim, cfg.context_length
        self.visual = ImageEncoder(cfg)
        self.text = TextEncoder(cfg)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.register_buffer("mean", torch.tensor(cfg.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(cfg.std).view(1, 3, 1, 1), persistent=False)

    def _image_features(self, x: Tensor) -> Tensor:
        return self.visual(x)

    def encode_tokens(self, ids: Tensor) -> Tensor:
        return F.normalize(self.text(ids.to(self.mean.device)), dim=-1)
