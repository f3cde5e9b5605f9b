"""Sample sheets: a grid of rows like (input sketch | output | target), as one RGB image."""

from __future__ import annotations

import cv2
import numpy as np


def make_sheet(rows: list[list[np.ndarray]], labels: list[str] | None = None, pad: int = 4) -> np.ndarray:
    """rows of equally sized uint8 images (grey or RGB) → (H, W, 3) uint8 RGB, white gaps, optional labels."""
    tiles = [[t if t.ndim == 3 else np.repeat(t[:, :, None], 3, axis=2) for t in row] for row in rows]
    h, w = tiles[0][0].shape[:2]
    cols = max(len(r) for r in tiles)
    top = 22 if labels else 0
    sheet = np.full((top + len(tiles) * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for j, label in enumerate(labels or []):
        cv2.putText(sheet, label, (pad + j * (w + pad), 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for i, row in enumerate(tiles):
        for j, t in enumerate(row):
            y, x = top + pad + i * (h + pad), pad + j * (w + pad)
            sheet[y : y + h, x : x + w] = t
    return sheet


def to_uint8(t) -> np.ndarray:  # noqa: ANN001 - torch tensor [C, H, W] in [-1, 1]
    a = ((t.detach().float().cpu().numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
    return a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
