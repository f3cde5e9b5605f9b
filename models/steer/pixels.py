"""Pixels through a Fourier parameterisation with decorrelated colour.

The image is the inverse real FFT of a learnable spectrum whose coefficients are scaled by 1/frequency^decay, so
a gradient step changes low frequencies as readily as high ones (plain pixels would turn to noise). With the
orthonormal FFT the scale is 1/f^decay itself (as lucid's spectrum parameterisation): an earlier version also
divided it by the side, which made every spectrum step ~side× too small, so only the learned colour offset moved
and the image collapsed to one flat colour. The offset (the paper's grey) is now fixed, not learned, so the only
way the optimiser can change the image is to draw structure into it.

The three channels are an opponent basis (luminance, red-green, blue-yellow; orthonormal), chroma damped (the
CLIP learned from drawings: mostly dark ink on white), then mapped to RGB and squashed by a sigmoid. It may start
from an image (the visitor's sketch or the current AI image).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from models.steer.base import SteerGenerator

_OPPONENT = torch.tensor(
    [
        [1 / math.sqrt(3), 1 / math.sqrt(2), 1 / math.sqrt(6)],
        [1 / math.sqrt(3), -1 / math.sqrt(2), 1 / math.sqrt(6)],
        [1 / math.sqrt(3), 0.0, -2 / math.sqrt(6)],
    ]
)  # (3 rgb, 3 opponent): columns are the orthonormal opponent axes
CHROMA = 0.35  # damping of the two chroma axes relative to luminance


def _mix(chroma: float = CHROMA) -> Tensor:
    return _OPPONENT * torch.tensor([1.0, chroma, chroma])[None, :]  # (3 rgb, 3 opp)


class PixelsGenerator(SteerGenerator):
    name = "pixels"

    def __init__(
        self,
        size: int = 224,
        init_image: Tensor | None = None,  # (3, H, W) in [0, 1]
        seed: int = 0,
        decay: float = 1.25,  # spectrum falls as 1/f^decay: higher is smoother
        lr: float = 0.025,
        init_std: float = 0.01,
        paper: float = 0.9,  # the starting grey when no image is given
        chroma: float = CHROMA,
    ) -> None:
        super().__init__()
        self.size = (size, size)
        self.lr = lr
        self.register_buffer("mix", _mix(chroma))
        fy = torch.fft.fftfreq(size)[:, None]  # (H, 1)
        fx = torch.fft.rfftfreq(size)[None, :]  # (1, W/2+1)
        freq = torch.sqrt(fx**2 + fy**2).clamp_min(1.0 / size)  # (H, W/2+1)
        self.register_buffer("scale", freq ** (-decay))  # (H, W/2+1): with norm="ortho", as lucid's spectrum
        gen = torch.Generator().manual_seed(seed)
        spec = init_std * torch.randn(3, size, size // 2 + 1, 2, generator=gen)  # (3, H, W/2+1, re/im)
        bias = torch.full((3,), math.log(paper / (1 - paper)))
        if init_image is not None:
            spec, bias = self._from_image(init_image), torch.zeros(3)
        self.spectrum = nn.Parameter(spec)
        self.register_buffer("bias", bias)  # fixed: a learned offset is what let the image collapse to a colour

    def _from_image(self, img: Tensor) -> Tensor:
        h, w = self.size
        img = torch.nn.functional.interpolate(img[None], size=(h, w), mode="area")[0]  # (3, H, W)
        logit = torch.logit(img.clamp(0.02, 0.98))  # (3, H, W)
        opp = torch.einsum("co,chw->ohw", torch.linalg.inv(self.mix).T, logit)  # (3 opp, H, W)
        spec = torch.fft.rfft2(opp, norm="ortho") / self.scale  # (3, H, W/2+1) complex
        return torch.view_as_real(spec).contiguous()

    def forward(self) -> Tensor:
        h, w = self.size
        spec = torch.view_as_complex(self.spectrum) * self.scale  # (3, H, W/2+1)
        opp = torch.fft.irfft2(spec, s=(h, w), norm="ortho")  # (3, H, W)
        rgb = torch.einsum("ro,ohw->rhw", self.mix, opp) + self.bias[:, None, None]  # (3, H, W)
        return torch.sigmoid(rgb)

    def param_groups(self) -> list[dict[str, Any]]:
        return [{"params": [self.spectrum], "lr": self.lr}]

    def paths(self) -> list[np.ndarray] | None:
        return None
