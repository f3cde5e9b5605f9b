"""Torch datasets over a data pack: items {"sketch": [1,S,S], "target": [3,S,S], "id"} in [-1, 1].

Clipart items in the training split get a fresh hand-like sketch on every visit (the outlines are degraded
anew), plus a geometric augment shared by sketch and target. The validation split is deterministic.

With `partial > 0` a training sketch is, that often, a prefix of the hand's strokes (visitors' drawings are
partial most of the time) paired with the full target, and every item also carries "before" (the same
drawing less its newest stroke) and "far" (1 where the newest stroke is more than 20 px away at 256²) for the
consistency term: adding one stroke should change the answer near it, not everywhere.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from installation.core.errors import UserError
from models.data.degrade import degrade, partial_sketch
from models.data.pack import Pack

PERSON_WEIGHT = 5.0


def to_tensor_gray(gray: np.ndarray) -> torch.Tensor:
    """(S, S) uint8 → [1, S, S] float in [-1, 1] (paper +1, ink -1)."""
    return torch.from_numpy(gray.astype(np.float32) / 127.5 - 1.0)[None]


def to_tensor_rgb(rgb: np.ndarray) -> torch.Tensor:
    """(S, S, 3) uint8 → [3, S, S] float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)).astype(np.float32) / 127.5 - 1.0)


class PairDataset(Dataset):
    def __init__(self, pack: Pack, split: str, resolution: int, augment: bool, seed: int, partial: float = 0.0) -> None:
        self.pack = pack
        self.partial = partial
        self.index = pack.indices(split)
        self.split = split
        self.resolution = resolution
        self.augment = augment
        self.seed = seed
        self._visits = 0
        weights = [PERSON_WEIGHT if pack.person[i] else 1.0 for i in self.index]
        self.sample_weights = weights

    def __len__(self) -> int:
        return len(self.index)

    def sketch_and_target(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        i = self.index[k]
        target = self.pack.target(i)
        sketch = self.pack.sketch(i)
        if sketch is None:
            sketch = degrade(self.pack.outlines(i), target.shape[0], rng)
        s = self.resolution
        if target.shape[0] != s:
            target = cv2.resize(target, (s, s), interpolation=cv2.INTER_AREA)
            sketch = cv2.resize(sketch, (s, s), interpolation=cv2.INTER_AREA)
        return sketch, target

    def partial_item(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(before, after, far, target) at the dataset's resolution; fixed sketches have no far field."""
        i = self.index[k]
        target = self.pack.target(i)
        fixed = self.pack.sketch(i)
        if fixed is not None:
            far = np.zeros(fixed.shape, bool)
            before, after = fixed, fixed
        else:
            ps = partial_sketch(self.pack.outlines(i), target.shape[0], rng, self.partial)
            before, after, far = ps.before, ps.after, ps.far
        s = self.resolution
        if target.shape[0] != s:
            target = cv2.resize(target, (s, s), interpolation=cv2.INTER_AREA)
            before = cv2.resize(before, (s, s), interpolation=cv2.INTER_AREA)
            after = cv2.resize(after, (s, s), interpolation=cv2.INTER_AREA)
            far = cv2.resize(far.astype(np.uint8), (s, s), interpolation=cv2.INTER_NEAREST) > 0
        return before, after, far, target

    def __getitem__(self, k: int) -> dict[str, object]:
        if self.split == "train" or self.augment:
            info = torch.utils.data.get_worker_info()
            worker = info.id if info is not None else 0
            self._visits += 1
            rng = np.random.default_rng([self.seed, k, worker, self._visits, torch.initial_seed() % 2**31])
        else:
            rng = np.random.default_rng([self.seed, k, zlib.crc32(self.pack.ids[self.index[k]].encode())])
        item_id = self.pack.ids[self.index[k]]
        if self.partial > 0:
            before, sketch, far, target = self.partial_item(k, rng)
            if self.augment:
                (sketch, before, far8), target = _geometric_many(
                    [sketch, before, far.astype(np.uint8) * 255], target, rng
                )
                far = far8 > 127
            return {
                "sketch": to_tensor_gray(sketch),
                "before": to_tensor_gray(before),
                "far": torch.from_numpy(far.astype(np.float32))[None],  # [1, S, S]
                "target": to_tensor_rgb(target),
                "id": item_id,
            }
        sketch, target = self.sketch_and_target(k, rng)
        if self.augment:
            sketch, target = _geometric(sketch, target, rng)
        return {"sketch": to_tensor_gray(sketch), "target": to_tensor_rgb(target), "id": item_id}


def _geometric(sketch: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The same flip, scale and shift for sketch and target (paper/white fills the border)."""
    (sketch,), target = _geometric_many([sketch], target, rng)
    return sketch, target


def _geometric_many(
    greys: list[np.ndarray], target: np.ndarray, rng: np.random.Generator
) -> tuple[list[np.ndarray], np.ndarray]:
    """One flip, scale and shift applied to several grey maps and the RGB target (white fills the border)."""
    flip = rng.random() < 0.5
    if flip:
        greys, target = [g[:, ::-1] for g in greys], target[:, ::-1]
    s = target.shape[0]
    scale = rng.uniform(0.9, 1.08)
    dx, dy = rng.normal(0, 0.03 * s, 2)
    m = np.array([[scale, 0, (1 - scale) * s / 2 + dx], [0, scale, (1 - scale) * s / 2 + dy]], np.float32)
    greys = [cv2.warpAffine(np.ascontiguousarray(g), m, (s, s), borderValue=255) for g in greys]
    target = cv2.warpAffine(np.ascontiguousarray(target), m, (s, s), borderValue=(255, 255, 255))
    return greys, target


def open_pairs(path: Path, split: str, resolution: int, augment: bool, seed: int, partial: float = 0.0) -> PairDataset:
    if split not in ("train", "val"):
        raise UserError(f"split must be 'train' or 'val', got {split!r}")
    return PairDataset(Pack(Path(path)), split, resolution, augment, seed, partial)


def rasterize_val_sketches(path: Path, n: int, seed: int = 0) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """n deterministic held-out (id, sketch uint8 (S,S), target uint8 (S,S,3)), people first."""
    pack = Pack(Path(path))
    ds = PairDataset(pack, "val", int(pack.meta.get("resolution", 256)), augment=False, seed=seed)
    order = sorted(range(len(ds)), key=lambda k: (not pack.person[ds.index[k]], pack.ids[ds.index[k]]))
    out = []
    for k in order[:n]:
        rng = np.random.default_rng([seed, k, zlib.crc32(pack.ids[ds.index[k]].encode())])
        sketch, target = ds.sketch_and_target(k, rng)
        out.append((pack.ids[ds.index[k]], sketch, target))
    return out
