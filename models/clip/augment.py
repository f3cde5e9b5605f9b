"""Training augmentations for drawings: random resized crop, flips, colour jitter/grey/inversion, line width."""

from __future__ import annotations

import cv2
import numpy as np


def augment(img: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """(S0, S0, 3) uint8 RGB on white → (size, size, 3) uint8, randomly cropped, recoloured and re-inked."""
    s0 = img.shape[0]
    area = rng.uniform(0.55, 1.0) * s0 * s0
    ratio = np.exp(rng.uniform(np.log(0.8), np.log(1.25)))
    w = int(min(s0, round(np.sqrt(area * ratio))))
    h = int(min(s0, round(np.sqrt(area / ratio))))
    x, y = int(rng.integers(0, s0 - w + 1)), int(rng.integers(0, s0 - h + 1))
    out = cv2.resize(img[y : y + h, x : x + w], (size, size), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    r = rng.random()
    if r < 0.2:  # thicker lines: dark ink spreads (erode takes the local minimum)
        out = cv2.erode(out, np.ones((2, 2), np.uint8))
    elif r < 0.35:  # thinner lines
        out = cv2.dilate(out, np.ones((2, 2), np.uint8))
    f = out.astype(np.float32)
    if rng.random() < 0.3:  # grey
        f = np.repeat(f.mean(axis=2, keepdims=True), 3, axis=2)
    elif rng.random() < 0.3:  # swap hues
        f = f[:, :, rng.permutation(3)]
    f = (f - 128.0) * rng.uniform(0.75, 1.25) + 128.0 + rng.uniform(-25, 25)  # contrast, brightness
    if rng.random() < 0.08:  # inverted: light ink on dark
        f = 255.0 - f
    return np.ascontiguousarray(f.clip(0, 255).astype(np.uint8))
