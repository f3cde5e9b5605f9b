import cv2
import numpy as np
import pytest

from installation.core.errors import UserError
from installation.core.plotpaths import (
    PaperMapping,
    merge,
    order,
    paper_size,
    path_length,
    prepare,
    simplify,
    stats,
    travel,
)
from installation.core.vectorise import trace, vectorise


def _random_paths(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(0, 200, 2) + np.cumsum(rng.normal(0, 2, (5, 2)), axis=0) for _ in range(n)]


def test_simplify_keeps_corners_drops_collinear_points() -> None:
    line = np.array([[0, 0], [1, 0.01], [2, 0], [3, 0], [3, 1], [3, 2]], float)
    s = simplify(line, 0.1)
    assert s.tolist() == [[0, 0], [3, 0], [3, 2]]


def test_merge_joins_touching_ends() -> None:
    a = np.array([[0, 0], [1, 0]], float)
    b = np.array([[1, 0], [2, 0]], float)
    c = np.array([[5, 5], [2, 0]], float)  # touches when reversed
    merged = merge([a, b, c], 1e-6)
    assert len(merged) == 1 and merged[0][-1].tolist() == [5, 5]
    assert len(merge([a, c], 1e-6, allow_reverse=False)) == 2


def test_order_keeps_every_path_once_and_cuts_travel() -> None:
    paths = _random_paths(400)
    ordered = order(paths, budget_s=0.2)
    assert len(ordered) == len(paths)
    key = {tuple(np.round(p[0], 6)) for p in paths} | {tuple(np.round(p[-1], 6)) for p in paths}
    assert all(tuple(np.round(p[0], 6)) in key and tuple(np.round(p[-1], 6)) in key for p in ordered)
    assert abs(sum(map(path_length, ordered)) - sum(map(path_length, paths))) < 1e-6
    assert travel(ordered) < travel(paths) / 5


def test_ordering_is_no_worse_than_vpype_linesort() -> None:
    vpype = pytest.importorskip("vpype")
    from vpype_cli import execute

    paths = _random_paths(600, seed=3)
    lc = vpype.LineCollection([p[:, 0] + 1j * p[:, 1] for p in paths])
    doc = execute("linesort", vpype.Document(lc))
    theirs = doc.layers[1].pen_up_length()[0]
    ours = travel(order(paths, start=(0.0, 0.0), budget_s=0.3))
    assert ours <= theirs * 1.001


def test_paper_mapping_fits_the_canvas_inside_the_margins() -> None:
    m = PaperMapping(1024, paper_size("a4"), 15.0)
    corners = m.to_mm(np.array([[0, 0], [1024, 1024]], float))
    assert corners[0][0] >= 15 - 1e-9 and corners[1][0] <= 210 - 15 + 1e-9
    assert abs((corners[0][1] + corners[1][1]) / 2 - 297 / 2) < 1e-9  # centred
    with pytest.raises(UserError, match="unknown paper"):
        paper_size("b7")


def test_vectorise_gives_contours_and_hatching_for_tone() -> None:
    img = np.full((128, 128), 255, np.uint8)
    img[32:96, 32:96] = 40  # a dark square: an outline plus hatching inside
    paths = vectorise(img, 1024)
    pts = np.concatenate(paths)
    assert len(paths) > 10 and pts.min() >= 0 and pts.max() <= 1024
    inside = (pts[:, 0] > 300) & (pts[:, 0] < 720) & (pts[:, 1] > 300) & (pts[:, 1] < 720)
    assert inside.mean() > 0.5  # the ink is where the dark tone is
    assert len(vectorise(np.full((64, 64), 255, np.uint8), 1024)) == 0  # blank paper: nothing to draw


def test_prepare_and_stats() -> None:
    paths = _random_paths(50) + [np.array([[1, 1], [1, 1]], float)]  # a zero-length path is dropped
    out = prepare(paths, tolerance=0.05, merge_tol=0.0)
    st = stats(out)
    assert st.paths == 50 and st.pen_up_mm == pytest.approx(travel(out))


def test_vectorise_draws_a_line_drawing_once_along_its_centre() -> None:
    # the old outline tracer drew both sides of every pen line: twice the length
    img = np.full((512, 512), 255, np.uint8)
    lines = [((40, 60), (470, 90)), ((60, 440), (300, 120)), ((420, 460), (380, 150))]
    for a, b in lines:
        cv2.line(img, a, b, 0, 2, cv2.LINE_AA)
    cv2.circle(img, (256, 300), 80, 0, 2, cv2.LINE_AA)
    drawn = sum(float(np.hypot(b[0] - a[0], b[1] - a[1])) for a, b in lines) + 2 * np.pi * 80
    traced = trace(img)
    assert traced.contours == [] and traced.hatching == []  # no tone: nothing but the lines
    total = sum(s.length for s in traced.lines)
    assert abs(total - drawn) < 0.05 * drawn
    assert all(2.0 <= float(np.median(s.widths)) <= 4.0 for s in traced.lines if s.length > 20)  # 2 px, anti-aliased
    canvas_total = sum(path_length(p) for p in vectorise(img, 1024))
    assert abs(canvas_total - drawn * 2) < 0.06 * drawn * 2  # the same, on a canvas twice the image's size


def test_trace_keeps_the_image_aspect_and_hatches_areas_not_lines() -> None:
    img = np.full((300, 600), 255, np.uint8)
    img[100:200, 350:550] = 30  # a solid dark area: outline and cross-hatching
    cv2.line(img, (20, 20), (300, 280), 0, 1, cv2.LINE_AA)  # a pen line: a centre line, no hatching around it
    d = trace(img)
    assert d.size == (600, 300)
    assert len(d.lines) >= 1 and max(s.length for s in d.lines) > 0.9 * np.hypot(280, 260)
    hatch = np.concatenate(d.hatching)
    assert hatch[:, 0].min() > 330 and hatch[:, 0].max() < 570  # only in the dark area
    assert hatch[:, 1].min() > 85 and hatch[:, 1].max() < 215
