"""Torch datasets over a data pack: items {"sketch": [1,S,S], "target": [3,S,S], "id"} in [-1, 1].

Clipart items in the training split get a fresh hand-like sketch on every visit (the outlines are degraded
anew), plus a geometric augment shared by sketch and target. The validation split is deterministic.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from installation.core.errors import UserError
from models.data.degrade import degrade
from models.data.pack import Pack

PERSON_WEIGHT = 5.0


def to_tensor_gray(gray: np.ndarray) -> torch.Tensor:
    """(S, S) uint8 → [1, S, S] float in [-1, 1] (paper +1, ink -1)."""
    return torch.from_numpy(gray.astype(np.float32) / 127.5 - 1.0)[None]


def to_tensor_rgb(rgb: np.ndarray) -> torch.Tensor:
    """(S, S, 3) uint8 → [3, S, S] float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)).astype(np.float32) / 127.5 - 1.0)


class PairDataset(Dataset):
    def __init__(self, pack: Pack, split: str, resolution: int, augment: bool, seed: int) -> None:
        self.pack = pack
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

    def __getitem__(self, k: int) -> dict[str, object]:
        if self.split == "train" or self.augment:
            info = torch.utils.data.get_worker_info()
            worker = info.id if info is not None else 0
            self._visits += 1
            rng = np.random.default_rng([self.seed, k, worker, self._visits, torch.initial_seed() % 2**31])
        else:
            rng = np.random.default_rng([self.seed, k, zlib.crc32(self.pack.ids[self.index[k]].encode())])
        sketch, target = self.sketch_and_target(k, rng)
        if self.augment:
            sketch, target = _geometric(sketch, target, rng)
        return {"sketch": to_tensor_gray(sketch), "target": to_tensor_rgb(target), "id": self.pack.ids[self.index[k]]}


def _geometric(sketch: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The same flip, scale and shift for sketch and target (paper/white fills the border)."""
    if rng.random() < 0.5:
        sketch, target = sketch[:, ::-1], target[:, ::-1]
    s = sketch.shape[0]
    scale = rng.uniform(0.9, 1.08)
    dx, dy = rng.normal(0, 0.03 * s, 2)
    m = np.array([[scale, 0, (1 - scale) * s / 2 + dx], [0, scale, (1 - scale) * s / 2 + dy]], np.float32)
    sketch = cv2.warpAffine(np.ascontiguousarray(sketch), m, (s, s), borderValue=255)
    target = cv2.warpAffine(np.ascontiguousarray(target), m, (s, s), borderValue=(255, 255, 255))
    return sketch, target


def open_pairs(path: Path, split: str, resolution: int, augment: bool, seed: int) -> PairDataset:
    if split not in ("train", "val"):
        raise UserError(f"split must be 'train' or 'val', got {split!r}")
    return PairDataset(Pack(Path(path)), split, resolution, augment, seed)


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
