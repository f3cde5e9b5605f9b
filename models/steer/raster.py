"""A soft, differentiable stroke rasteriser in plain torch (no diffvg).

Strokes are chains of cubic Bézier segments, sampled into polylines. Each pixel's distance to each stroke is the
minimum over that stroke's line segments; coverage falls off with a sigmoid around the stroke's half-width, so
gradients reach the control points, widths and inks from pixels near (not only on) the stroke. The image is
cut into tiles and each stroke is evaluated only on the tiles its box touches. Strokes composite
as dark ink on white paper, multiplicatively: paper · Π_n (1 − coverage_n · (1 − ink_n)).

Coordinates are in [0, 1] (x right, y down); widths are in pixels of the output.
"""

from __future__ import annotations

import torch
from torch import Tensor

TILE = 8  # px: strokes are evaluated only on the tiles their boxes touch
PAIR_CHUNK = 256  # (stroke, tile) pairs per nearest-segment search: bounds its memory


def bezier_basis(samples: int, device: torch.device | str = "cpu") -> Tensor:
    """(samples, 4) Bernstein weights of a cubic at evenly spaced t in [0, 1]."""
    t = torch.linspace(0.0, 1.0, samples, device=device)[:, None]  # (K, 1)
    return torch.cat([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3], dim=1)  # (K, 4)


def bezier_polylines(ctrl: Tensor, samples_per_segment: int = 8) -> Tensor:
    """(N, 3M+1, 2) control points of M chained cubics per stroke → (N, M·k + 1, 2) polyline points."""
    n, c, _ = ctrl.shape
    m = (c - 1) // 3
    if c != 3 * m + 1 or m < 1:
        raise ValueError(f"a stroke needs 3M+1 control points, got {c}")
    idx = torch.arange(m, device=ctrl.device)[:, None] * 3 + torch.arange(4, device=ctrl.device)  # (M, 4)
    seg = ctrl[:, idx]  # (N, M, 4, 2)
    basis = bezier_basis(samples_per_segment + 1, ctrl.device)[:-1]  # (k, 4): last t of each segment dropped
    pts = torch.einsum("kj,nmjd->nmkd", basis, seg).reshape(n, m * samples_per_segment, 2)  # (N, M·k, 2)
    return torch.cat([pts, ctrl[:, -1:]], dim=1)  # (N, M·k + 1, 2)


def pixel_grid(h: int, w: int, device: torch.device | str = "cpu") -> Tensor:
    """(H·W, 2) pixel centres in [0, 1] coordinates, row-major."""
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)


def _tiles(h: int, w: int, device: torch.device | str) -> tuple[int, int, Tensor, Tensor]:
    """Tile counts (Ty, Tx), tile origins (T, 2) in px (x, y) and the pixel centres of one tile (TILE², 2)."""
    ty, tx = -(-h // TILE), -(-w // TILE)
    oy, ox = torch.meshgrid(torch.arange(ty, device=device), torch.arange(tx, device=device), indexing="ij")
    origins = torch.stack([ox.reshape(-1), oy.reshape(-1)], 1).float() * TILE  # (T, 2)
    ly, lx = torch.meshgrid(torch.arange(TILE, device=device), torch.arange(TILE, device=device), indexing="ij")
    local = torch.stack([lx.reshape(-1), ly.reshape(-1)], 1).float() + 0.5  # (TILE², 2)
    return ty, tx, origins, local


def _closest_segment(a: Tensor, b: Tensor, p: Tensor) -> Tensor:
    """No grad. Segments a, b (Q, S, 2), pixels p (Q, P, 2) → index (Q, P) of each pixel's nearest segment."""
    ax, ay = a[..., 0, None], a[..., 1, None]  # (Q, S, 1)
    abx, aby = b[..., 0, None] - ax, b[..., 1, None] - ay
    inv = 1.0 / (abx * abx + aby * aby).clamp_min(1e-8)
    px, py = p[:, None, :, 0], p[:, None, :, 1]  # (Q, 1, P)
    apx, apy = px - ax, py - ay  # (Q, S, P)
    t = ((apx * abx + apy * aby) * inv).clamp_(0.0, 1.0)
    apx.sub_(t * abx)
    apy.sub_(t * aby)
    return (apx.square_() + apy.square_()).argmin(dim=1)  # (Q, P)


def _distance(a: Tensor, b: Tensor, p: Tensor) -> Tensor:
    """Differentiable distance from pixels p (Q, P, 2) to their own segments a, b (Q, P, 2) → (Q, P)."""
    ab = b - a
    t = (((p - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-8)).clamp(0.0, 1.0)  # (Q, P)
    r = p - a - t[..., None] * ab  # (Q, P, 2)
    return (r.square().sum(-1) + 1e-6).sqrt()


def rasterise(
    points: Tensor,
    widths: Tensor,
    inks: Tensor,
    size: tuple[int, int],
    softness: float = 0.6,
    background: Tensor | None = None,
) -> Tensor:
    """Polylines → an RGB image on white (or on `background`).

    points (N, K, 2) in [0, 1]; widths (N,) full stroke widths in px; inks (N, 3) stroke colours in [0, 1]
    (0 = black ink). background (3, H, W) in [0, 1]. Returns (3, H, W) in [0, 1].

    Only (stroke, tile) pairs whose boxes overlap are evaluated. The nearest segment of each pixel is found
    without gradients; the distance to it is then recomputed with gradients (the minimum's derivative is the
    derivative at the minimiser), so autograd stores (pairs, pixels) tensors, never (pairs, segments, pixels).
    """
    h, w = size
    dev = points.device
    ty, tx, origins, local = _tiles(h, w, dev)
    px = points * torch.tensor([float(w), float(h)], device=dev)  # (N, K, 2) in px
    half = widths * 0.5  # (N,)
    with torch.no_grad():
        reach = half.max() + 8.0 * softness  # coverage beyond this is < 4e-4
        lo, hi = px.amin(1) - reach, px.amax(1) + reach  # (N, 2) stroke boxes
        overlap = (lo[:, None] <= origins[None] + TILE) & (hi[:, None] >= origins[None])  # (N, T, 2)
        si, ti = overlap.all(-1).nonzero(as_tuple=True)  # (Q,) stroke and tile of each pair
        pix = origins[ti][:, None, :] + local[None]  # (Q, P, 2)
        idx = torch.empty(0, TILE * TILE, dtype=torch.long, device=dev)
        if len(si):
            idx = torch.cat(
                [
                    _closest_segment(
                        px[si[j : j + PAIR_CHUNK], :-1], px[si[j : j + PAIR_CHUNK], 1:], pix[j : j + PAIR_CHUNK]
                    )
                    for j in range(0, len(si), PAIR_CHUNK)
                ]
            )  # (Q, P)
    seg_a = px[:, :-1][si]  # (Q, S, 2)
    seg_b = px[:, 1:][si]
    gather = idx[..., None].expand(-1, -1, 2)  # (Q, P, 2)
    d = _distance(seg_a.gather(1, gather), seg_b.gather(1, gather), pix)  # (Q, P)
    cov = torch.sigmoid((half[si][:, None] - d) / softness)  # (Q, P)
    absorb = cov[:, None, :] * (1.0 - inks[si])[:, :, None]  # (Q, 3, P)
    log_keep = torch.log1p(-absorb.clamp(max=0.999))  # (Q, 3, P)
    acc = torch.zeros(ty * tx, 3, TILE * TILE, device=dev).index_add(0, ti, log_keep)  # (T, 3, P)
    img = acc.reshape(ty, tx, 3, TILE, TILE).permute(2, 0, 3, 1, 4).reshape(3, ty * TILE, tx * TILE)[:, :h, :w]
    img = img.exp()  # (3, H, W)
    return img if background is None else img * background
