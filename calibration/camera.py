"""Camera intrinsics from chessboard views: RMS and per-view reprojection errors, bad views dropped.

Views whose own reprojection error exceeds `reject_factor` × the median are dropped and the calibration is
run again on the rest (at least MIN_VIEWS must remain).
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.core.errors import UserError

MIN_VIEWS = 3


@dataclass(frozen=True)
class Intrinsics:
    rms: float
    camera_matrix: list[list[float]]
    dist_coeffs: list[float]
    image_size: tuple[int, int]  # (width, height)
    views_used: list[str]
    views_rejected: list[dict[str, object]]
    per_view_error: dict[str, float]

    @classmethod
    def known(
        cls, camera_matrix: list[list[float]], dist_coeffs: list[float], image_size: tuple[int, int], rms: float = 0.0
    ) -> Intrinsics:
        """Intrinsics that come from elsewhere (a venue profile, a synthetic camera): no views behind them."""
        return cls(rms, camera_matrix, dist_coeffs, image_size, [], [], {})

    def to_json(self) -> dict[str, object]:
        return {
            "rms": self.rms,
            "camera_matrix": self.camera_matrix,
            "dist_coeffs": self.dist_coeffs,
            "image_size": list(self.image_size),
            "views_used": self.views_used,
            "views_rejected": self.views_rejected,
            "per_view_error": self.per_view_error,
        }


def parse_pattern(text: str) -> tuple[int, int]:
    try:
        cols, rows = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"--pattern {text!r} must be inner corners as COLSxROWS, e.g. 9x6") from None
    if cols < 3 or rows < 3:
        raise UserError(f"--pattern {text!r}: a chessboard needs at least 3x3 inner corners")
    return cols, rows


def find_corners(gray: np.ndarray, pattern: tuple[int, int]) -> np.ndarray | None:
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
    ok, corners = cv2.findChessboardCorners(gray, pattern, flags=flags)
    if not ok:
        return None
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 40, 1e-3)
    return cv2.cornerSubPix(gray, corners, (5, 5), (-1, -1), crit)


def calibrate_views(
    views: dict[str, np.ndarray], pattern: tuple[int, int], square: float = 1.0, reject_factor: float = 3.0
) -> Intrinsics:
    """views: name → grey image. Raises UserError when too few boards are found."""
    obj = np.zeros((pattern[0] * pattern[1], 3), np.float32)
    obj[:, :2] = np.mgrid[0 : pattern[0], 0 : pattern[1]].T.reshape(-1, 2) * square
    found: dict[str, np.ndarray] = {}
    rejected: list[dict[str, object]] = []
    size: tuple[int, int] | None = None
    for name, gray in views.items():
        if size is None:
            size = (gray.shape[1], gray.shape[0])
        elif (gray.shape[1], gray.shape[0]) != size:
            rejected.append({"view": name, "reason": "image size differs from the first view"})
            continue
        corners = find_corners(gray, pattern)
        if corners is None:
            rejected.append({"view": name, "reason": f"no {pattern[0]}x{pattern[1]} chessboard found"})
        else:
            found[name] = corners
    if len(found) < MIN_VIEWS or size is None:
        raise UserError(
            f"found a {pattern[0]}x{pattern[1]} chessboard in {len(found)} of {len(views)} images; at least "
            f"{MIN_VIEWS} are needed: check --pattern (inner corners) and take more views of the whole board"
        )
    while True:
        names = list(found)
        rms, k, dist, rvecs, tvecs = cv2.calibrateCamera(
            [obj] * len(names), [found[n] for n in names], size, None, None
        )
        errors = {}
        for n, r, t in zip(names, rvecs, tvecs, strict=True):
            proj, _ = cv2.projectPoints(obj, r, t, k, dist)
            errors[n] = float(np.sqrt(np.mean(np.sum((proj - found[n]) ** 2, axis=2))))
        med = float(np.median(list(errors.values())))
        worst = max(errors, key=errors.__getitem__)
        if errors[worst] > reject_factor * max(med, 0.2) and len(found) > MIN_VIEWS:
            rejected.append(
                {"view": worst, "reason": f"reprojection error {errors[worst]:.2f} px > {reject_factor}× median"}
            )
            del found[worst]
            continue
        return Intrinsics(float(rms), k.tolist(), dist.ravel().tolist(), size, names, rejected, errors)


def load_views(pattern_glob: str) -> dict[str, np.ndarray]:
    paths = sorted(glob.glob(pattern_glob))
    if not paths:
        raise UserError(f"no images match {pattern_glob!r}: quote the glob and check the folder")
    views = {}
    from installation.core.image_files import image_size

    for p in paths:
        image_size(Path(p), "calibration view", unreadable_ok=True)  # a huge one is refused before decoding
        img = cv2.imread(p, cv2.IMREAD_GRAYSCALE)
        if img is not None:
            views[Path(p).name] = img
    if not views:
        raise UserError(f"none of the {len(paths)} files matching {pattern_glob!r} is a readable image")
    return views


def undistort_maps(intr: Intrinsics, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Remap tables for cv2.remap; compute once per profile and image size, then reuse for every frame.

    A frame of another size than the calibration's (the same camera at another resolution) scales K.
    """
    k = np.asarray(intr.camera_matrix, float).copy()
    d = np.asarray(intr.dist_coeffs, float)
    size = size or intr.image_size
    if tuple(size) != tuple(intr.image_size):
        k[0] *= size[0] / intr.image_size[0]
        k[1] *= size[1] / intr.image_size[1]
    return cv2.initUndistortRectifyMap(k, d, None, k, size, cv2.CV_32FC1)
