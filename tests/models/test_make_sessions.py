from pathlib import Path

import numpy as np

from installation.core.session import read_session
from installation.runtime.show import default_sessions
from models.data.make_sessions import make_session, strokes_to_events

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "svg"


def _check(events) -> None:  # noqa: ANN001
    ts = [e.t for e in events]
    assert ts == sorted(ts)
    drawn = [e for e in events if e.kind in ("down", "move")]
    assert drawn and all(0 < e.pressure <= 1 for e in drawn)
    # pen speed between consecutive points of a stroke stays in a human range
    speeds = []
    for a, b in zip(events, events[1:], strict=False):
        if b.kind == "move" and b.t > a.t:
            speeds.append(np.hypot(b.x - a.x, b.y - a.y) / (b.t - a.t))
    assert np.median(speeds) < 1500 and max(speeds) < 5000


def test_timing_is_human_like_and_deterministic() -> None:
    lines = [np.array([[100, 100], [400, 120], [600, 500]], np.float32), np.array([[50, 900], [60, 700]], np.float32)]
    a = strokes_to_events(lines, np.random.default_rng(0))
    b = strokes_to_events(lines, np.random.default_rng(0))
    assert a == b
    _check(a)
    assert [e.kind for e in a].count("down") == 2


def test_session_from_a_fixture_svg() -> None:
    s = make_session(FIX / "people" / "buddy01.svg", FIX, seed=1)
    assert s.canvas == 1024 and 3 < s.duration < 120
    _check(list(s.events))


def test_shipped_sessions_are_valid() -> None:
    paths = default_sessions()
    assert len(paths) >= 3
    for p in paths:
        s = read_session(p)
        assert 15 < s.duration < 120
        _check(list(s.events))
