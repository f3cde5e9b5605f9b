"""Duet mode's turn-taking machine and the turn-aware replayed artist (pure: no threads, no devices)."""

import pytest

from installation.core.duet import ARTIST, DRAWING, THINKING, DuetMachine
from installation.core.duet_replay import ArtistReplay, retime
from installation.core.session import PenEvent, Session


def stroke(m: DuetMachine, t: float) -> None:
    m.pen(t, "down")
    m.pen(t + 0.1, "move")
    m.pen(t + 0.2, "up")


def kinds(actions) -> list[str]:  # noqa: ANN001
    return [a.kind for a in actions]


def test_the_pause_after_a_stroke_gives_the_ai_its_turn_and_the_robot_hands_it_back() -> None:
    m = DuetMachine(pause_s=2.0, strokes_per_turn=3)
    assert m.tick(10.0) == []  # nothing drawn yet: no turn, however long the wait
    stroke(m, 10.0)
    assert m.tick(12.1) == [] and m.state == ARTIST  # 1.9 s after the pen-up
    (think,) = m.tick(12.25)
    assert think.kind == "think" and think.turn == 1 and m.state == THINKING
    assert m.turn is not None and m.turn.reason == "pause" and m.turn.rest_t == pytest.approx(10.2)
    assert kinds(m.thought(13.0, 1, 3)) == ["stream"] and m.state == DRAWING
    assert m.progress(13.5, 1) == [] and m.turn.first_ack_t == 13.5
    assert m.turn.latency_s == pytest.approx(13.5 - 12.25)
    assert kinds(m.progress(14.0, 3)) == ["turn_done"] and m.state == ARTIST
    assert m.turn.outcome == "done" and m.turn.drawn == 3
    assert m.tick(30.0) == []  # no new stroke since: the AI does not take another turn


def test_cues_skip_and_the_artist_taking_the_turn_back() -> None:
    m = DuetMachine(pause_s=5.0)
    m.pen(1.0, "down")
    actions, why = m.cue(1.5)
    assert actions == [] and "pen is down" in why
    m.pen(2.0, "up")
    actions, why = m.cue(2.1)
    assert kinds(actions) == ["think"] and why == "" and m.turn is not None and m.turn.reason == "cue"
    assert m.cue(2.2)[1].startswith("the AI is already thinking")
    assert kinds(m.pen(2.5, "down")) == ["cancel"] and m.state == ARTIST  # the artist took the turn back
    assert m.turns[0].outcome == "interrupted"
    assert m.thought(3.0, 1, 4) == []  # the answer to the interrupted turn comes late: ignored
    m.pen(3.0, "up")
    m.cue(3.1)
    m.thought(3.5, 2, 4)
    assert m.state == DRAWING
    actions, _ = m.skip(3.6)
    assert kinds(actions) == ["cancel"] and m.state == ARTIST and m.turns[1].outcome == "skipped"
    assert m.skip(3.7)[1] == "it is already the artist's turn"


def test_nothing_to_add_failure_and_a_clear_end_the_turn() -> None:
    m = DuetMachine(pause_s=1.0)
    stroke(m, 0.0)
    m.tick(1.3)
    assert kinds(m.thought(1.5, 1, 0)) == ["turn_done"] and m.turns[0].outcome == "nothing to add"
    stroke(m, 2.0)
    m.tick(3.3)
    assert kinds(m.failed(3.4, "the worker died")) == ["cancel"] and m.turns[1].outcome.startswith("failed")
    stroke(m, 4.0)
    m.tick(5.3)
    m.thought(5.4, 3, 2)
    assert kinds(m.pen(5.5, "clear")) == ["cancel"] and m.turns[2].outcome == "cleared"
    assert m.new_strokes == 0


def test_the_pen_on_the_tablet_while_the_robot_draws_does_not_stop_the_robot() -> None:
    m = DuetMachine(pause_s=1.0)
    stroke(m, 0.0)
    m.tick(1.3)
    m.thought(1.4, 1, 2)
    assert m.pen(1.5, "down") == [] and m.state == DRAWING
    m.pen(1.6, "up")
    m.progress(2.0, 2)
    assert m.state == ARTIST and m.new_strokes == 1  # the stroke drawn meanwhile counts for the next turn


def test_settings_are_checked_and_reported() -> None:
    m = DuetMachine()
    m.set_strokes(12)
    m.set_pause(0.5)
    for bad in (0, 65, 2.5, True):
        with pytest.raises(ValueError, match="strokes per turn"):
            m.set_strokes(bad)  # type: ignore[arg-type]
    for bad_s in (0.0, float("nan"), 1e9):
        with pytest.raises(ValueError, match="pause"):
            m.set_pause(bad_s)
    s = m.state_dict()
    assert s["duet/strokes_per_turn"] == 12 and s["duet/pause_s"] == 0.5 and s["duet/state"] == "artist"
    assert s["duet/latency_s"] == -1.0 and s["duet/turn"] == 0


def session(strokes: int, gap: float) -> Session:
    ev = []
    t = 0.0
    for i in range(strokes):
        ev += [PenEvent("down", t, 10.0 * i, 0.0), PenEvent("move", t + 0.1, 10.0 * i, 5.0), PenEvent("up", t + 0.2)]
        t += 0.2 + gap
    ev.append(PenEvent("clear", t))
    return Session(100, tuple(ev))


def test_retime_shortens_only_the_pauses_between_strokes() -> None:
    ev = retime(list(session(3, 4.0).events[:-1]), 0.5)
    downs = [e.t for e in ev if e.kind == "down"]
    assert downs == pytest.approx([0.0, 0.7, 1.4])
    assert [round(b.t - a.t, 6) for a, b in zip(ev, ev[1:], strict=False) if a.kind == "down"] == [0.1] * 3


def test_replayed_artist_draws_a_few_strokes_then_waits_for_the_ai() -> None:
    r = ArtistReplay(session(5, 0.3), speed=1.0, strokes_per_turn=2, max_gap_s=0.3)
    got: list[PenEvent] = []
    t = 0.0
    while t < 5.0:
        got += r.due(t, artist_turn=True, turns=0)
        t += 0.05
    assert sum(e.kind == "up" for e in got) == 2  # holds after its two strokes, however long the AI waits
    assert r.due(5.1, artist_turn=False, turns=1) == []  # the AI's turn: still holding
    r.due(5.2, artist_turn=True, turns=1)  # the turn came back
    more: list[PenEvent] = []
    t = 5.25
    while t < 9.0:
        more += r.due(t, artist_turn=True, turns=1)
        t += 0.05
    assert sum(e.kind == "up" for e in more) == 2
    assert all(e.kind != "clear" for e in got + more)  # a duet never wipes the sheet


def test_each_pen_up_may_start_a_draft_that_the_next_pen_down_drops() -> None:
    m = DuetMachine(pause_s=2.0)
    assert kinds(m.pen(0.0, "down")) == ["drop_draft"] and m.pen(0.1, "move") == []
    (draft,) = m.pen(0.2, "up")
    assert draft.kind == "draft" and draft.turn == 1
    (drop,) = m.pen(0.5, "down")
    assert drop.kind == "drop_draft" and drop.turn == 1
    assert kinds(m.pen(0.6, "up")) == ["draft"]
    m.tick(2.7)
    assert m.state == THINKING
    m.thought(2.8, 1, 2)
    assert m.pen(2.9, "down") == [] and m.pen(3.0, "up") == []  # the robot's turn: no draft meanwhile
