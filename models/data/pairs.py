"""An artist's own aligned pairs: A/ and B/ folders matched by file name, or side-by-side A|B images.

A is the sketch, B the target. Items that cannot be used are yielded as `Skip` with a reason, so the
builder counts them and names the first few.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.core.errors import UserError

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
LAYOUTS = "A/ and B/ folders with matching file names, or side-by-side A|B images (width = 2 × height)"


@dataclass(frozen=True)
class PairItem:
    id: str
    sketch: np.ndarray  # (S, S) uint8
    target: np.ndarray  # (S, S, 3) uint8 RGB


@dataclass(frozen=True)
class Skip:
    id: str
    reason: str


def _images(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_EXT}


def _read(path: Path) -> np.ndarray | None:
    return cv2.imread(str(path), cv2.IMREAD_COLOR)


def _to_pair(name: str, a_bgr: np.ndarray, b_bgr: np.ndarray, size: int) -> PairItem:
    sketch = cv2.resize(cv2.cvtColor(a_bgr, cv2.COLOR_BGR2GRAY), (size, size), interpolation=cv2.INTER_AREA)
    target = cv2.resize(b_bgr, (size, size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
    return PairItem(name, sketch, np.ascontiguousarray(target))


def iter_aligned_pairs(folder: Path, size: int) -> Iterator[PairItem | Skip]:
    if not folder.is_dir():
        raise UserError(f"pairs folder {folder} does not exist: give a folder with {LAYOUTS}")
    a_dir, b_dir = folder / "A", folder / "B"
    if a_dir.is_dir() and b_dir.is_dir():
        a, b = _images(a_dir), _images(b_dir)
        if not a and not b:
            raise UserError(f"pairs folder {folder} has empty A/ and B/ folders: add images with matching names")
        for name in sorted(a.keys() | b.keys()):
            if name not in b or name not in a:
                yield Skip(name, "no B image of that name" if name not in b else "no A image of that name")
                continue
            ia, ib = _read(a[name]), _read(b[name])
            if ia is None or ib is None:
                yield Skip(name, "unreadable image")
                continue
            yield _to_pair(name, ia, ib, size)
        return
    files = _images(folder)
    if not files:
        raise UserError(f"pairs folder {folder} holds no images: give a folder with {LAYOUTS}")
    for name, path in files.items():
        img = _read(path)
        if img is None:
            yield Skip(name, "unreadable image")
            continue
        h, w = img.shape[:2]
        if abs(w - 2 * h) > max(2, h // 50):
            yield Skip(name, f"not side-by-side A|B ({w}×{h}; width must be twice the height)")
            continue
        half = w // 2
        yield _to_pair(name, img[:, :half], img[:, half : 2 * half], size)
