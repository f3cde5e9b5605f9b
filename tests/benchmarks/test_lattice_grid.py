"""benchmarks/lattice_grid.py: the shift average removes grain fixed to the network's grid and keeps a pattern
that belongs to the drawing, without blurring the drawing (synthetic answers of known origin)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from models.pix2pix.metrics import lattice_peak

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lattice_grid", ROOT / "benchmarks" / "lattice_grid.py")
assert spec is not None and spec.loader is not None
lattice_grid = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lattice_grid)

N = 128
YY, XX = np.mgrid[0:N, 0:N]
GRID = 40.0 * np.cos(2 * np.pi * XX / 8)  # a period-8 ripple at fixed pixel positions


def drawing(stripes: bool) -> np.ndarray:
    """(N, N) uint8: grey paper with a dark ring (the grain is not clipped), a period-8 stripe patch if `stripes`."""
    img = np.full((N, N), 200.0)
    r = np.hypot(YY - 64, XX - 60)
    img[(r > 30) & (r < 34)] = 60
    if stripes:
        patch = (slice(40, 90), slice(30, 100))
        img[patch] = 140 + 60 * np.cos(2 * np.pi * XX[patch] / 8)
    return img.astype(np.uint8)


class Answers:
    """An answer function of known origin: the sketch in RGB, plus grain fixed to the grid or not."""

    def __init__(self, grid_grain: bool) -> None:
        self.grid_grain = grid_grain

    def run(self, sketch: np.ndarray) -> np.ndarray:
        out = sketch.astype(np.float64) + (GRID if self.grid_grain else 0.0)
        return np.repeat(np.clip(out, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def test_grain_of_the_grid_is_averaged_away_and_the_drawing_stays_sharp() -> None:
    model, sketch = Answers(grid_grain=True), drawing(stripes=False)
    answer, averaged = model.run(sketch), lattice_grid.shift_average(model, sketch)
    assert lattice_peak(answer) > 50 and lattice_peak(averaged) < 0.1 * lattice_peak(answer)
    clean = Answers(grid_grain=False).run(sketch)
    assert np.abs(averaged.astype(int) - clean.astype(int)).max() <= 1  # the ring is where it was, as dark


def test_a_pattern_of_the_drawing_itself_is_kept() -> None:
    model, sketch = Answers(grid_grain=False), drawing(stripes=True)
    answer, averaged = model.run(sketch), lattice_grid.shift_average(model, sketch)
    assert lattice_peak(answer) > 50
    assert np.array_equal(averaged, answer)  # an answer that moves with its sketch averages to itself


def test_examine_reports_the_worst_answers_first() -> None:
    items = [(f"d{k}", drawing(stripes=k == 2), np.full((N, N, 3), 255, np.uint8)) for k in range(4)]
    report = lattice_grid.examine(Answers(grid_grain=False), items, lambda img: img, top=2)
    assert report["worst"][0]["id"] == "d2" and len(report["worst"]) == 2
    assert report["summary"]["worst_kept_by_the_average"] >= 1
    assert report["summary"]["worst_halved_by_the_average"] == 0
