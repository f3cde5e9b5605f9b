"""The pix2pix configuration: saved inside every checkpoint so a checkpoint rebuilds its own model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from installation.core.errors import UserError

RESOLUTIONS = (128, 256, 512)
NORMS = ("instance", "batch")
UPSAMPLES = ("transpose", "resize")  # transpose: the reference (lattice-prone); resize: conv, then bilinear ×2
DOWNSAMPLES = ("stride", "blur")  # stride: the reference 4×4/2 convs; blur: a [1 2 1]² low-pass before each
GAN_LOSSES = ("vanilla", "lsgan", "hinge")


@dataclass(frozen=True)
class Pix2PixConfig:
    input_nc: int = 1  # sketch channels
    output_nc: int = 3  # RGB
    ngf: int = 64  # generator width at the outermost layer
    ndf: int = 64  # discriminator width
    resolution: int = 256  # 128, 256 or 512: log2(resolution) stride-2 downsamplings
    norm: str = "instance"
    dropout: float = 0.0  # on the three innermost up blocks, as the reference (0.5 there)
    n_layers_d: int = 3  # PatchGAN depth: 3 gives the 70×70 receptive field
    upsample: str = "transpose"  # older checkpoints have no key: they are the reference transposed convs
    num_d: int = 1  # discriminators at full, 1/2, 1/4 … scale (pix2pixHD uses 3)
    downsample: str = "stride"  # older checkpoints have no key: they are the reference strided convs

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise UserError(f"pix2pix resolution must be one of {RESOLUTIONS}, got {self.resolution}")
        if self.norm not in NORMS:
            raise UserError(f"pix2pix norm must be one of {NORMS}, got {self.norm!r}")
        if min(self.input_nc, self.output_nc, self.ngf, self.ndf, self.n_layers_d) <= 0:
            raise UserError("pix2pix channel counts, widths and n_layers_d must be positive")
        if self.upsample not in UPSAMPLES:
            raise UserError(f"pix2pix upsample must be one of {UPSAMPLES}, got {self.upsample!r}")
        if self.downsample not in DOWNSAMPLES:
            raise UserError(f"pix2pix downsample must be one of {DOWNSAMPLES}, got {self.downsample!r}")
        if not 1 <= self.num_d <= 4:
            raise UserError(f"pix2pix num_d must be 1..4, got {self.num_d}")
        if not 0.0 <= self.dropout < 1.0:
            raise UserError(f"pix2pix dropout must be in [0, 1), got {self.dropout}")

    @property
    def depth(self) -> int:
        """Number of stride-2 downsamplings (8 at 256²: 256 → 1)."""
        return self.resolution.bit_length() - 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Pix2PixConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise UserError(f"pix2pix config has unknown keys {sorted(unknown)}: the checkpoint is from another build")
        return cls(**d)
