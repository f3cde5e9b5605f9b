import numpy as np

from installation.core.strokes import INK, PAPER, Canvas, PenPoint, Stroke, pressure_width, rasterise


def _line(canvas: Canvas, pts: list[tuple[float, float, float]]) -> None:
    canvas.pen_down(PenPoint(*pts[0], 0.0), 1.0)
    for i, (x, y, p) in enumerate(pts[1:], start=1):
        canvas.pen_move(PenPoint(x, y, p, i * 0.01), 1.0 + i)
    canvas.pen_up(99.0)


def test_pressure_sets_width() -> None:
    assert pressure_width(0.0, 2, 10) == 2
    assert pressure_width(1.0, 2, 10) == 10
    assert pressure_width(7.0, 2, 10) == 10  # clamped

    light = Canvas(512, 256, min_width=1, max_width=16)
    heavy = Canvas(512, 256, min_width=1, max_width=16)
    _line(light, [(50, 256, 0.0), (450, 256, 0.0)])
    _line(heavy, [(50, 256, 1.0), (450, 256, 1.0)])
    ink_light = (light.raster() < 128).sum()
    ink_heavy = (heavy.raster() < 128).sum()
    assert ink_heavy > 4 * ink_light


def test_incremental_raster_matches_full_rasterise() -> None:
    c = Canvas(1024, 256)
    _line(c, [(100, 100, 0.5), (300, 400, 0.7), (800, 200, 0.2)])
    _line(c, [(500, 900, 1.0), (520, 100, 0.9)])
    full = rasterise(c.strokes, 1024, 256)
    assert np.abs(full.astype(int) - c.raster().astype(int)).max() <= 1
    assert (c.raster() == INK).any() and (c.raster() == PAPER).any()


def test_version_advances_and_clear_resets() -> None:
    c = Canvas(512, 128)
    v0 = c.version
    _line(c, [(10, 10, 1), (100, 100, 1)])
    assert c.version > v0 and len(c.strokes) == 1
    assert c.last_pen_t == 99.0
    c.clear(100.0)
    assert c.strokes == [] and (c.raster() == PAPER).all()


def test_move_without_down_draws_nothing() -> None:
    c = Canvas(512, 128)
    c.pen_move(PenPoint(10, 10, 1, 0), 0)
    assert (c.raster() == PAPER).all() and c.version == 0


def test_stroke_bounds() -> None:
    s = Stroke((PenPoint(1, 5, 1, 0), PenPoint(4, 2, 1, 1)))
    assert s.bounds() == (1, 2, 4, 5)
