"""Issue 16: pixels that make images, strokes that resist scribbles, SVG paths cut at the page edge."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from installation.core.pagecut import cut_to_box
from models.clip.api import tiny_clip
from models.steer.cutouts import CutoutParams, cutouts
from models.steer.defaults import auto_threads
from models.steer.pixels import PixelsGenerator
from models.steer.restarts import best_of, clip_score
from models.steer.steerer import Steerer
from models.steer.strokes import (
    NO_REGULARISERS,
    StrokeRegularisers,
    StrokesGenerator,
    curvature_energy,
    overlap_energy,
    polyline_length,
)

FLAT_STD = 0.02  # as benchmarks/steer_bench.py: below this a steered image is a flat field
STRUCTURE_FLOOR = 0.05  # what a steered pixels image must reach here (measured 0.18–0.46 on the tune prompts)


def _on_edge(p: np.ndarray, side: float, eps: float = 1e-9) -> np.ndarray:
    return (np.abs(p) <= eps).any(-1) | (np.abs(p - side) <= eps).any(-1)


# -- page edge ----------------------------------------------------------------------------------------------------
def test_a_path_that_leaves_and_comes_back_is_cut_into_two_at_the_edge() -> None:
    path = np.array([[2.0, 5.0], [8.0, 5.0], [14.0, 5.0], [14.0, 8.0], [8.0, 8.0], [2.0, 8.0]])  # out past x = 10
    pieces = cut_to_box(path, (0, 0), (10, 10))
    assert len(pieces) == 2
    assert np.allclose(pieces[0], [[2, 5], [8, 5], [10, 5]]) and np.allclose(pieces[1], [[10, 8], [8, 8], [2, 8]])
    assert cut_to_box(np.array([[11.0, 1.0], [12.0, 9.0]]), (0, 0), (10, 10)) == []  # wholly outside
    inside = np.array([[1.0, 1.0], [9.0, 9.0]])
    assert len(cut_to_box(inside, (0, 0), (10, 10))) == 1 and np.allclose(
        cut_to_box(inside, (0, 0), (10, 10))[0], inside
    )
    through = cut_to_box(np.array([[-5.0, 5.0], [15.0, 5.0]]), (0, 0), (10, 10))  # in and out within one segment
    assert len(through) == 1 and np.allclose(through[0], [[0, 5], [10, 5]])


def test_random_curves_are_cut_never_clamped() -> None:
    rng = np.random.default_rng(0)
    side = 100.0
    for _ in range(300):
        path = np.cumsum(rng.normal(0, 25, (rng.integers(2, 30), 2)), 0) + 50
        pieces = cut_to_box(path, (0, 0), (side, side))
        for pc in pieces:
            assert pc.min() >= -1e-9 and pc.max() <= side + 1e-9
            edge = _on_edge(pc, side, 1e-7)
            assert not edge[1:-1].any(), pc  # only where the curve leaves (or truly ends) may it touch the edge
        # every original vertex inside the page survives, in order, in some piece
        inside = path[(path >= 0).all(1) & (path <= side).all(1)]
        kept = np.concatenate(pieces) if pieces else np.zeros((0, 2))
        for v in inside:
            assert np.isclose(kept, v).all(1).any()


def test_strokes_leaving_the_page_give_cut_paths_and_an_svg_without_margin_lines(tmp_path) -> None:  # noqa: ANN001
    from installation.core.svg_paths import read_svg_paths
    from models.steer.cli import write_paths_svg

    gen = StrokesGenerator(size=100, n_strokes=2, seed=0, reg=NO_REGULARISERS)
    with torch.no_grad():  # stroke 0 runs off the right edge and back; stroke 1 ends outside at the bottom
        gen.ctrl[0] = torch.tensor(
            [[0.5, 0.3], [1.04, 0.3], [1.05, 0.4], [1.04, 0.5], [1.05, 0.6], [1.04, 0.7], [0.5, 0.7]]
        )
        gen.ctrl[1] = torch.tensor(
            [[0.2, 0.5], [0.2, 0.7], [0.2, 0.9], [0.2, 1.0], [0.2, 1.03], [0.2, 1.04], [0.2, 1.05]]
        )
        gen.ink_logit[:2] = -6.0
    paths = gen.paths()
    assert all(p.min() >= 0 and p.max() <= 100 for p in paths)
    assert sum(_on_edge(p, 100.0, 1e-6)[1:-1].sum() for p in paths) == 0
    ends_on_edge = sum(int(_on_edge(p, 100.0, 1e-6)[[0, -1]].sum()) for p in paths)
    assert ends_on_edge == 3  # stroke 0: out and back in (2 ends), stroke 1: out at the bottom (1 end)
    svg = tmp_path / "s.svg"
    write_paths_svg(svg, paths, 100, "a4", "test")
    mm_paths, _ = read_svg_paths(svg)
    mm = 25.4 / 96
    for p in mm_paths:
        q = p * mm
        on_margin = (np.abs(q[:, 0] - 15) < 0.01) | (np.abs(q[:, 0] - 195) < 0.01)
        assert not (on_margin[1:] & on_margin[:-1]).any(), "a line drawn along the margin"


# -- pixels ---------------------------------------------------------------------------------------------------------
def test_a_flat_field_is_below_the_floor_and_a_spectrum_step_moves_the_pixels() -> None:
    with torch.no_grad():
        flat = PixelsGenerator(size=64, seed=0)()
    assert float(flat.std()) < FLAT_STD  # the unsteered start is flat: the floor can fail
    gen = PixelsGenerator(size=64, seed=0)
    opt = torch.optim.Adam(gen.param_groups())
    target = torch.zeros(3, 64, 64)
    target[:, :, :32] = 1.0  # half black, half white
    for _ in range(10):
        opt.zero_grad()
        (gen() - target).square().mean().backward()
        opt.step()
    assert float(gen().detach().std()) > 0.2  # ten steps draw the edge: the spectrum is not ~side× too weak any more
    assert all(not b.requires_grad for b in gen.buffers())  # the colour offset is fixed: it cannot flatten


@pytest.mark.slow
def test_steered_pixels_have_structure_with_the_embedded_clip() -> None:
    from models.clip.api import load_clip

    torch.set_num_threads(1)
    clip = load_clip()
    for seed, prompt in enumerate(("a drawing of a cat", "a drawing of a key")):  # tune prompts, not the bench's
        st = Steerer(clip, PixelsGenerator(size=64, seed=seed), prompt, CutoutParams(count=6), seed=seed)
        img = list(st.run(40, every=0))[-1].image.astype(np.float32) / 255.0
        assert img.std() > STRUCTURE_FLOOR, (prompt, img.std())
        assert img.reshape(-1, 3).std(0).min() > FLAT_STD  # not a flat colour in any channel


# -- strokes: regularisers and schedules ------------------------------------------------------------------------
def test_regularisers_prefer_smooth_long_separate_strokes() -> None:
    t = torch.linspace(0, 1, 13)
    line = torch.stack([0.2 + 0.6 * t, torch.full_like(t, 0.5)], -1)[None]  # (1, 13, 2)
    zigzag = line.clone()
    zigzag[0, :, 1] += 0.03 * (-1) ** torch.arange(13)
    assert float(curvature_energy(line)) < 1e-4 < float(curvature_energy(zigzag))
    assert float(polyline_length(line)) == pytest.approx(0.6, rel=1e-4)
    apart = torch.cat([line, line + torch.tensor([0.0, 0.3])])
    heap = torch.cat([line, line + torch.tensor([0.0, 0.002])])
    assert float(overlap_energy(heap, 0.01)) > 10 * float(overlap_energy(apart, 0.01))


def test_the_penalty_straightens_a_wiggle_and_spares_the_visitors_lines() -> None:
    wiggle = np.stack([np.linspace(0.2, 0.8, 7), 0.5 + 0.08 * (-1) ** np.arange(7)], 1)
    gen = StrokesGenerator(size=64, n_strokes=4, seed=0, reg=StrokeRegularisers(curvature=1.0, overlap=0.0))
    gen()
    before = float(curvature_energy(gen._pts[1:]).mean())  # type: ignore[index]
    opt = torch.optim.Adam([gen.ctrl], lr=0.01)
    for _ in range(30):
        opt.zero_grad()
        gen()
        gen.penalty().backward()
        opt.step()
    gen()
    assert float(curvature_energy(gen._pts[1:]).mean()) < 0.5 * before  # type: ignore[index]
    own = StrokesGenerator(size=64, n_strokes=3, init_paths=[wiggle], seed=0, reg=StrokeRegularisers(overlap=0.0))
    alone = StrokesGenerator(size=64, n_strokes=2, seed=1, reg=StrokeRegularisers(overlap=0.0))
    own.ctrl.data[1:] = alone.ctrl.data
    own()
    alone()
    assert float(own.penalty()) == pytest.approx(float(alone.penalty()), rel=1e-5)  # the given line costs nothing


def test_schedule_starts_with_half_the_strokes_and_wide_then_all_and_narrow() -> None:
    gen = StrokesGenerator(size=64, n_strokes=10, seed=0, init_paths=[np.array([[0.1, 0.1], [0.9, 0.9]])] * 7)
    gen.schedule(0.0)
    assert gen.active == 7 and gen.wide == pytest.approx(1.5)  # never fewer than the visitor's lines
    top0 = float(gen.widths_px().max())
    gen.schedule(0.6)
    assert gen.active == 10 and gen.wide == pytest.approx(1.0) and float(gen.widths_px().max()) < top0
    plain = StrokesGenerator(size=64, n_strokes=10, seed=0)
    plain.schedule(0.0)
    assert plain.active == 5 and plain().shape == (3, 64, 64)
    st = Steerer(tiny_clip(0), StrokesGenerator(size=32, n_strokes=8, seed=0), "a cat", CutoutParams(count=2))
    st.step()
    assert st.generator.active == 8  # an open-ended run (the live worker) has no schedule
    frames = list(st.run(3, every=1))
    assert st.planned == 4 and len(frames) == 3


# -- views, restarts, threads ---------------------------------------------------------------------------------------
def test_cutouts_mirror_about_half_the_views() -> None:
    img = torch.ones(3, 32, 32)
    img[:, :, :8] = 0.0  # ink on the left only
    prm = CutoutParams(count=40, scale=(1.0, 1.0), rotate_deg=0.0, perspective=0.0, noise=0.0, keep_whole=False)
    views = cutouts(img, 32, prm, torch.Generator().manual_seed(0))
    left = views[:, 0, :, :16].mean((1, 2)) < views[:, 0, :, 16:].mean((1, 2))
    assert 8 < int(left.sum()) < 32  # both orientations occur
    mirrored = views[~left][0]
    assert torch.allclose(mirrored, img.flip(-1), atol=1e-4)
    same = cutouts(img, 32, CutoutParams(**{**prm.__dict__, "flip": False}), torch.Generator().manual_seed(0))
    assert bool((same[:, 0, :, :16].mean((1, 2)) < same[:, 0, :, 16:].mean((1, 2))).all())


def test_best_of_keeps_the_candidate_the_steering_clip_scores_best() -> None:
    clip = tiny_clip(0)
    made: list[int] = []

    def make(seed: int) -> StrokesGenerator:
        made.append(seed)
        return StrokesGenerator(size=32, n_strokes=6, seed=seed)

    choice = best_of(clip, make, "a cat", steps=20, restarts=3, cut=CutoutParams(count=2), seed=5)
    assert made == [5, 1005, 2005] and choice.trial_steps == 3 and len(choice.scores) == 3
    assert choice.scores[choice.chosen] == min(choice.scores)
    assert choice.steerer.step_count == 3 and choice.steerer.planned == 20
    assert clip_score(choice.steerer) == pytest.approx(choice.scores[choice.chosen], abs=1e-6)  # same fixed views
    frames = list(choice.steerer.run(20 - choice.trial_steps, every=0))
    assert frames[-1].step == 20
    one = best_of(clip, make, "a cat", steps=20, restarts=1, cut=CutoutParams(count=2), seed=5)
    assert one.trial_steps == 0 and one.steerer.step_count == 0


def test_a_run_spent_in_the_trial_reports_the_trial_loss_not_nan() -> None:
    clip = tiny_clip(0)
    choice = best_of(clip, lambda s: StrokesGenerator(size=32, n_strokes=4, seed=s), "a cat", steps=1, restarts=3,
                     cut=CutoutParams(count=2))  # fmt: skip
    assert choice.trial_steps == 1
    (frame,) = list(choice.steerer.run(0, every=0))  # nothing left to run: the final frame only
    assert frame.step == 1 and math.isfinite(frame.loss) and frame.loss == choice.steerer.last_loss


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (4, 2), (16, 4)])
def test_threads_from_the_cores(cores: int, threads: int) -> None:
    assert auto_threads(cores) == threads
