"""Property-based tests of the session-file parser: every line is a valid event or the file is one UserError."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.core.errors import UserError
from installation.core.session import MAX_CANVAS, MAX_T, REACH, PenEvent, Session, read_session, write_session

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = {"format": "studio-session", "version": 1, "canvas": 512}

HOSTILE_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([1e300, -1e300, 10**400, 2**63, -0.0, 5e-324]),
)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | HOSTILE_NUMBERS | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
EVENT_LIKE = st.fixed_dictionaries(
    {"e": st.sampled_from(["down", "move", "up", "clear", "hover"]) | ANY_JSON},
    optional={"t": HOSTILE_NUMBERS | ANY_JSON, "x": HOSTILE_NUMBERS, "y": HOSTILE_NUMBERS, "p": HOSTILE_NUMBERS},
)


def _file(tmp: pytest.TempPathFactory, lines: list[str]) -> Path:
    path = tmp.mktemp("session") / "s.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _valid(session: Session) -> None:
    """What a reader may hand to the show: finite numbers in range, time never going back."""
    assert 0 < session.canvas <= MAX_CANVAS
    last = 0.0
    for ev in session.events:
        assert math.isfinite(ev.t) and last <= ev.t <= MAX_T
        last = ev.t
        assert abs(ev.x) <= REACH * session.canvas and abs(ev.y) <= REACH * session.canvas
        assert 0 <= ev.pressure <= 1


@SETTINGS
@given(events=st.lists(EVENT_LIKE, max_size=6))
def test_any_event_lines_give_a_valid_session_or_one_user_error(
    tmp_path_factory: pytest.TempPathFactory, events: list[dict]
) -> None:
    path = _file(tmp_path_factory, [json.dumps(HEADER), *(json.dumps(e) for e in events)])  # NaN → NaN, inf → Infinity
    try:
        session = read_session(path)
    except UserError as e:
        assert "\n" not in str(e) and str(path) in str(e)
        return
    _valid(session)


@SETTINGS
@given(text=st.text(max_size=200))
def test_any_text_gives_a_valid_session_or_one_user_error(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = _file(tmp_path_factory, [json.dumps(HEADER), *text.splitlines()])
    try:
        _valid(read_session(path))
    except UserError as e:
        assert "\n" not in str(e)


@SETTINGS
@given(canvas=HOSTILE_NUMBERS | ANY_JSON)
def test_any_canvas_header_gives_a_valid_session_or_one_user_error(
    tmp_path_factory: pytest.TempPathFactory, canvas: object
) -> None:
    path = _file(tmp_path_factory, [json.dumps({**HEADER, "canvas": canvas}), '{"e": "up", "t": 1}'])
    try:
        _valid(read_session(path))
    except UserError as e:
        assert "canvas" in str(e)


coord = st.floats(-1024.0, 2048.0, allow_nan=False).map(lambda v: round(v, 2))
pen = st.builds(
    lambda kind, x, y, p: (kind, x, y, p),
    st.sampled_from(["down", "move", "up", "clear"]),
    coord,
    coord,
    st.floats(0, 1).map(lambda v: round(v, 3)),
)


@SETTINGS
@given(items=st.lists(pen, max_size=30), steps=st.lists(st.floats(0, 5).map(lambda v: round(v, 3)), max_size=30))
def test_written_sessions_read_back_equal(
    tmp_path_factory: pytest.TempPathFactory, items: list[tuple[str, float, float, float]], steps: list[float]
) -> None:
    t, events = 0.0, []
    for (kind, x, y, p), dt in zip(items, steps + [0.0] * len(items), strict=False):
        t = round(t + dt, 4)
        events.append(PenEvent(kind, t, x, y, p) if kind in ("down", "move") else PenEvent(kind, t))
    path = tmp_path_factory.mktemp("rt") / "s.jsonl"
    write_session(path, Session(512, tuple(events), "test", "now"))
    assert read_session(path).events == tuple(events)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('{"e": "move", "t": 1, "x": NaN, "y": 2, "p": 0.5}', "not finite or far off"),
        ('{"e": "move", "t": 1, "x": 1e300, "y": 2, "p": 0.5}', "not finite or far off"),
        ('{"e": "move", "t": 1, "x": 1e400, "y": 2, "p": 0.5}', "not finite or far off"),  # 1e400 reads as inf
        ('{"e": "move", "t": 1, "x": 1, "y": -Infinity, "p": 0.5}', "not finite or far off"),
        ('{"e": "move", "t": 1, "x": 1, "y": 2, "p": NaN}', "pressure"),
        ('{"e": "up", "t": NaN}', "time nan"),
        ('{"e": "up", "t": Infinity}', "time inf"),
        ('{"e": "up", "t": 1e300}', "time"),
        ('{"e": "move", "t": 1, "x": ' + "7" * 5000 + ', "y": 2}', "too deep or too long"),
        ("[" * 100_000 + "]" * 100_000, "too deep or too long"),
        ('{"e": "move", "t": 1, "x": true, "y": 2}', "numeric x, y"),
    ],
)
def test_absurd_numbers_are_one_line_naming_the_line(tmp_path: Path, line: str, words: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(HEADER) + "\n" + line + "\n")
    with pytest.raises(UserError, match=words) as err:
        read_session(path)
    assert "line 2" in str(err.value) and len(str(err.value)) < 400


def test_invalid_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(json.dumps(HEADER).encode() + b'\n{"e": "up", "t": 1, "s": "\xff\xfe"}\n')
    with pytest.raises(UserError, match="cannot be read"):
        read_session(path)


def test_a_huge_canvas_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({**HEADER, "canvas": 10**12}) + "\n")
    with pytest.raises(UserError, match="canvas"):
        read_session(path)
