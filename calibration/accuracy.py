"""Accuracy of the calibration steps against ground truth: synthetic paper scenes and real chessboard photos.

`run.py calibrate accuracy --json OUT` runs both and writes the figures the README quotes.
"""

from __future__ import annotations

import glob
from pathlib import Path

import cv2
import numpy as np

from calibration.camera import Intrinsics, calibrate_views, load_views
from calibration.paper import PaperRectifier, ink_region, paper_box
from calibration.synth import LENS, camera, paper_scene


def truth_ink(ink: np.ndarray, canvas: int, markers: bool, border: int = 2) -> np.ndarray:
    """Ground-truth ink mask on the canvas, judged by the same rules as the rectifier (edge band, markers)."""
    ph, pw = ink.shape
    x0, y0, x1, y1 = paper_box(canvas, (pw, ph))
    size = (int(round(x1 - x0)), int(round(y1 - y0)))
    out = np.zeros((canvas, canvas), bool)
    small = cv2.resize(ink, size, interpolation=cv2.INTER_AREA) < 128
    ix, iy = int(round(x0)), int(round(y0))
    out[iy : iy + size[1], ix : ix + size[0]] = small
    return out & ink_region(canvas, (pw, ph), markers, border)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def paper_accuracy(
    scenes: int = 10, markers: bool = False, lens: bool = True, canvas: int = 512, white_desk: bool = False
) -> dict:
    """Corner error (px, ideal image) and ink IoU over `scenes` synthetic frames with known homographies."""
    corner_err, ious, missed = [], [], 0
    for seed in range(scenes):
        paper_px = (420, 594) if seed % 2 else (512, 512)  # A-series portrait and square sheets
        desk = (235, 238, 240) if white_desk else (70, 80, 95)  # on a white desk only the markers find the sheet
        frame, truth, ink = paper_scene(seed, paper_px=paper_px, markers=markers, lens=lens, desk=desk)
        intr = _synthetic_intrinsics(frame.shape[1], frame.shape[0]) if lens else None
        r = PaperRectifier(canvas=canvas, paper_wh=paper_px, markers=markers, intrinsics=intr)
        sketch = r.sketch(frame)
        if sketch is None or r.corners is None:
            missed += 1
            continue
        corner_err.append(float(np.linalg.norm(r.corners - truth, axis=1).max()))
        ious.append(iou(sketch < 128, truth_ink(ink, canvas, markers)))
    return {
        "scenes": scenes,
        "markers": markers,
        "lens_distortion": lens,
        "white_desk": white_desk,
        "missed": missed,
        "corner_error_px_max": max(corner_err) if corner_err else None,
        "corner_error_px_mean": float(np.mean(corner_err)) if corner_err else None,
        "ink_iou_min": min(ious) if ious else None,
        "ink_iou_mean": float(np.mean(ious)) if ious else None,
    }


def _synthetic_intrinsics(w: int, h: int) -> Intrinsics:
    return Intrinsics.known(camera(w, h).tolist(), LENS.tolist(), (w, h))


def opencv_reference_rms(views: dict[str, np.ndarray], pattern: tuple[int, int]) -> tuple[float, int]:
    """OpenCV's own tutorial pipeline on the same photos: default corner search, 11×11 sub-pixel, all views."""
    obj = np.zeros((pattern[0] * pattern[1], 3), np.float32)
    obj[:, :2] = np.mgrid[0 : pattern[0], 0 : pattern[1]].T.reshape(-1, 2)
    objs, imgs = [], []
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.001)
    size = None
    for gray in views.values():
        ok, corners = cv2.findChessboardCorners(gray, pattern, None)
        if ok:
            objs.append(obj)
            imgs.append(cv2.cornerSubPix(gray, corners, (11, 11), (-1, -1), crit))
            size = gray.shape[::-1]
    rms, *_ = cv2.calibrateCamera(objs, imgs, size, None, None)
    return float(rms), len(imgs)


def chessboard_accuracy(images: str, pattern: tuple[int, int] = (9, 6)) -> dict:
    views = load_views(images)
    ours = calibrate_views(views, pattern)
    ref_rms, ref_views = opencv_reference_rms(views, pattern)
    return {
        "images": len(views),
        "ours_rms": ours.rms,
        "ours_views_used": len(ours.views_used),
        "opencv_rms": ref_rms,
        "opencv_views": ref_views,
        "ratio": ours.rms / ref_rms,
    }


def default_chessboard_glob() -> str | None:
    here = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "chessboard" / "*.jpg"
    return str(here) if glob.glob(str(here)) else None


def rectifier_speed(frames: int = 30, canvas: int = 512) -> dict:
    """Per-frame cost of the live paper path (undistort, markers every 3rd frame once locked, rectify, ink, hand)."""
    import time

    frame, _, _ = paper_scene(1, paper_px=(420, 594), markers=True, lens=True)
    r = PaperRectifier(canvas, (420, 594), True, _synthetic_intrinsics(frame.shape[1], frame.shape[0]))
    r.sketch(frame)
    t0 = time.perf_counter()
    for _ in range(frames):
        r.sketch(frame)
    return {"canvas": canvas, "frames": frames, "ms_per_frame": round((time.perf_counter() - t0) / frames * 1000, 1)}
