"""Synthetic camera views with known ground truth, for tests and the accuracy benchmark.

Chessboards seen by a camera of known intrinsics and lens distortion, and a sketch on paper seen under a known
homography with uneven light and noise. Distortion is applied exactly: every output pixel is undistorted
(cv2.undistortPoints) and sampled from the ideal pinhole render.
"""

from __future__ import annotations

import cv2
import numpy as np


def camera(width: int = 640, height: int = 480, f: float = 560.0) -> np.ndarray:
    return np.array([[f, 0, width / 2 - 3.5], [0, f * 1.01, height / 2 + 2.0], [0, 0, 1]], float)


LENS = np.array([-0.12, 0.05, 0.0005, -0.0004, 0.0])  # the synthetic camera's distortion (barrel)


def distort(ideal: np.ndarray, k: np.ndarray, dist: np.ndarray, border: int = 0) -> np.ndarray:
    """The view a lens with `dist` gives of the ideal pinhole image `ideal`."""
    h, w = ideal.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    pts = np.stack([xs.ravel(), ys.ravel()], 1)[:, None, :]
    und = cv2.undistortPoints(pts, k, dist, P=k).reshape(h, w, 2)
    return cv2.remap(ideal, und[..., 0], und[..., 1], cv2.INTER_LINEAR, borderValue=border)


def chessboard_views(
    n: int,
    pattern: tuple[int, int] = (9, 6),
    seed: int = 0,
    k: np.ndarray | None = None,
    dist: np.ndarray | None = None,
    size: tuple[int, int] = (640, 480),
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """n grey views of a chessboard (square = 1 unit) → (views, K, dist)."""
    rng = np.random.default_rng(seed)
    k = camera(*size) if k is None else k
    dist = LENS if dist is None else dist
    cols, rows = pattern[0] + 1, pattern[1] + 1
    px = 40  # texture pixels per square
    tex = np.full(((rows + 2) * px, (cols + 2) * px), 255, np.uint8)
    for r in range(rows):
        for c in range(cols):
            if (r + c) % 2 == 0:
                tex[(r + 1) * px : (r + 2) * px, (c + 1) * px : (c + 2) * px] = 0
    views = {}
    for i in range(n):
        rvec = rng.normal(0, [0.35, 0.35, 0.2])
        tvec = np.array(
            [rng.uniform(-2.5, -1.5) - cols / 2 + 2, rng.uniform(-2.0, -1.0) - rows / 2 + 2, rng.uniform(11, 16)]
        )
        r, _ = cv2.Rodrigues(rvec)
        # texture pixel (u, v) → board point ((u/px) - 1, (v/px) - 1, 0) → image via K [r1 r2 t]
        board_from_tex = np.array([[1 / px, 0, -1], [0, 1 / px, -1], [0, 0, 1]])
        h = k @ np.column_stack([r[:, 0], r[:, 1], tvec]) @ board_from_tex
        ideal = cv2.warpPerspective(tex, h, size, flags=cv2.INTER_AREA, borderValue=200)
        img = distort(ideal, k, dist, border=200)
        img = np.clip(img.astype(np.float32) + rng.normal(0, 2.0, img.shape), 0, 255).astype(np.uint8)
        views[f"view_{i:02d}.png"] = img
    return views, k, dist


def sketch_texture(size: int = 512, seed: int = 0) -> np.ndarray:
    """A line drawing on white (the ground-truth ink), size² uint8."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size), 255, np.uint8)
    c = size / 2
    cv2.ellipse(img, (int(c), int(c)), (int(size * 0.3), int(size * 0.38)), 0, 0, 360, 0, 3)
    for _ in range(25):
        p = rng.uniform(0.2 * size, 0.8 * size, 2)
        q = p + rng.normal(0, size * 0.08, 2)
        cv2.line(img, tuple(int(v) for v in p), tuple(int(v) for v in q), 0, int(rng.integers(2, 5)))
    return img


def paper_scene(
    seed: int = 0,
    size: tuple[int, int] = (640, 480),
    paper_px: tuple[int, int] = (512, 512),
    ink: np.ndarray | None = None,
    markers: bool = False,
    lens: bool = False,
    hand: bool = False,
    desk: tuple[int, int, int] = (70, 80, 95),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A camera frame of paper with a sketch: (BGR frame, ground-truth paper corners (TL, TR, BR, BL), ink).

    paper_px is (width, height) of the paper texture; the corners are in the ideal (undistorted) image, so with
    `lens` they are what a rectifier that undistorts with `camera(*size)` and LENS must find.
    """
    rng = np.random.default_rng(seed)
    pw, ph = paper_px
    ink = sketch_texture(min(pw, ph), seed) if ink is None else ink
    if ink.shape != (ph, pw):
        canvas = np.full((ph, pw), 255, np.uint8)
        oy, ox = (ph - ink.shape[0]) // 2, (pw - ink.shape[1]) // 2
        canvas[oy : oy + ink.shape[0], ox : ox + ink.shape[1]] = ink
        ink = canvas
    paper = cv2.cvtColor(ink, cv2.COLOR_GRAY2BGR)
    if markers:
        from calibration.markers import stamp_markers

        paper = stamp_markers(paper)
    w, h = size
    corners = np.zeros((4, 2))
    while True:  # the whole sheet in view, at least 8 px from the frame's edges
        cx, cy = w / 2 + rng.normal(0, 15), h / 2 + rng.normal(0, 10)
        half = min(w, h) * rng.uniform(0.36, 0.43)
        base = np.array([[-pw, -ph], [pw, -ph], [pw, ph], [-pw, ph]], float) / max(pw, ph) * half
        ang = rng.normal(0, 0.12)
        rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        corners = base @ rot.T + [cx, cy] + rng.normal(0, half * 0.05, (4, 2))  # a perspective-ish quad
        if corners.min() >= 8 and (corners[:, 0] <= w - 8).all() and (corners[:, 1] <= h - 8).all():
            break
    # the paper's outer edges: texture pixel centres are at integers, so its extent is -0.5 … size-0.5
    src = np.array([[-0.5, -0.5], [pw - 0.5, -0.5], [pw - 0.5, ph - 0.5], [-0.5, ph - 0.5]], np.float32)
    hm = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    # a darker desk around the paper: constant border = the desk, so the edge's half-way point is the true edge
    frame = cv2.warpPerspective(paper, hm, size, borderMode=cv2.BORDER_CONSTANT, borderValue=desk)
    if hand:  # a skin-toned hand and forearm entering from the bottom right, over the paper
        centre = corners.mean(axis=0) + rng.normal(0, 20, 2)
        arm = np.array([centre, centre + [w, h * 0.8], centre + [w * 0.8, h], centre]).astype(np.int32)
        cv2.fillConvexPoly(frame, cv2.convexHull(arm[:3]), (120, 150, 190))
        cv2.circle(frame, tuple(int(v) for v in centre), int(min(w, h) * 0.07), (120, 150, 190), -1)
    ys, xs = np.mgrid[0:h, 0:w]
    light = 0.65 + 0.35 * (xs / w) * (0.7 + 0.3 * ys / h)  # light falling off across the desk
    frame = frame.astype(np.float32) * light[..., None]
    if lens:
        frame = distort(frame, camera(w, h), LENS, border=80)
    frame = frame + rng.normal(0, 3.0, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8), corners, ink
