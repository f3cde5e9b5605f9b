"""A frame number drawn into a frame's corner as big black/white blocks, so it survives NDI's compression;
the loopback test and benchmark read it back to pair each received frame with the one sent."""

from __future__ import annotations

import numpy as np

BITS = 16
BLOCK = 8  # px per bit: SpeedHQ keeps 8×8 blocks of flat black or white


def stamp(frame: np.ndarray, n: int) -> np.ndarray:
    """`frame` (H, W, C) with `n` (mod 2^16) written into its top-left BITS×BLOCK by BLOCK pixels."""
    out = frame.copy()
    for b in range(BITS):
        v = 255 if (n >> b) & 1 else 0
        out[0:BLOCK, b * BLOCK : (b + 1) * BLOCK, :3] = v
    return out


def read(frame: np.ndarray) -> int:
    n = 0
    for b in range(BITS):
        block = frame[2 : BLOCK - 2, b * BLOCK + 2 : (b + 1) * BLOCK - 2, :3]
        if float(block.mean()) > 127:
            n |= 1 << b
    return n
