"""pix2pix networks: the U-Net generator (reference `unet_256` structure) and the 70×70 PatchGAN.

The U-Net is built from the innermost block outwards, each block wrapping the previous one with a skip:
    down: Conv4x4/2 (LeakyReLU 0.2 before it, norm after it)  up: ReLU, ConvTranspose4x4/2, norm (+dropout)
Outermost: no norm, Tanh out. Innermost: no norm on the down conv. Conv bias only with instance norm, as
the reference (batch norm's shift makes the bias redundant).

`upsample = "resize"` replaces every transposed convolution (whose overlapping 4×4/2 kernels print a
period-2/4/8 lattice on the answer) by Conv3x3 at the low resolution, norm, then bilinear ×2: bilinear
interpolation has no response at the lattice frequency, so nothing can learn a checkerboard, and the conv at
half resolution costs about half of the transposed one. The outermost block then convolves the up-sampled
features together with the input sketch at full resolution (Conv3x3 → Tanh), so pen lines stay sharp.

`downsample = "blur"` low-passes the input of every stride-2 down convolution with a fixed [1 2 1]² binomial
(anti-aliased down-sampling, as in Zhang 2019): detail above the half-resolution Nyquist is attenuated instead of
folding into a pattern fixed to the network's pixel grid (the worst lattice answers are mostly such a pattern:
`benchmarks/lattice_grid.py`). The weights keep the strided model's names and shapes, so a strided checkpoint
starts a blurred one whole (`--init-from`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.pix2pix.config import Pix2PixConfig


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class BlurConv2d(nn.Conv2d):
    """A strided Conv2d whose input is first low-passed by a fixed [1 2 1]² / 16 (per channel, edges replicated).

    [N, C, H, W] → the Conv2d's output. The binomial has no response at the input's own Nyquist frequency and half
    at half of it, so what the stride would fold back is mostly gone. Parameters are the Conv2d's alone.
    """

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - nn.Conv2d's
        super().__init__(*args, **kwargs)
        k = torch.tensor([1.0, 2.0, 1.0])
        k2 = (k[:, None] * k[None, :]) / 16.0  # [3, 3], sums to 1
        self.register_buffer("blur", k2.expand(self.in_channels, 1, 3, 3).clone(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (1, 1, 1, 1), mode="replicate")
        x = F.conv2d(x, self.blur.to(x.dtype), groups=self.in_channels)  # [N, C, H, W], low-passed
        return super().forward(x)


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
        upsample: str = "transpose",
        downsample: str = "stride",
    ) -> None:
        super().__init__()
        self.outermost = outermost
        self.resize = upsample == "resize"
        in_nc = outer_nc if in_nc is None else in_nc
        bias = norm == "instance"
        down_conv = (BlurConv2d if downsample == "blur" else nn.Conv2d)(in_nc, inner_nc, 4, 2, 1, bias=bias)
        if self.resize:
            self._build_resize(outer_nc, inner_nc, in_nc, sub, norm, down_conv, outermost, innermost, dropout, bias)
            return
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

    def _build_resize(  # noqa: PLR0913 - mirrors __init__
        self,
        outer_nc: int,
        inner_nc: int,
        in_nc: int,
        sub: nn.Module | None,
        norm: str,
        down_conv: nn.Conv2d,
        outermost: bool,
        innermost: bool,
        dropout: float,
        bias: bool,
    ) -> None:
        up_in = inner_nc if innermost else inner_nc * 2
        up2 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        if outermost:
            mid = max(outer_nc, inner_nc // 2)
            self.model = nn.Sequential(down_conv, sub, nn.ReLU(True), nn.Conv2d(up_in, mid, 3, 1, 1), up2)  # type: ignore[arg-type]
            self.final = nn.Sequential(nn.LeakyReLU(0.2, True), nn.Conv2d(mid + in_nc, outer_nc, 3, 1, 1), nn.Tanh())
            return
        # the innermost works at 1×1 (no statistics to normalise): its global code goes up un-normalised
        up_norm = [] if innermost else [norm_layer(norm, outer_nc)]
        up = [nn.ReLU(True), nn.Conv2d(up_in, outer_nc, 3, 1, 1, bias=bias or innermost), *up_norm, up2]
        if dropout > 0 and not innermost:
            up.append(nn.Dropout(dropout))
        down: list[nn.Module] = [nn.LeakyReLU(0.2, True), down_conv]
        if not innermost:
            down += [norm_layer(norm, inner_nc), sub]  # type: ignore[list-item]
        self.model = nn.Sequential(*down, *up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            if self.resize:  # [N, mid, S, S] features beside the sketch itself → [N, out, S, S]
                return self.final(torch.cat([self.model(x), x], 1))
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)  # skip: [N, C_in + C_out, H, W]


class UnetGenerator(nn.Module):
    """[N, input_nc, S, S] in [-1, 1] → [N, output_nc, S, S] in [-1, 1]."""

    def __init__(self, cfg: Pix2PixConfig) -> None:
        super().__init__()
        ngf, norm = cfg.ngf, cfg.norm
        kw = {"upsample": cfg.upsample, "downsample": cfg.downsample}
        block = UnetBlock(ngf * 8, ngf * 8, None, None, norm, innermost=True, **kw)
        for _ in range(cfg.depth - 5):  # the 8·ngf blocks between the innermost and the 4·ngf one
            block = UnetBlock(ngf * 8, ngf * 8, None, block, norm, dropout=cfg.dropout, **kw)
        block = UnetBlock(ngf * 4, ngf * 8, None, block, norm, **kw)
        block = UnetBlock(ngf * 2, ngf * 4, None, block, norm, **kw)
        block = UnetBlock(ngf, ngf * 2, None, block, norm, **kw)
        self.model = UnetBlock(cfg.output_nc, ngf, cfg.input_nc, block, norm, outermost=True, **kw)

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

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each activation (after every LeakyReLU) and the logits last: what feature matching compares."""
        out = []
        for layer in self.model:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                out.append(x)
        out.append(x)
        return out


class MultiScaleDiscriminator(nn.Module):
    """num_d PatchGANs on the pair at full, 1/2, 1/4 … scale (pix2pixHD): coarse ones judge the whole face,
    the full-scale one judges line and texture. features() → one list of activations + logits per scale."""

    def __init__(self, cfg: Pix2PixConfig) -> None:
        super().__init__()
        self.ds = nn.ModuleList(PatchDiscriminator(cfg) for _ in range(cfg.num_d))

    def features(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        out = []
        for i, d in enumerate(self.ds):
            if i:
                x = nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False)  # [N, C, S/2^i, S/2^i]
            out.append(d.features(x))
        return out

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [f[-1] for f in self.features(x)]


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
