"""Pure start-up and adaptive decisions of the display rate: int8 or fp32, inference threads, the quality ladder."""

from __future__ import annotations

import json

import pytest

from installation.core.adaptive import AdaptiveLadder, AdaptivePolicy
from installation.core.precision import choose, quality_within_goals
from installation.core.threads import MAX_THREADS, inference_threads


# -- int8 or fp32 ----------------------------------------------------------------------------------------------
def test_int8_only_where_it_wins_on_both() -> None:
    assert choose("auto", True, True, True, 20.0, 10.0).precision == "int8"
    assert choose("auto", True, True, False, 20.0, 10.0).precision == "fp32"  # faster, but quality outside goals
    assert choose("auto", True, True, None, 20.0, 10.0).precision == "fp32"  # quality never measured
    assert choose("auto", True, True, True, 20.0, 19.5).precision == "fp32"  # not faster enough
    assert choose("auto", True, True, True, 20.0, 25.0).precision == "fp32"  # slower
    assert choose("auto", True, False, True, 20.0, 10.0).precision == "fp32"  # a GPU: not for int8


def test_config_can_say_no_or_force() -> None:
    off = choose("off", True, True, True, 20.0, 5.0)
    assert off.precision == "fp32" and "off" in off.reason
    assert choose("on", True, True, False, 20.0, 40.0).precision == "int8"
    assert choose("on", False, True, True, None, None).precision == "fp32"  # nothing to force
    with pytest.raises(ValueError, match="model.int8"):
        choose("maybe", True, True, True, 1.0, 1.0)


def test_reason_names_the_timings() -> None:
    c = choose("auto", True, True, True, 21.0, 10.5)
    assert "2.00×" in c.reason and "10.5" in c.reason and "21.0" in c.reason


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (json.dumps({"within_goals": True}), True),
        (json.dumps({"within_goals": False}), False),
        (json.dumps({"within_goals": None}), None),
        ("{not json", None),
        (json.dumps([1, 2]), None),
        ("", None),
    ],
)
def test_quality_verdict_from_metadata(raw: str, want: bool | None) -> None:
    assert quality_within_goals({"int8_quality": raw} if raw else {}) is want


# -- threads ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("cores", "want"), [(1, 1), (2, 1), (3, 2), (4, 3), (16, MAX_THREADS)])
def test_threads_leave_a_core_to_the_display(cores: int, want: int) -> None:
    assert inference_threads(0, cores).threads == want


def test_configured_threads_win() -> None:
    c = inference_threads(2, 2)
    assert c.threads == 2 and "model.threads" in c.reason


# -- adaptive ladder -------------------------------------------------------------------------------------------
POLICY = AdaptivePolicy(target_hz=20.0, window=4, down_after=2, up_after=3, room=0.7)  # budget 50 ms


def feed(ladder: AdaptiveLadder, ms: float, windows: int) -> list[str]:
    steps = []
    for _ in range(windows * ladder.policy.window):
        s = ladder.observe(ms)
        if s is not None:
            steps.append(s.direction)
    return steps


def test_steps_down_when_the_rate_cannot_be_kept_and_back_with_room() -> None:
    ladder = AdaptiveLadder([40.0, 20.0], POLICY)
    assert feed(ladder, 45.0, 5) == []  # under budget: stays
    assert feed(ladder, 60.0, 1) == []  # one slow window is not enough
    assert feed(ladder, 60.0, 1) == ["down"] and ladder.level == 1
    # at level 1 answers take 30 ms = 1.5× its start cost: level 0 would take 60 ms: no room, stays down
    assert feed(ladder, 30.0, 10) == [] and ladder.level == 1
    # the load goes: 12 ms = 0.6×, level 0 would take 24 ms ≤ 35 ms: back up after 3 windows
    assert feed(ladder, 12.0, 2) == []
    assert feed(ladder, 12.0, 1) == ["up"] and ladder.level == 0


def test_no_flapping_near_the_threshold() -> None:
    """A load that keeps the best level around its budget (×1.15..1.35 of its 40 ms start cost: 46–54 ms) steps
    down at most once and never back: a plain threshold at the budget would switch back and forth."""
    import random

    rng = random.Random(3)
    costs = [40.0, 20.0]
    ladder = AdaptiveLadder(costs, POLICY)
    changes = []
    for _ in range(100):  # windows
        load = rng.uniform(1.15, 1.35)
        for _ in range(POLICY.window):
            s = ladder.observe(costs[ladder.level] * load)
            if s is not None:
                changes.append(s.direction)
    assert changes == ["down"]


def test_stuck_at_the_cheapest_is_said_once() -> None:
    ladder = AdaptiveLadder([40.0], POLICY)
    assert feed(ladder, 80.0, 10) == ["stuck"]
    assert feed(ladder, 30.0, 1) == []  # room again resets it
    assert feed(ladder, 80.0, 4) == ["stuck"]


def test_step_describes_itself_for_the_log() -> None:
    ladder = AdaptiveLadder([40.0, 20.0], POLICY)
    step = [s for _ in range(8) if (s := ladder.observe(70.0)) is not None][0]
    text = step.describe(["fp32", "int8"])
    assert "70 ms" in text and "int8" in text and "20 AI updates/s" in text


def test_bad_ladders_are_refused() -> None:
    with pytest.raises(ValueError):
        AdaptiveLadder([])
    with pytest.raises(ValueError):
        AdaptiveLadder([10.0, 0.0])
    with pytest.raises(ValueError):
        AdaptiveLadder([10.0], level=1)
