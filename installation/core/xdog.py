"""Photo → line sketch: the algorithmic sketcher for the path where a gallery brings its own photographs.

Pure (numpy + OpenCV on arrays), so it lives in the core: the data builder (models/data/build.py) and the sitter's
face sketcher (installation/core/face_sketch.py) both use it.

XDoG-style difference of Gaussians on luminance, soft-thresholded with tanh, gives contours and features;
dark tone regions get light diagonal hatching; specks are removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from installation.core.errors import UserError


@dataclass(frozen=True)
class XDoGParams:
    sigma: float = 1.0  # inner Gaussian, in pixels at the output size
    k: float = 1.6  # outer / inner sigma
    tau: float = 0.985  # weight of the outer Gaussian: below 1 keeps a little of the tone
    epsilon: float = -0.012  # a pixel is ink where the DoG response falls under this
    phi: float = 200.0  # softness of the threshold
    hatch_below: float = 0.3  # luminance under which a region is hatched (0 = no hatching)
    hatch_spacing: int = 6
    min_speck: int = 6  # connected ink blobs smaller than this (pixels) are removed


def sketch_photo(rgb: np.ndarray, size: int, params: XDoGParams | None = None) -> np.ndarray:
    """(H, W, 3|4) or (H, W) uint8 photo → (size, size) uint8 sketch, 255 paper and 0 ink."""
    prm = params or XDoGParams()
    if rgb is None or rgb.ndim not in (2, 3) or min(rgb.shape[:2]) < 16:
        raise UserError("the photo is empty or smaller than 16×16 pixels: use a real photograph")
    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    s = min(h, w)
    gray = gray[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    gray = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    gray = cv2.bilateralFilter(gray, 5, 0.1, 3)  # flatten texture, keep edges
    g1 = cv2.GaussianBlur(gray, (0, 0), prm.sigma)
    g2 = cv2.GaussianBlur(gray, (0, 0), prm.sigma * prm.k)
    dog = g1 - prm.tau * g2 - (1 - prm.tau) * gray.mean()  # edges: negative on the dark side of a contour
    line = np.where(dog >= prm.epsilon, 1.0, 1.0 + np.tanh(prm.phi * (dog - prm.epsilon)))
    ink = line < 0.5
    if prm.hatch_below > 0:
        tone = cv2.GaussianBlur(gray, (0, 0), 3)
        yy, xx = np.mgrid[0:size, 0:size]
        stripes = ((xx + yy) % prm.hatch_spacing) == 0
        ink |= (tone < prm.hatch_below) & stripes
    ink = _drop_specks(ink, prm.min_speck)
    return np.where(ink, 0, 255).astype(np.uint8)


def _drop_specks(ink: np.ndarray, min_size: int) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_size
    return keep[labels]
