"""pix2pix networks: the U-Net generator (reference `unet_256` structure) and the 70×70 PatchGAN.

The U-Net is built from the innermost block outwards, each block wrapping the previous one with a skip:
    down: Conv4x4/2 (LeakyReLU 0.2 before it, norm after it)  up: ReLU, ConvTranspose4x4/2, norm (+dropout)
Outermost: no norm, Tanh out. Innermost: no norm on the down conv. Conv bias only with instance norm, as
the reference (batch norm's shift makes the bias redundant).
"""

from __future__ import annotations

import torch
from torch import nn

from models.pix2pix.config import Pix2PixConfig


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class UnetBlock(nn.Module):
    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        in_nc: int | None,
        sub: nn.Module | None,
        norm: str,
        outermost: bool = False,
        innermost: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        in_nc = outer_nc if in_nc is None else in_nc
        bias = norm == "instance"
        down_conv = nn.Conv2d(in_nc, inner_nc, 4, 2, 1, bias=bias)
        if outermost:
            up_conv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1)
            layers: list[nn.Module] = [down_conv, sub, nn.ReLU(True), up_conv, nn.Tanh()]  # type: ignore[list-item]
        elif innermost:
            up_conv = nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down_conv, nn.ReLU(True), up_conv, norm_layer(norm, outer_nc)]
        else:
            up_conv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down_conv, norm_layer(norm, inner_nc), sub]  # type: ignore[list-item]
            layers += [nn.ReLU(True), up_conv, norm_layer(norm, outer_nc)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)  # skip: [N, C_in + C_out, H, W]


class UnetGenerator(nn.Module):
    """[N, input_nc, S, S] in [-1, 1] → [N, output_nc, S, S] in [-1, 1]."""

    def __init__(self, cfg: Pix2PixConfig) -> None:
        super().__init__()
        ngf, norm = cfg.ngf, cfg.norm
        block = UnetBlock(ngf * 8, ngf * 8, None, None, norm, innermost=True)
        for _ in range(cfg.depth - 5):  # the 8·ngf blocks between the innermost and the 4·ngf one
            block = UnetBlock(ngf * 8, ngf * 8, None, block, norm, dropout=cfg.dropout)
        block = UnetBlock(ngf * 4, ngf * 8, None, block, norm)
        block = UnetBlock(ngf * 2, ngf * 4, None, block, norm)
        block = UnetBlock(ngf, ngf * 2, None, block, norm)
        self.model = UnetBlock(cfg.output_nc, ngf, cfg.input_nc, block, norm, outermost=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN on concat(sketch, image): [N, in+out, S, S] → logits [N, 1, S/8 - 2, S/8 - 2] (n_layers 3)."""

    def __init__(self, cfg: Pix2PixConfig) -> None:
        super().__init__()
        ndf, bias = cfg.ndf, cfg.norm == "instance"
        layers: list[nn.Module] = [nn.Conv2d(cfg.input_nc + cfg.output_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, cfg.n_layers_d):
            prev, mult = mult, min(2**n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1, bias=bias), norm_layer(cfg.norm, ndf * mult)]
            layers.append(nn.LeakyReLU(0.2, True))
        prev, mult = mult, min(2**cfg.n_layers_d, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1, bias=bias), norm_layer(cfg.norm, ndf * mult)]
        layers += [nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def init_weights(net: nn.Module, gain: float = 0.02) -> None:
    """Normal(0, 0.02) init for convs and norm scales, as the reference."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
