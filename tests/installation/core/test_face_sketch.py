"""The face sketcher: centre lines, styles, stroke budget and drawing-time target."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.core.centreline import thin
from installation.core.face_sketch import STYLES, plan_portrait, sketch_face
from installation.core.plotpaths import PaperMapping, paper_size, path_length

FACE = Path(__file__).resolve().parents[2] / "fixtures" / "faces" / "face.jpg"
MAPPING = PaperMapping(1024, paper_size("a4"), 15.0)


@pytest.fixture(scope="module")
def crop() -> np.ndarray:
    from installation.adapters.faces import FaceDetector, crop_face

    img = cv2.imread(str(FACE))
    (box,) = FaceDetector().detect(img)
    return crop_face(img, box, 256)


def test_thinning_leaves_one_pixel_lines() -> None:
    ink = np.zeros((40, 60), bool)
    ink[18:23, 5:55] = True  # a bar 5 px thick
    skel = thin(ink)
    cols = skel[:, 10:50].sum(axis=0)
    assert (cols == 1).all()  # one pixel across, everywhere along the bar's middle
    assert skel[:, 10:50].any(axis=1).nonzero()[0].tolist() == [20]


def test_styles_differ_and_paths_stay_on_the_canvas(crop: np.ndarray) -> None:
    counts = {}
    for name, style in STYLES.items():
        paths = sketch_face(crop, style, 1024)
        assert paths and all(p.shape[1] == 2 and len(p) >= 2 for p in paths)
        assert all(p.min() >= 0 and p.max() <= 1024 for p in paths)
        counts[name] = len(paths)
    assert counts["quick"] < counts["portrait"] < counts["shaded"]


def test_outlines_are_not_drawn_twice(crop: np.ndarray) -> None:
    # a contour traced there and back would put two paths (or two halves of one) on the same pixels
    paths = sketch_face(crop, STYLES["quick"], 256)
    ink = np.zeros((256, 256), np.int32)
    for p in paths:
        layer = np.zeros((256, 256), np.uint8)
        cv2.polylines(layer, [np.round(p).astype(np.int32)], False, 1, 1)
        ink += layer
    assert (ink >= 2).sum() < 0.15 * (ink >= 1).sum()


def test_stroke_budget_and_time_target_trim_hatching_first(crop: np.ndarray) -> None:
    paths = sketch_face(crop, STYLES["shaded"], 1024)
    full = plan_portrait(paths, MAPPING, 10_000, 3600.0, 60.0)
    assert len(full.paths_mm) > 100 and full.candidates == len(paths)
    small = plan_portrait(paths, MAPPING, 50, 3600.0, 60.0)
    assert len(small.paths_mm) <= 50
    # the first (longest) outline survives the budget
    longest = max(path_length(MAPPING.to_mm(p)) for p in paths[:50])
    assert max(path_length(p) for p in small.paths_mm) >= longest * 0.99
    quick = plan_portrait(paths, MAPPING, 10_000, 60.0, 60.0)  # a one-minute sketch
    assert quick.estimated_s <= 60.0 < full.estimated_s
    assert 0 < len(quick.paths_mm) < len(full.paths_mm)
    assert quick.pen_down_mm + quick.pen_up_mm <= 60.0 * 60.0


def test_a_long_target_makes_a_richer_portrait_and_a_short_one_a_sparser(crop: np.ndarray) -> None:
    from installation.core.face_sketch import sketch_for_time

    quick = sketch_for_time(crop, STYLES["portrait"], 1024, MAPPING, 2000, 60.0, 60.0)
    normal = sketch_for_time(crop, STYLES["portrait"], 1024, MAPPING, 2000, 120.0, 60.0)
    long = sketch_for_time(crop, STYLES["portrait"], 1024, MAPPING, 2000, 1800.0, 60.0)
    assert quick.estimated_s <= 60.0 and normal.estimated_s <= 120.0
    assert len(quick.paths_mm) < len(normal.paths_mm) < len(long.paths_mm)
    assert normal.estimated_s < long.estimated_s <= 1800.0
    no_hatching = sketch_for_time(crop, STYLES["quick"], 1024, MAPPING, 2000, 1800.0, 60.0)
    assert len(no_hatching.paths_mm) == len(
        plan_portrait(sketch_face(crop, STYLES["quick"], 1024), MAPPING, 2000, 1800.0, 60.0).paths_mm
    )
