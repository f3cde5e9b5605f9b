"""Drawings re-rendered the way the strokes generator renders, for the CLIP's training data (issue 16).

`python -m models.clip.stroke_views --data data/clip/clip.npz --out data/clip/clip_strokes.npz [--size 128]`

Steering shows the CLIP grey Bézier-like ink of a few widths on white, often with strokes missing. A CLIP that
never saw such images judges them out of distribution, and steering finds its blind spots (scribbles). Each
drawing is traced into centre lines and contours (installation/core/vectorise.py, no tremor, no hatching), cut
into strokes of at most `--max-stroke` of the side, resampled to the generator's 13 points per stroke, and drawn
with models/steer/raster.py (the generator's own rasteriser): one grey ink and one base width per image (a few
widths between images), a random share of strokes dropped and some truncated (partial drawings, as a steering run
is half-way). Output: images (N, S, S, 3) uint8 in the pack's order and `index` (N,) into the pack's items.
"""

from __future__ import annotations

import argparse
import logging
from multiprocessing import Pool
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
POINTS = 13  # the strokes generator's polyline: 2 cubic segments × 6 samples + 1


def strokes_of(img: np.ndarray, size: int, max_stroke: float) -> list[np.ndarray]:
    """(S0, S0, 3) uint8 drawing → polylines in [0, 1] coordinates, each at most max_stroke long."""
    from installation.core.vectorise import VectoriseParams, vectorise

    prm = VectoriseParams(wobble_px=0.0, hatch_levels=(), line_px=256, max_paths=300)
    out: list[np.ndarray] = []
    for p in vectorise(img, size, prm):
        p = np.asarray(p, float) / size
        seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        if s[-1] < 0.02:
            continue
        pieces = max(1, int(np.ceil(s[-1] / max_stroke)))
        for k in range(pieces):
            t = np.linspace(s[-1] * k / pieces, s[-1] * (k + 1) / pieces, POINTS)
            out.append(np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], 1))
    return out


def render_strokes(lines: list[np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """Polylines (each (13, 2) in [0, 1]) → (S, S, 3) uint8, drawn as the strokes generator draws."""
    import torch

    from models.steer.raster import rasterise

    keep = [ln for ln in lines if rng.random() >= rng.uniform(0.0, 0.4)]  # some strokes missing
    if not keep and lines:
        keep = lines[:1]
    if not keep:
        return np.full((size, size, 3), 255, np.uint8)
    pts = np.stack(keep)  # (N, 13, 2)
    cut = rng.random(len(pts)) < 0.25  # some strokes only partly drawn: the rest collapses onto its end
    for i in np.nonzero(cut)[0]:
        j = int(rng.integers(4, POINTS))
        pts[i, j:] = pts[i, j - 1]
    base = rng.uniform(0.006, 0.03) * size  # px: one of a few widths per image
    widths = base * rng.uniform(0.7, 1.3, len(pts))
    ink = rng.uniform(0.0, 0.35)  # grey, as the generator's sigmoid(ink logit) starts and ends
    inks = np.clip(ink + rng.normal(0, 0.05, (len(pts), 1)), 0, 0.6).repeat(3, 1)
    with torch.no_grad():
        img = rasterise(torch.from_numpy(pts).float(), torch.from_numpy(widths).float(),
                        torch.from_numpy(inks).float(), (size, size))  # fmt: skip
    return (img.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


def _job(job: tuple[np.ndarray, int, float, int]) -> np.ndarray:
    import torch

    torch.set_num_threads(1)
    img, size, max_stroke, seed = job
    rng = np.random.default_rng(seed)
    return render_strokes(strokes_of(img, size, max_stroke), size, rng)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="clip.npz from `run.py build-data clip`")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--size", type=int, help="side of the renders (default: the pack's)")
    ap.add_argument("--max-stroke", type=float, default=0.3, help="longest stroke, share of the side")
    ap.add_argument("--limit", type=int, help="the first N drawings only (smoke runs)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from models.clip.data import load_pack

    images, _ = load_pack(args.data)
    n = len(images) if args.limit is None else min(args.limit, len(images))
    size = args.size or images.shape[1]
    jobs = [(images[i], size, args.max_stroke, args.seed * 1_000_003 + i) for i in range(n)]
    with Pool(max(1, args.workers)) as pool:
        out = np.stack(list(pool.imap(_job, jobs, chunksize=8)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.stem + ".tmp.npz")
    np.savez_compressed(tmp, images=out, index=np.arange(n))
    tmp.replace(args.out)
    log.info("%d stroke renders (%d²) → %s", n, size, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
