"""Image metrics on [-1, 1] tensors [N, C, H, W]: L1 and SSIM (Gaussian window 11, σ 1.5, per channel)."""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F


def l1(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().mean())


def _window(channels: int, device: torch.device) -> torch.Tensor:
    x = torch.arange(11, dtype=torch.float32, device=device) - 5
    g = torch.exp(-(x**2) / (2 * 1.5**2))
    g = g / g.sum()
    w = (g[:, None] * g[None, :])[None, None]  # [1, 1, 11, 11]
    return w.expand(channels, 1, 11, 11).contiguous()


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean SSIM of images mapped to [0, 1]."""
    a, b = (a.float() + 1) / 2, (b.float() + 1) / 2
    c = a.shape[1]
    w = _window(c, a.device)
    mu_a, mu_b = F.conv2d(a, w, groups=c), F.conv2d(b, w, groups=c)
    var_a = F.conv2d(a * a, w, groups=c) - mu_a**2
    var_b = F.conv2d(b * b, w, groups=c) - mu_b**2
    cov = F.conv2d(a * b, w, groups=c) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(s.mean())


# -- what a visitor sees: lattice grain, sharpness, far-field flicker (numpy, on uint8 answers) ----------------
LATTICE_PERIODS = (2, 4, 8)
LUMA = (0.299, 0.587, 0.114)  # RGB → luminance weights


def _grey(img: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 → (H, W) float64 luminance in [0, 1]."""
    a = img.astype(np.float64) / 255.0
    return a if a.ndim == 2 else a @ np.array(LUMA)


def lattice_peak(img: np.ndarray) -> float:
    """Max over the period-2/4/8 lattice frequencies of the power there over the power around it.

    The answer's luminance (mean removed, Hann-windowed so the image's borders do not leak a cross into the
    spectrum) → |FFT|². For each lattice frequency (multiples of N/p on each axis, not the origin) the peak is
    the largest power within ±1 bin, and the reference is the mean power of the frequencies 2–4 bins away: the
    ring of the same radius within that band for a point off the axes, and the same axis for a point on one (an
    axis-aligned edge spreads its power along the axis, which is drawing, not grain). A checkerboard from
    strided up-convolutions stands out by hundreds or more; a drawing without one by a few. The answer is judged
    as shown, in 8-bit levels: the reference is floored at the power 8-bit rounding noise puts in a bin, so a
    smooth image with almost no fine detail does not turn an invisible ripple into a large ratio.
    """
    g = _grey(np.clip(np.rint(img), 0, 255) if img.dtype != np.uint8 else img)
    n = g.shape[0]
    if g.shape[0] != g.shape[1] or n % 8:
        raise ValueError(f"lattice_peak wants a square image with a side divisible by 8, got {g.shape}")
    w = np.hanning(n)
    p = np.abs(np.fft.fft2((g - g.mean()) * w[:, None] * w[None, :])) ** 2  # [N, N]
    rows, cols, centre, ring = lattice_boxes(n)
    box = p[rows[:, :, None], cols[:, None, :]]  # [L, 9, 9] around each lattice frequency
    peak = box[:, centre].max(axis=1)  # [L]
    ref = (box * ring).sum(axis=(1, 2)) / ring.sum(axis=(1, 2))  # [L]
    return float((peak / np.maximum(ref, rounding_floor(n))).max())


def rounding_floor(n: int) -> float:
    """The power 8-bit rounding noise (variance q²/12) puts in one bin of a Hann-windowed N×N spectrum."""
    w = np.hanning(n)
    return (1 / 255) ** 2 / 12 * float((w**2).sum()) ** 2


@functools.lru_cache(maxsize=8)
def lattice_boxes(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The lattice's geometry in an N×N spectrum, shared by lattice_peak and the training term (losses.py).

    For each lattice frequency (L = 63 at periods 2/4/8): the row and column indices of the 9×9 box of bins
    around it ([L, 9] each), the ±1 centre where the peak is taken ([9, 9] bool) and the ring the reference
    averages ([L, 9, 9] bool): the same axis 2–4 bins away for a frequency on an axis, else the bins 2–4 away
    (Chebyshev) within 2.5 of its radius. Read-only arrays (cached).
    """
    lattice = sorted(
        {(i * n // per % n, j * n // per % n) for per in LATTICE_PERIODS for i in range(per) for j in range(per)}
        - {(0, 0)}
    )
    f = np.fft.fftfreq(n) * n  # integer frequencies, signed
    radius = np.hypot(f[:, None], f[None, :])
    d = np.arange(-4, 5)
    dist = np.maximum(np.abs(d)[:, None], np.abs(d)[None, :])  # [9, 9] Chebyshev
    rows, cols, rings = [], [], []
    for u, v in lattice:
        r, c = (u + d) % n, (v + d) % n
        ring = np.zeros((9, 9), bool)
        if u == 0:
            ring[4, np.abs(d) >= 2] = True  # along the axis v
        elif v == 0:
            ring[np.abs(d) >= 2, 4] = True
        else:
            ring = (dist >= 2) & (np.abs(radius[np.ix_(r, c)] - radius[u, v]) <= 2.5)
        rows.append(r)
        cols.append(c)
        rings.append(ring)
    out = (np.array(rows), np.array(cols), dist <= 1, np.array(rings))
    for a in out:
        a.flags.writeable = False
    return out


def laplacian_energy(img: np.ndarray) -> float:
    """Mean squared Laplacian of the luminance at half resolution (2×2 area averages): how much structure
    an image holds at the scale of lines and features. Halving first makes it blind to period-2 grain, which
    would otherwise count as detail (the lattice is measured on its own by lattice_peak)."""
    import cv2

    g = _grey(img)
    half = cv2.resize(g, (g.shape[1] // 2, g.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return float((cv2.Laplacian(half, cv2.CV_64F) ** 2).mean())


def sharpness(answer: np.ndarray, target: np.ndarray) -> float:
    """Laplacian energy of the answer over the target's (both at half resolution): < 1 softer, 1 as crisp."""
    return laplacian_energy(answer) / max(laplacian_energy(target), 1e-12)


def far_flicker(before: np.ndarray, after: np.ndarray, newest_ink: np.ndarray, far_px: float = 20.0) -> float | None:
    """Mean |after - before| (0..1) over the pixels more than far_px (at 256²) from the newest stroke.

    before/after: two consecutive answers (H, W, 3) uint8; newest_ink: (H, W) bool, the stroke added between
    them. None when no pixel is far enough (the stroke covers the page).
    """
    import cv2

    h = newest_ink.shape[0]
    dist = cv2.distanceTransform((~newest_ink).astype(np.uint8), cv2.DIST_L2, 3)  # px to the newest ink
    far = dist > far_px * h / 256.0
    if not newest_ink.any() or not far.any():
        return None
    diff = np.abs(after.astype(np.float64) - before.astype(np.float64)) / 255.0
    if diff.ndim == 3:
        diff = diff.mean(axis=2)
    return float(diff[far].mean())
