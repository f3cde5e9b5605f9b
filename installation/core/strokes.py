"""The stroke model: pen points, strokes and the canvas they build.

Pure data and functions (numpy + OpenCV drawing only). Coordinates are canvas pixels of a square canvas
of side `size`; pressure is 0..1 (a mouse gives 1.0); `t` is seconds on the session's clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

PAPER = 255  # white paper
INK = 0  # black ink


@dataclass(frozen=True, slots=True)
class PenPoint:
    x: float
    y: float
    pressure: float
    t: float


@dataclass(frozen=True, slots=True)
class Stroke:
    points: tuple[PenPoint, ...]

    def bounds(self) -> tuple[float, float, float, float]:
        xs = [p.x for p in self.points]
        ys = [p.y for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)


def pressure_width(pressure: float, min_width: float, max_width: float) -> float:
    """Line width in canvas pixels for a pressure in 0..1 (clamped)."""
    p = min(1.0, max(0.0, pressure))
    return min_width + (max_width - min_width) * p


@dataclass
class Canvas:
    """Strokes being drawn, with an incremental raster at the model's input size.

    `version` increases on every change, so a consumer can skip work when nothing changed.
    The raster is uint8 (H, W), PAPER background with INK lines; pressure sets the line width.
    """

    size: int  # side of the square canvas in canvas pixels
    raster_size: int  # side of the rasterised image handed to the model
    min_width: float = 1.0  # line width at pressure 0, in canvas pixels
    max_width: float = 6.0  # line width at pressure 1, in canvas pixels
    strokes: list[Stroke] = field(default_factory=list)
    version: int = 0
    last_pen_t: float = 0.0  # monotonic time of the newest pen event applied (for latency)
    _current: list[PenPoint] | None = None
    _raster: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._raster = np.full((self.raster_size, self.raster_size), PAPER, np.uint8)

    @property
    def scale(self) -> float:
        return self.raster_size / self.size

    @property
    def drawing(self) -> bool:
        return self._current is not None

    def pen_down(self, point: PenPoint, pen_t: float) -> None:
        if self._current is not None:
            self.pen_up(pen_t)
        self._current = [point]
        self._stamp(point, point)
        self._touch(pen_t)

    def pen_move(self, point: PenPoint, pen_t: float) -> None:
        if self._current is None:
            return  # hover without contact draws nothing
        prev = self._current[-1]
        self._current.append(point)
        self._stamp(prev, point)
        self._touch(pen_t)

    def pen_up(self, pen_t: float) -> None:
        if self._current is None:
            return
        self.strokes.append(Stroke(tuple(self._current)))
        self._current = None
        self._touch(pen_t)

    def clear(self, pen_t: float) -> None:
        self.strokes.clear()
        self._current = None
        assert self._raster is not None
        self._raster[:] = PAPER
        self._touch(pen_t)

    def all_strokes(self) -> list[Stroke]:
        """Finished strokes plus the one being drawn."""
        if self._current:
            return [*self.strokes, Stroke(tuple(self._current))]
        return list(self.strokes)

    def raster(self) -> np.ndarray:
        """A copy of the raster (H, W) uint8 at raster_size."""
        assert self._raster is not None
        return self._raster.copy()

    def _touch(self, pen_t: float) -> None:
        self.version += 1
        self.last_pen_t = pen_t

    def _stamp(self, a: PenPoint, b: PenPoint) -> None:
        assert self._raster is not None
        draw_segment(self._raster, a, b, self.scale, self.min_width, self.max_width)


def draw_segment(img: np.ndarray, a: PenPoint, b: PenPoint, scale: float, min_width: float, max_width: float) -> None:
    """Draw one anti-aliased segment a→b into img (in place), width from the mean pressure."""
    width = pressure_width((a.pressure + b.pressure) / 2, min_width, max_width) * scale
    shift = 4  # sub-pixel precision: coordinates in 1/16 px
    f = float(1 << shift)
    pa = (round(a.x * scale * f), round(a.y * scale * f))
    pb = (round(b.x * scale * f), round(b.y * scale * f))
    thickness = max(1, round(width))
    cv2.line(img, pa, pb, INK, thickness, cv2.LINE_AA, shift)


def rasterise(
    strokes: list[Stroke], size: int, raster_size: int, min_width: float = 1.0, max_width: float = 6.0
) -> np.ndarray:
    """Rasterise whole strokes from scratch: uint8 (raster_size, raster_size)."""
    img = np.full((raster_size, raster_size), PAPER, np.uint8)
    scale = raster_size / size
    for stroke in strokes:
        pts = stroke.points
        draw_segment(img, pts[0], pts[0], scale, min_width, max_width)  # the pen-down dot, as Canvas does
        for a, b in zip(pts, pts[1:], strict=False):
            draw_segment(img, a, b, scale, min_width, max_width)
    return img
