import cv2
import numpy as np

from installation.core.centreline import centre_lines, thin
from installation.core.plotpaths import path_length


def _canvas(size: int = 200) -> np.ndarray:
    return np.full((size, size), 255, np.uint8)


def _dist_to_segment(pts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((pts - a) @ ab) / (ab @ ab), 0, 1)
    return np.linalg.norm(pts - (a + t[:, None] * ab), axis=1)


def test_thinning_keeps_a_two_pixel_diagonal_line() -> None:
    # an anti-aliased 45° pen line is two pixels thick; Zhang–Suen erases such lines, Guo–Hall must not
    img = _canvas()
    cv2.line(img, (20, 20), (180, 180), 0, 1, cv2.LINE_AA)
    ink = img < 153
    skel = thin(ink)
    assert skel.sum() > 0.9 * 160  # about one pixel per row survives along the whole line
    assert (skel & ~ink).sum() == 0


def test_a_thin_line_is_traced_once_along_its_centre() -> None:
    img = _canvas()
    a, b = np.array([20.0, 30.0]), np.array([170.0, 150.0])
    cv2.line(img, (20, 30), (170, 150), 0, 1, cv2.LINE_AA)
    (stroke,) = centre_lines(img < 153)
    true = float(np.linalg.norm(b - a))
    assert abs(stroke.length - true) < 0.05 * true  # once, not the two sides (that would be 2×)
    assert _dist_to_segment(stroke.points, a, b).max() < 1.5


def test_a_thick_line_keeps_its_width_and_its_middle() -> None:
    img = _canvas()
    cv2.line(img, (30, 100), (170, 100), 0, 7)
    drawn = int((img[:, 100] < 128).sum())  # the width OpenCV actually drew
    (stroke,) = centre_lines(img < 128)
    assert np.abs(stroke.points[:, 1] - 100).max() <= 1.0
    assert abs(float(np.median(stroke.widths)) - drawn) <= 1.0
    assert stroke.length > 120


def test_a_crossing_gives_two_straight_strokes() -> None:
    img = _canvas()
    cv2.line(img, (20, 20), (180, 180), 0, 2)
    cv2.line(img, (20, 180), (180, 20), 0, 2)
    strokes = centre_lines(img < 128)
    assert len(strokes) == 2
    diag = np.hypot(160, 160)
    for s in strokes:
        assert abs(s.length - diag) < 0.06 * diag
        ends = s.points[[0, -1]]
        assert np.linalg.norm(ends[0] - ends[1]) > 0.9 * diag  # corner to corner, not turning at the middle


def test_a_t_gives_one_long_and_one_short_stroke_and_short_spurs_go() -> None:
    img = _canvas()
    cv2.line(img, (20, 60), (180, 60), 0, 3)
    cv2.line(img, (100, 60), (100, 160), 0, 3)
    cv2.line(img, (60, 60), (60, 58), 0, 3)  # a 1-2 px bump on the bar: a spur, not a stroke
    lengths = sorted(s.length for s in centre_lines(img < 128, spur_px=4.0))
    assert len(lengths) == 2
    assert abs(lengths[1] - 160) < 10 and abs(lengths[0] - 100) < 10


def test_a_ring_is_one_closed_stroke_and_blank_paper_none() -> None:
    img = _canvas()
    cv2.circle(img, (100, 100), 60, 0, 2)
    (ring,) = centre_lines(img < 128)
    assert abs(ring.length - 2 * np.pi * 60) < 0.06 * 2 * np.pi * 60
    assert np.linalg.norm(ring.points[0] - ring.points[-1]) < 2.0
    assert centre_lines(np.zeros((50, 50), bool)) == []
    assert path_length(ring.points) == ring.length
