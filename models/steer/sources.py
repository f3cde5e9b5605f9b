"""Where a steered image may start: the visitor's sketch (a session file or an image) or the current AI image.

`load_start` gives the image (3, S, S) in [0, 1] and, when the source has lines, its polylines in [0, 1]
coordinates (a session's own strokes; for an image, its vectorised contours). `make_generator` builds the
chosen generator from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from installation.core.errors import UserError
from models.steer.base import SteerGenerator

GENERATORS = ("strokes", "portrait", "pixels")
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
DEFAULT_SKETCH = Path(__file__).resolve().parents[2] / "installation" / "assets" / "sessions" / "face_01.jsonl"


@dataclass
class Start:
    image: torch.Tensor  # (3, S, S) in [0, 1]
    lines: list[np.ndarray]  # polylines in [0, 1] coordinates, longest first


def load_start(path: Path, size: int) -> Start:
    if not path.is_file():
        raise UserError(f"start file {path} does not exist: give a sketch image, an AI image or a session (.jsonl)")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        from installation.core.session import apply_event, read_session
        from installation.core.strokes import Canvas

        s = read_session(path)
        canvas = Canvas(size=s.canvas, raster_size=size)
        for e in s.events:
            apply_event(canvas, e, e.t)
        grey = canvas.raster()  # (S, S) uint8
        lines = [np.array([(p.x, p.y) for p in st.points], float) / s.canvas for st in canvas.all_strokes()]
        lines = sorted((ln for ln in lines if len(ln) >= 2), key=lambda ln: -_length(ln))
        rgb = np.repeat(grey[:, :, None], 3, axis=2)
    elif suffix in IMAGE_EXT:
        from installation.core.image_files import image_size

        image_size(path, "start image", unreadable_ok=True)  # a huge one is refused before decoding
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise UserError(f"start image {path} cannot be read: give a PNG or JPEG")
        h, w = bgr.shape[:2]
        side = min(h, w)
        bgr = bgr[(h - side) // 2 : (h - side) // 2 + side, (w - side) // 2 : (w - side) // 2 + side]
        rgb = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
        from installation.core.vectorise import VectoriseParams, vectorise

        lines = [p / size for p in vectorise(rgb, size, VectoriseParams(wobble_px=0.0, hatch_levels=()))]
    else:
        raise UserError(f"start file {path}: unknown kind {suffix!r}; give .png/.jpg or a session .jsonl")
    img = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float() / 255.0  # (3, S, S)
    return Start(img, lines)


def _length(p: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())


def make_generator(
    kind: str,
    size: int,
    seed: int = 0,
    start: Path | None = None,
    n_strokes: int = 48,
    checkpoint: Path | None = None,
    colour: bool = False,
) -> SteerGenerator:
    """The named generator, optionally starting from `start` (portrait: the sketch; default an embedded one)."""
    if kind == "strokes":
        from models.steer.strokes import StrokesGenerator

        lines = load_start(start, size).lines if start else None
        return StrokesGenerator(size=size, n_strokes=n_strokes, init_paths=lines, seed=seed, colour=colour)
    if kind == "pixels":
        from models.steer.pixels import PixelsGenerator

        return PixelsGenerator(size=size, init_image=load_start(start, size).image if start else None, seed=seed)
    if kind == "portrait":
        from models.steer.portrait import PortraitGenerator, load_portrait_generator

        g, res = load_portrait_generator(checkpoint)
        sketch = load_start(start or DEFAULT_SKETCH, res).image.mean(0)  # (S, S) grey, 1 = paper
        return PortraitGenerator(sketch, g, n_strokes=min(n_strokes, 32), seed=seed)
    raise UserError(f"unknown generator {kind!r}: choose one of {', '.join(GENERATORS)}")
