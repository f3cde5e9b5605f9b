"""An image (the AI's answer) → a line drawing a plotter robot can draw, in a nervous hand rather than a scan.

Contours come from edges of the smoothed image, drawn as a few slightly wobbling strokes; tone comes from
hatching in up to three levels (sparse diagonals for mid tones, denser for darks, cross-hatching for the
darkest), each hatch line broken where the tone ends. A stroke budget keeps the longest contours first.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class VectoriseParams:
    work_size: int = 256  # the image is analysed at this size
    min_contour_px: float = 12.0  # shorter edge contours are dropped (at work size)
    hatch_levels: tuple[tuple[float, float, float], ...] = ((0.62, 45.0, 7.0), (0.42, 45.0, 4.0), (0.25, -45.0, 4.0))
    wobble_px: float = 0.6  # hand tremor amplitude at work size
    max_paths: int = 1500
    seed: int = 0


def _wobble(p: np.ndarray, amp: float, rng: np.random.Generator) -> np.ndarray:
    if amp <= 0 or len(p) < 3:
        return p
    n = len(p)
    walk = np.cumsum(rng.normal(0, 1, (n, 2)), axis=0).astype(np.float32)
    k = max(3, n // 8) | 1
    noise = np.asarray(cv2.GaussianBlur(walk.reshape(n, 1, 2), (1, k), 0), np.float64).reshape(n, 2)
    noise -= noise.mean(axis=0)
    return p + noise / (np.abs(noise).max() or 1.0) * amp


def contours(gray: np.ndarray, prm: VectoriseParams, rng: np.random.Generator) -> list[np.ndarray]:
    blur = cv2.GaussianBlur(gray, (0, 0), 1.2)
    edges = cv2.Canny(blur, 40, 110)
    found, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    out = []
    for c in found:
        p = c[:, 0, :].astype(np.float64)
        # Canny contours trace both sides of a 1-px edge: keep the first half of closed traces of thin lines
        if len(p) > 8 and np.linalg.norm(p[0] - p[-1]) < 2:
            half = len(p) // 2
            if np.median(np.linalg.norm(p[:half] - p[::-1][:half], axis=1)) < 2.5:
                p = p[: half + 1]
        if len(p) < 2 or np.linalg.norm(np.diff(p, axis=0), axis=1).sum() < prm.min_contour_px:
            continue
        out.append(_wobble(p[::2] if len(p) > 4 else p, prm.wobble_px, rng))
    return out


def hatching(gray: np.ndarray, prm: VectoriseParams, rng: np.random.Generator) -> list[np.ndarray]:
    """Hatch lines clipped to the regions darker than each level's threshold."""
    tone = cv2.GaussianBlur(gray, (0, 0), 2.5).astype(np.float32) / 255.0
    size = gray.shape[0]
    out = []
    for threshold, angle, spacing in prm.hatch_levels:
        mask = tone < threshold
        if not mask.any():
            continue
        a = np.deg2rad(angle + rng.normal(0, 2.0))
        d = np.array([np.cos(a), np.sin(a)])
        nrm = np.array([-d[1], d[0]])
        c = np.array([size / 2, size / 2])
        reach = size * 0.75
        t = np.arange(-reach, reach, 1.0)
        for off in np.arange(-reach, reach, spacing):
            pts = c + nrm * (off + rng.normal(0, 0.3)) + t[:, None] * d
            xi, yi = np.round(pts[:, 0]).astype(int), np.round(pts[:, 1]).astype(int)
            inside = (xi >= 0) & (xi < size) & (yi >= 0) & (yi < size)
            on = np.zeros(len(t), bool)
            on[inside] = mask[yi[inside], xi[inside]]
            # runs of "on" become separate strokes
            edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
            for s, e in zip(edges[::2], edges[1::2], strict=True):
                if e - s >= 4:
                    out.append(_wobble(pts[s:e:2], prm.wobble_px * 0.7, rng))
    return out


def vectorise(image: np.ndarray, canvas: int, params: VectoriseParams | None = None) -> list[np.ndarray]:
    """(H, W, 3) RGB or (H, W) grey uint8 → paths in canvas coordinates (square canvas of side `canvas`)."""
    prm = params or VectoriseParams()
    rng = np.random.default_rng(prm.seed)
    gray = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    s = min(h, w)
    gray = gray[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    gray = cv2.resize(gray, (prm.work_size, prm.work_size), interpolation=cv2.INTER_AREA)
    lines = sorted(contours(gray, prm, rng), key=lambda p: -len(p))
    lines = lines[: prm.max_paths] + hatching(gray, prm, rng)[: max(0, prm.max_paths - len(lines))]
    k = canvas / prm.work_size
    return [np.clip(p * k, 0, canvas) for p in lines]
