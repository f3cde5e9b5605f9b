import json
from pathlib import Path

import pytest

from installation.core.errors import UserError
from installation.core.session import (
    PenEvent,
    Player,
    Session,
    SessionWriter,
    apply_event,
    read_session,
    write_session,
)
from installation.core.strokes import Canvas

EVENTS = (
    PenEvent("down", 0.0, 10, 20, 0.5),
    PenEvent("move", 0.1, 30, 40, 0.6),
    PenEvent("up", 0.2),
    PenEvent("down", 1.0, 50, 60, 0.7),
    PenEvent("move", 1.5, 70, 80, 0.8),
    PenEvent("up", 2.0),
    PenEvent("clear", 3.0),
)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_session(path, Session(512, EVENTS, "test", "now"))
    back = read_session(path)
    assert back.canvas == 512 and back.events == EVENTS and back.source == "test"
    assert back.duration == 3.0


def test_writer_flushes_each_event(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    w = SessionWriter(path, 1024, "recorded", "now")
    w.write(EVENTS[0])
    w.write(EVENTS[1])
    # readable before close: a crash loses at most the event being written
    assert read_session(path).events == EVENTS[:2]
    w.close()


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("", "empty"),
        ('{"format": "other", "version": 1, "canvas": 512}\n', "not a session file"),
        ('{"format": "studio-session", "version": 99, "canvas": 512}\n', "version 99"),
        ('{"format": "studio-session", "version": 1, "canvas": 512}\n{nope\n', "line 2 is not JSON"),
        (
            '{"format": "studio-session", "version": 1, "canvas": 512}\n{"e": "move", "t": 1}\n',
            "numeric x, y",
        ),
        (
            '{"format": "studio-session", "version": 1, "canvas": 512}\n{"e": "up", "t": 2}\n{"e": "up", "t": 1}\n',
            "backwards",
        ),
    ],
)
def test_bad_files_raise_one_clear_error(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(UserError, match=fragment):
        read_session(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        read_session(tmp_path / "nope.jsonl")


def test_player_releases_events_on_time_and_speed() -> None:
    s = Session(512, EVENTS)
    p = Player(s, speed=2.0)
    assert [e.kind for e in p.due(0.0)] == ["down"]
    assert [e.kind for e in p.due(0.1)] == ["move", "up"]  # t <= 0.2 at 2x
    assert p.due(0.1) == []  # each event once
    assert len(p.due(10)) == 4 and p.finished
    with pytest.raises(UserError):
        Player(s, speed=0)


def test_apply_events_builds_strokes() -> None:
    c = Canvas(512, 64)
    for ev in EVENTS[:6]:
        apply_event(c, ev, 5.0)
    assert len(c.strokes) == 2
    assert c.strokes[1].points[-1].pressure == 0.8
    apply_event(c, EVENTS[6], 6.0)
    assert c.strokes == []


def test_event_json_is_compact() -> None:
    assert PenEvent("up", 1.23456).to_json() == {"e": "up", "t": 1.2346}
    assert set(json.loads(json.dumps(EVENTS[0].to_json()))) == {"e", "t", "x", "y", "p"}
