"""The AI's strokes against the artist's ink: measuring the crossing, cutting it, seeds, order, two inks."""

import cv2
import numpy as np
import pytest

from installation.core import duet_ink
from installation.core.strokes import Canvas, PenPoint


def drawing(seed: int, side: int = 256) -> np.ndarray:
    """A random artist's drawing: a few thick random polylines, as the Canvas rasterises them."""
    rng = np.random.default_rng(seed)
    c = Canvas(1024, side, 2.0, 7.0)
    for _ in range(6):
        pts = np.cumsum(rng.normal(0, 40, (12, 2)), 0) + rng.uniform(200, 800, 2)
        c.pen_down(PenPoint(*pts[0], rng.uniform(0.2, 1.0), 0.0), 0.0)
        for x, y in pts[1:]:
            c.pen_move(PenPoint(x, y, rng.uniform(0.2, 1.0), 0.0), 0.0)
        c.pen_up(0.0)
    return c.raster()


def test_crossing_measures_the_length_over_ink() -> None:
    mask = np.zeros((100, 100), bool)
    mask[:, 40:50] = True  # a vertical band 10 px wide
    across = np.array([[0.0, 50.0], [100.0, 50.0]])
    beside = np.array([[60.0, 0.0], [60.0, 100.0]])
    assert duet_ink.crossing([across], mask).fraction == pytest.approx(0.10, abs=0.01)
    assert duet_ink.crossing([beside], mask).fraction == 0.0
    both = duet_ink.crossing([across, beside], mask)
    assert both.total_px == pytest.approx(200.0) and both.over_ink_px == pytest.approx(10.0, abs=0.6)


def test_a_stroke_across_a_line_is_cut_in_two_that_join_it() -> None:
    mask = np.zeros((100, 100), bool)
    mask[:, 40:50] = True
    pieces = duet_ink.cut_over_ink([np.array([[0.0, 50.0], [100.0, 50.0]])], mask, join_px=1.0, min_px=6)
    assert len(pieces) == 2
    left, right = sorted(pieces, key=lambda p: p[0, 0])
    assert left[-1, 0] == pytest.approx(41.0, abs=0.3) and right[0, 0] == pytest.approx(49.0, abs=0.3)  # 1 px in
    assert duet_ink.crossing(pieces, mask).fraction < 0.03
    no_join = duet_ink.cut_over_ink(pieces, mask, join_px=0.0)
    assert duet_ink.crossing(no_join, mask).over_ink_px < 0.3


@pytest.mark.parametrize("seed", range(6))
def test_random_strokes_over_a_random_drawing_cross_at_most_five_percent_after_the_cut(seed: int) -> None:
    raster = drawing(seed)
    mask = duet_ink.ink_mask(raster)
    rng = np.random.default_rng(100 + seed)
    strokes = [np.cumsum(rng.normal(0, 12, (8, 2)), 0) + rng.uniform(40, 216, 2) for _ in range(8)]
    before = duet_ink.crossing(strokes, mask).fraction
    cut = duet_ink.join_budget(duet_ink.cut_over_ink(strokes, mask, 1.0, 6.0), mask, 0.05)
    after = duet_ink.crossing(cut, mask)
    assert after.fraction <= 0.05
    assert after.total_px > 0.3 * duet_ink.crossing(strokes, mask).total_px  # most of the strokes remain
    if before > 0.05:
        assert after.fraction < before


def test_seeds_continue_the_newest_lines_then_open_paper() -> None:
    mask = np.zeros((96, 96), bool)
    line = np.array([[20.0, 48.0], [30.0, 48.0], [40.0, 48.0], [50.0, 48.0]])
    cv2.line(mask.view(np.uint8), (20, 48), (50, 48), 1, 2)
    out = duet_ink.seeds([line], mask, 4, np.random.default_rng(0), reach_px=12.0)
    assert len(out) == 4 and all(p.shape == (4, 2) for p in out)
    assert np.linalg.norm(out[0][0] - [52.0, 48.0]) < 1.0  # just off the line's newest end, heading on
    assert out[0][-1][0] > out[0][0][0]
    assert np.linalg.norm(out[1][0] - [18.0, 48.0]) < 1.0  # off its other end, heading back
    assert all(0 <= v <= 95 for p in out for v in p.ravel())


def test_order_puts_the_shortest_first_then_the_nearest() -> None:
    long_ = np.array([[0.0, 0.0], [100.0, 0.0]])
    short = np.array([[200.0, 0.0], [210.0, 0.0]])
    near_short = np.array([[215.0, 0.0], [260.0, 0.0]])
    seq = duet_ink.order_from([long_, near_short, short], start=None)
    assert np.array_equal(seq[0], short) and np.array_equal(seq[1], near_short) and len(seq) == 3


def test_two_inks_draw_the_artist_dark_and_the_ai_blue() -> None:
    img = duet_ink.two_inks(
        [("artist", np.array([[100.0, 100.0], [900.0, 100.0]])), ("ai", np.array([[100.0, 800.0], [900.0, 800.0]]))],
        256,
        1024,
        width_px=6.0,
    )
    top, bottom = img[20:30], img[195:205]
    assert (np.abs(top.astype(int) - duet_ink.HUMAN_BGR).sum(-1) < 30).sum() > 100
    assert (np.abs(bottom.astype(int) - duet_ink.AI_BGR).sum(-1) < 30).sum() > 100
    assert (np.abs(top.astype(int) - duet_ink.AI_BGR).sum(-1) < 60).sum() == 0
