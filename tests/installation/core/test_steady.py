"""Far-field steadiness (core/steady): near the changed ink the answer is taken at once, elsewhere it glides."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from installation.core import steady

S = steady.Steadiness(settle_s=1.0, near_px=24.0, feather_px=16.0, hold_s=0.0)


def _sketch(side: int = 256, strokes: tuple[tuple[int, int], ...] = ()) -> np.ndarray:
    img = np.full((side, side), 255, np.uint8)
    for y, x in strokes:
        img[y : y + 3, x : x + 20] = 0
    return img


def test_changed_ink_sees_ink_added_and_taken_away_and_everything_without_a_before() -> None:
    a = _sketch(strokes=((50, 50),))
    b = _sketch(strokes=((200, 180),))
    changed = steady.changed_ink(a, b)
    assert changed[51, 55] and changed[201, 185]  # erased there, added here
    assert not changed[128, 128]
    assert steady.changed_ink(None, b).all()
    assert steady.changed_ink(_sketch(128), b).all()  # another size: nothing to compare with
    assert steady.changed_ink(a, _sketch()).all()  # a cleared page: everything changed, shown at once


def test_near_weight_is_one_near_the_change_zero_beyond_the_feather_and_scales_with_the_side() -> None:
    for side in (256, 512):
        k = side // 256
        changed = np.zeros((side, side), bool)
        changed[100 * k, 100 * k] = True
        w = steady.near_weight(changed, S)
        assert w[100 * k, 100 * k] == 1.0
        assert w[100 * k, (100 + 20) * k] == 1.0  # inside near_px (24 at 256²)
        assert 0.0 < w[100 * k, (100 + 32) * k] < 1.0  # in the feather
        assert w[100 * k, (100 + 45) * k] == 0.0  # beyond near + feather
    assert not steady.near_weight(np.zeros((64, 64), bool), S).any()


def test_far_alpha_follows_the_time_constant_and_is_one_when_off() -> None:
    assert steady.far_alpha(0.0, S) == 0.0
    assert math.isclose(steady.far_alpha(1.0, S), 1 - math.exp(-1))
    assert steady.far_alpha(-3.0, S) == 0.0  # a clock step backwards moves nothing
    assert steady.far_alpha(0.01, steady.OFF) == 1.0


def test_a_new_answer_is_taken_near_the_stroke_and_held_far_from_it() -> None:
    shown = np.full((256, 256, 3), 100, np.float32)
    answer = np.full((256, 256, 3), 200, np.uint8)
    changed = np.zeros((256, 256), bool)
    changed[30:33, 30:60] = True
    out = steady.arrive(shown, answer, steady.near_weight(changed, S))
    assert np.all(out[31, 40] == 200)  # on the stroke
    assert np.all(out[200, 200] == 100)  # far away: not yet
    later = steady.glide(out, answer, 1.0, S)
    assert math.isclose(float(later[200, 200, 0]), 100 + 100 * (1 - math.exp(-1)), rel_tol=1e-5)


def test_a_resting_canvas_settles_onto_the_answer() -> None:
    shown = np.zeros((32, 32, 3), np.float32)
    answer = np.full((32, 32, 3), 255, np.uint8)
    steps = 0
    while not steady.settled(shown, answer):
        shown = steady.glide(shown, answer, 0.05, S)
        steps += 1
        assert steps < 200
    assert 100 < steps < 130  # ln(255) ≈ 5.5 time constants of 1 s at 20 steps a second
    assert np.abs(steady.to_uint8(shown).astype(int) - 255).max() <= 1


def test_no_shown_image_or_a_new_size_shows_the_answer_itself() -> None:
    answer = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    w = np.zeros((64, 64), np.float32)
    assert np.array_equal(steady.arrive(None, answer, w), answer.astype(np.float32))
    assert np.array_equal(steady.arrive(np.zeros((32, 32, 3), np.float32), answer, w), answer.astype(np.float32))


@settings(max_examples=40, deadline=None)
@given(
    jump=st.integers(1, 255),
    rate=st.floats(5.0, 120.0),
    settle=st.floats(0.1, 5.0),
)
def test_a_one_answer_excursion_far_from_the_pen_is_damped(jump: int, rate: float, settle: float) -> None:
    """Answers A, B, A at `rate` per second far from any change: the far field moves by at most alpha·|B−A|."""
    s = steady.Steadiness(settle, 24.0, 16.0, 0.0)
    a = np.zeros((16, 16, 3), np.uint8)
    b = np.full((16, 16, 3), jump, np.uint8)
    none = np.zeros((16, 16), np.float32)
    dt = 1.0 / rate
    shown = steady.arrive(None, a, none)
    shown = steady.arrive(steady.glide(shown, a, dt, s), b, none)
    shown = steady.arrive(steady.glide(shown, b, dt, s), a, none)  # the excursion's one interval of gliding
    excursion = float(shown.max())
    assert excursion <= steady.far_alpha(dt, s) * jump + 1e-3
    assert excursion < jump  # never the whole jump


def test_only_a_page_without_ink_is_blank() -> None:
    assert steady.is_blank(_sketch())
    assert not steady.is_blank(_sketch(strokes=((10, 10),)))


@settings(max_examples=60, deadline=None)
@given(
    t0=st.floats(0.0, 100.0),
    span=st.floats(0.0, 10.0),
    since=st.floats(-10.0, 10.0),
    hold=st.floats(0.0, 5.0),
)
def test_the_far_field_glides_only_in_the_part_of_an_interval_after_the_hold(
    t0: float, span: float, since: float, hold: float
) -> None:
    """rested_s: never more than the interval, nothing before changed_t + hold_s, all of it well after."""
    s = steady.Steadiness(1.0, 24.0, 16.0, hold)
    changed = t0 - since
    r = steady.rested_s(t0, t0 + span, changed, s)
    assert 0.0 <= r <= span + 1e-9
    if t0 + span <= changed + hold:
        assert r == 0.0  # still holding
    if t0 >= changed + hold:
        assert math.isclose(r, span, abs_tol=1e-9)  # the whole interval is rest


def test_from_display_reads_the_hold() -> None:
    from installation.core.config import DisplayConfig

    s = steady.from_display(DisplayConfig(steady_hold_s=0.7))
    assert s.hold_s == 0.7 and s.settle_s == DisplayConfig().steady_s
