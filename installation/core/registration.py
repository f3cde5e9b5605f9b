"""Geometry of the calibrations, pure numpy: tablet area → canvas, and canvas → plotter millimetres.

`TabletMapping` takes a pen position normalised to the tablet's surface (0..1 each way, as SDL reports an
absolute tablet mapped to the screen) to canvas pixels: an active area, the tablet's mounting rotation,
margins, and the aspect ratio kept (the square canvas is the largest square of the area, centred).

`Registration` is a measured transform between two planes in millimetres (the paper's own frame → the plotter's
bed; affine from 3+ points, homography from 4+), fitted by least squares with its residual, so a robot whose
paper sits a little askew still draws where the visitor drew.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from installation.core.errors import UserError

ROTATIONS = (0, 90, 180, 270)


@dataclass(frozen=True)
class TabletMapping:
    area: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)  # x0, y0, x1, y1 of the surface, 0..1
    rotation: int = 0  # degrees clockwise the tablet is mounted; the canvas's up is the visitor's up
    margin: float = 0.0  # fraction of the mapped square left free on each side
    aspect: float = 16 / 10  # the surface's width / height (physical), to keep circles round

    def __post_init__(self) -> None:
        x0, y0, x1, y1 = self.area
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise UserError(f"tablet area {self.area} must be x0,y0,x1,y1 with 0 ≤ x0 < x1 ≤ 1 and 0 ≤ y0 < y1 ≤ 1")
        if self.rotation not in ROTATIONS:
            raise UserError(f"tablet rotation {self.rotation} must be one of {ROTATIONS}")
        if not 0 <= self.margin < 0.5:
            raise UserError(f"tablet margin {self.margin} must be a fraction between 0 and 0.5")
        if self.aspect <= 0:
            raise UserError(f"tablet aspect {self.aspect} must be positive (width / height)")

    def square(self) -> tuple[float, float, float]:
        """The mapped square in surface units: (x0, y0, side in x units); y side = side × aspect."""
        x0, y0, x1, y1 = self.area
        w, h = (x1 - x0) * self.aspect, y1 - y0  # physical proportions (height = 1 unit)
        side = min(w, h)
        sx, sy = x0 + (w - side) / 2 / self.aspect, y0 + (h - side) / 2
        return sx, sy, side

    def to_canvas(self, u: float, v: float, canvas: int) -> tuple[float, float] | None:
        """Normalised surface position → canvas pixels, or None outside the mapped square."""
        sx, sy, side = self.square()
        a = (u - sx) * self.aspect / side  # 0..1 across the square, physical units
        b = (v - sy) / side
        for _ in range(self.rotation // 90):  # the mounting's own quarter turn, clockwise (y points down)
            a, b = 1 - b, a  # the tablet's top-left corner goes to the visitor's top-right
        m = self.margin
        a, b = (a - m) / (1 - 2 * m), (b - m) / (1 - 2 * m)
        if not (0 <= a <= 1 and 0 <= b <= 1):
            return None
        return a * canvas, b * canvas


def fit_affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """3×3 matrix of the least-squares affine map src → dst (each (N, 2), N ≥ 3)."""
    src, dst = np.asarray(src, float), np.asarray(dst, float)
    a = np.column_stack([src, np.ones(len(src))])  # (N, 3)
    sol, *_ = np.linalg.lstsq(a, dst, rcond=None)  # (3, 2)
    return np.vstack([sol.T, [0.0, 0.0, 1.0]])


def fit_homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """3×3 homography src → dst by normalised DLT (each (N, 2), N ≥ 4)."""
    src, dst = np.asarray(src, float), np.asarray(dst, float)
    ts, td = _normaliser(src), _normaliser(dst)
    s, d = apply(ts, src), apply(td, dst)
    rows = []
    for (x, y), (u, v) in zip(s, d, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, _, vt = np.linalg.svd(np.array(rows))
    h = vt[-1].reshape(3, 3)
    h = np.linalg.inv(td) @ h @ ts
    return h / h[2, 2]


def _normaliser(p: np.ndarray) -> np.ndarray:
    c = p.mean(axis=0)
    scale = np.sqrt(2) / max(np.sqrt(((p - c) ** 2).sum(axis=1)).mean(), 1e-12)
    return np.array([[scale, 0, -scale * c[0]], [0, scale, -scale * c[1]], [0, 0, 1]])


def apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a 3×3 projective matrix to (N, 2) points."""
    pts = np.asarray(pts, float)
    hom = np.column_stack([pts, np.ones(len(pts))]) @ m.T
    return hom[:, :2] / hom[:, 2:3]


@dataclass(frozen=True)
class Registration:
    """A measured plane-to-plane map (paper mm → plotter mm; composed with the canvas fit it places strokes)."""

    matrix: tuple[tuple[float, ...], ...]  # 3×3, row-major
    kind: str  # affine | homography
    residual_mm: float  # RMS distance between the measured and the fitted points
    max_residual_mm: float

    @classmethod
    def fit(cls, canvas_pts: np.ndarray, mm_pts: np.ndarray, kind: str = "auto") -> Registration:
        """canvas_pts: where the points are in the source plane; mm_pts: where they were measured."""
        canvas_pts, mm_pts = np.asarray(canvas_pts, float), np.asarray(mm_pts, float)
        n = len(canvas_pts)
        if canvas_pts.shape != (n, 2) or mm_pts.shape != (n, 2):
            raise UserError("a registration needs pairs of x,y points: where each point is, and where it was measured")
        if kind == "auto":
            kind = "homography" if n >= 4 else "affine"
        need = {"affine": 3, "homography": 4}
        if kind not in need:
            raise UserError(f"registration kind {kind!r}: choose affine, homography or auto")
        if n < need[kind]:
            raise UserError(f"a {kind} registration needs at least {need[kind]} measured points, got {n}")
        if _collinear(canvas_pts):
            raise UserError("the points lie on one line: measure points spread over the paper")
        m = fit_affine(canvas_pts, mm_pts) if kind == "affine" else fit_homography(canvas_pts, mm_pts)
        err = np.linalg.norm(apply(m, canvas_pts) - mm_pts, axis=1)
        return cls(
            tuple(tuple(float(v) for v in row) for row in m), kind, float(np.sqrt((err**2).mean())), float(err.max())
        )

    def to_mm(self, p: np.ndarray) -> np.ndarray:
        return apply(np.array(self.matrix), p)


def _collinear(pts: np.ndarray) -> bool:
    c = pts - pts.mean(axis=0)
    s = np.linalg.svd(c, compute_uv=False)
    return bool(len(s) < 2 or s[1] < 1e-6 * max(s[0], 1e-12))
