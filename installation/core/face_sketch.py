"""A face crop → a line drawing the robot can make: contours, inner features, hatching for shadow.

Built on the pix2pix work's photo sketcher (installation/core/xdog.py) and the robot-hand vectoriser: a coarse XDoG
gives the long outlines (head, hair, shoulders), a fine XDoG inside the face ellipse gives eyes, nose and mouth
(minus what the outlines already cover), and tone under each hatch level gets hatch lines. Paths come in
priority order (outlines longest first, then features, then hatching), so a stroke budget or a drawing-time
target drops hatching first and outlines last.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from installation.core.centreline import centre_lines
from installation.core.plotpaths import PaperMapping, path_length, prepare, travel
from installation.core.vectorise import VectoriseParams, hatching
from installation.core.vectorise import _wobble as wobble
from installation.core.xdog import XDoGParams, sketch_photo

WORK = 256  # the crop is analysed at this size (pixels)


@dataclass(frozen=True)
class FaceStyle:
    contour_sigma: float  # coarse XDoG: larger = fewer, longer outlines
    feature_sigma: float  # fine XDoG inside the face (0 = no inner features)
    hatch_levels: tuple[tuple[float, float, float], ...]  # (tone below, angle°, spacing px) per level
    min_contour_px: float = 12.0
    wobble_px: float = 0.5


STYLES = {
    "quick": FaceStyle(2.2, 0.0, (), min_contour_px=24.0),
    "portrait": FaceStyle(1.8, 1.0, ((0.30, 45.0, 6.0),)),
    "shaded": FaceStyle(1.6, 0.9, ((0.48, 45.0, 6.0), (0.34, 45.0, 3.5), (0.2, -45.0, 4.0))),
}


@dataclass(frozen=True)
class Plan:
    paths_mm: list[np.ndarray]  # in drawing order, paper millimetres
    candidates: int  # paths the sketcher made before budget and time trimming
    pen_down_mm: float
    pen_up_mm: float
    estimated_s: float


def _lines(ink: np.ndarray, prm: VectoriseParams, rng: np.random.Generator) -> list[np.ndarray]:
    """Ink mask → centre-line paths, longest first: each line once (installation/core/centreline.py).

    A slight hand tremor comes from the vectoriser's wobble.
    """
    out = []
    for s in centre_lines(ink, spur_px=4.0, min_length_px=prm.min_contour_px):
        p = s.points
        out.append(wobble(p[::2] if len(p) > 4 else p, prm.wobble_px, rng))
    return out


def sketch_face(crop: np.ndarray, style: FaceStyle, canvas: int, seed: int = 0) -> list[np.ndarray]:
    """(S, S) uint8 grey face crop → paths [K, 2] in canvas pixels (square canvas of side `canvas`), by priority."""
    gray = cv2.resize(crop, (WORK, WORK), interpolation=cv2.INTER_AREA)
    gray = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(gray)  # even out the venue's light
    rng = np.random.default_rng(seed)
    prm = VectoriseParams(work_size=WORK, min_contour_px=style.min_contour_px, wobble_px=style.wobble_px)
    coarse = sketch_photo(gray, WORK, XDoGParams(sigma=style.contour_sigma, hatch_below=0.0, min_speck=20))
    outlines = _lines(coarse < 128, prm, rng)
    features: list[np.ndarray] = []
    if style.feature_sigma > 0:
        fine = sketch_photo(gray, WORK, XDoGParams(sigma=style.feature_sigma, hatch_below=0.0, min_speck=8))
        covered = cv2.dilate((coarse < 128).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        ellipse = np.zeros((WORK, WORK), np.uint8)  # the face inside the crop (see adapters/faces.crop_face)
        cv2.ellipse(ellipse, (WORK // 2, int(WORK * 0.44)), (int(WORK * 0.24), int(WORK * 0.3)), 0, 0, 360, 1, -1)
        features = _lines((fine < 128) & ~covered & (ellipse > 0), prm, rng)
    shade: list[np.ndarray] = []
    if style.hatch_levels:
        shade = hatching(gray, VectoriseParams(work_size=WORK, hatch_levels=style.hatch_levels, wobble_px=0.4), rng)
    k = canvas / WORK
    return [np.clip(p * k, 0, canvas) for p in outlines + features + shade if len(p) >= 2]


def denser(style: FaceStyle, factor: float) -> FaceStyle:
    """The style with its hatch lines `factor` times closer together (factor < 1), for a longer portrait."""
    levels = tuple((tone, angle, max(2.0, gap * factor)) for tone, angle, gap in style.hatch_levels)
    return replace(style, hatch_levels=levels)


def sketch_for_time(
    crop: np.ndarray,
    style: FaceStyle,
    canvas: int,
    mapping: PaperMapping,
    stroke_budget: int,
    target_s: float,
    speed_mm_s: float,
    seed: int = 0,
) -> Plan:
    """Sketch and plan a portrait for the target drawing time: too long → trimmed (hatching first); far too
    short with a hatched style → one more try with hatch lines half as far apart, kept if it draws longer."""
    plan = plan_portrait(sketch_face(crop, style, canvas, seed), mapping, stroke_budget, target_s, speed_mm_s)
    if style.hatch_levels and plan.estimated_s < 0.6 * target_s and len(plan.paths_mm) < stroke_budget:
        paths = sketch_face(crop, denser(style, 0.5), canvas, seed)
        richer = plan_portrait(paths, mapping, stroke_budget, target_s, speed_mm_s)
        if richer.estimated_s > plan.estimated_s:
            return richer
    return plan


def plan_portrait(
    paths: list[np.ndarray],
    mapping: PaperMapping,
    stroke_budget: int,
    target_s: float,
    speed_mm_s: float,
    order_budget_s: float = 0.3,
) -> Plan:
    """Priority-ordered canvas paths → paper paths in drawing order that fit the stroke budget and drawing time.

    The time estimate is pen-down length plus pen-up travel at the robot's speed; pen-up travel is taken as a
    third of the drawing at first (typical for ordered portraits), then measured after ordering and the plan
    trimmed again if it still runs over.
    """
    mm = [mapping.to_mm(np.asarray(p, float)) for p in paths[:stroke_budget]]
    lengths = np.array([path_length(p) for p in mm])
    limit = target_s * speed_mm_s  # mm the robot can travel in the target time
    keep = int(np.searchsorted(np.cumsum(lengths) * 1.33, limit, side="right"))
    for _ in range(4):
        ordered = prepare(mm[:keep], tolerance=0.1, merge_tol=0.05, budget_s=order_budget_s)
        down = float(sum(path_length(p) for p in ordered))
        up = travel(ordered, np.zeros(2))
        if down + up <= limit or keep <= 1:
            break
        keep = max(1, int(keep * limit / (down + up)))
    return Plan(ordered, len(paths), down, up, (down + up) / speed_mm_s if speed_mm_s > 0 else 0.0)
