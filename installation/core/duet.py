"""Duet mode's turn-taking as a pure state machine: pen events, cues and worker results in, actions out.

    artist ──(pen rests pause_s after a stroke, or a cue)──▶ thinking ──(strokes ready)──▶ drawing
      ▲                                                         │                              │
      └──────── nothing to add / skip / the artist's pen / failure ┘◀── every stroke acknowledged ┘

While the artist draws the machine waits; each pen-up may start a `draft` of the AI's answer (dropped when the
pen goes down again), so that the answer is ready when the turn comes. Once the pen has rested `pause_s`
seconds after at least one new stroke (or on a cue: OSC `/duet/turn`, key T) the AI takes its turn: `think`
asks the strokes worker for at most `strokes_per_turn` strokes (or takes the draft); `stream` sends them to the
robot; the turn ends when the robot has acknowledged every one (`turn_done`), then it is the artist's turn
again. A skip (`/duet/skip`, key K) or the artist's pen going down while the AI is still thinking hands the
turn back at once (`cancel`); during drawing the pen on the tablet is recorded and the robot finishes its
strokes. Times are the caller's clock (seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ARTIST, THINKING, DRAWING = "artist", "thinking", "drawing"
STATES = (ARTIST, THINKING, DRAWING)
MAX_STROKES_PER_TURN = 64


@dataclass(frozen=True)
class Action:
    kind: str  # "draft", "drop_draft", "think", "stream", "cancel", "turn_done"
    turn: int
    detail: str = ""


@dataclass
class Turn:
    """One AI turn, from the moment it was given to the robot's last acknowledgement (or its end)."""

    number: int
    reason: str  # "pause" or "cue"
    given_t: float  # the AI took the turn (pause detected, or the cue)
    rest_t: float | None  # the artist's last pen-up before it (None: no stroke yet)
    strokes_asked: int
    thought_t: float | None = None
    planned: int = 0
    first_ack_t: float | None = None
    drawn: int = 0
    ended_t: float | None = None
    outcome: str = ""  # "done", "nothing to add", "skipped", "interrupted", "failed: ...", "cleared"

    @property
    def latency_s(self) -> float | None:
        """Pause detected (or cue) → the robot's first acknowledged AI stroke."""
        return None if self.first_ack_t is None else self.first_ack_t - self.given_t


@dataclass
class DuetMachine:
    pause_s: float = 2.0
    strokes_per_turn: int = 6
    state: str = ARTIST
    since: float = 0.0
    pen_down: bool = False
    last_pen_t: float | None = None  # newest artist pen event
    last_up_t: float | None = None  # newest artist pen-up
    new_strokes: int = 0  # artist strokes finished since the AI's last turn
    turns: list[Turn] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_pause(self.pause_s)
        check_strokes(self.strokes_per_turn)

    @property
    def turn(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    @property
    def number(self) -> int:
        return len(self.turns)

    # -- the artist ---------------------------------------------------------------------------------------
    def pen(self, now: float, kind: str) -> list[Action]:
        """An artist's pen event: down, move, up or clear."""
        self.last_pen_t = now
        if kind == "clear":
            self.new_strokes, self.pen_down = 0, False
            return self._end(now, "cleared", cancel=True) if self.state != ARTIST else []
        if kind == "up":
            was_down, self.pen_down = self.pen_down, False
            if not was_down:
                return []
            self.new_strokes += 1
            self.last_up_t = now
            # the AI may start on its answer now: if the pen rests for the pause, the turn is its own
            return [Action("draft", self.number + 1)] if self.state == ARTIST else []
        if kind != "down":  # a move: the stroke goes on (a hover without contact draws nothing)
            return []
        was_down, self.pen_down = self.pen_down, True
        if self.state == THINKING and not was_down:  # the artist took the turn back before the AI drew
            return self._end(now, "interrupted", cancel=True)
        if self.state == ARTIST and not was_down:
            return [Action("drop_draft", self.number + 1)]  # the artist goes on: a draft answer is out of date
        return []

    def tick(self, now: float) -> list[Action]:
        """Called every frame: the pause that gives the AI its turn."""
        if self.state != ARTIST or self.pen_down or self.new_strokes == 0 or self.last_up_t is None:
            return []
        if now - self.last_up_t >= self.pause_s:
            return self._give(now, "pause")
        return []

    # -- cues (OSC, keys) ---------------------------------------------------------------------------------
    def cue(self, now: float) -> tuple[list[Action], str]:
        """Give the AI its turn now; (actions, why not)."""
        if self.state != ARTIST:
            return [], f"the AI is already {self.state}"
        if self.pen_down:
            return [], "the artist's pen is down: lift it first"
        return self._give(now, "cue"), ""

    def skip(self, now: float) -> tuple[list[Action], str]:
        """End the AI's turn now (its strokes in flight are cancelled); (actions, why not)."""
        if self.state == ARTIST:
            return [], "it is already the artist's turn"
        return self._end(now, "skipped", cancel=True), ""

    def set_strokes(self, n: int) -> None:
        check_strokes(n)
        self.strokes_per_turn = n

    def set_pause(self, seconds: float) -> None:
        check_pause(seconds)
        self.pause_s = seconds

    # -- the AI's workers ---------------------------------------------------------------------------------
    def thought(self, now: float, turn: int, strokes: int) -> list[Action]:
        """The strokes worker answered turn `turn` with `strokes` strokes (a stale answer is ignored)."""
        t = self.turn
        if self.state != THINKING or t is None or t.number != turn:
            return []
        t.thought_t, t.planned = now, strokes
        if strokes == 0:
            return self._end(now, "nothing to add")
        self._enter(DRAWING, now)
        return [Action("stream", turn)]

    def progress(self, now: float, drawn: int) -> list[Action]:
        """The robot has acknowledged `drawn` of this turn's strokes."""
        t = self.turn
        if self.state != DRAWING or t is None or drawn <= t.drawn:
            return []
        if t.first_ack_t is None:
            t.first_ack_t = now
        t.drawn = min(drawn, t.planned)
        if t.drawn >= t.planned:
            return self._end(now, "done")
        return []

    def failed(self, now: float, reason: str) -> list[Action]:
        if self.state == ARTIST:
            return []
        return self._end(now, f"failed: {reason}", cancel=True)

    # -- what the rig sees --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, object]:
        """/state/duet/... keys (without the /state/ prefix)."""
        t = self.turn
        lat = t.latency_s if t is not None else None
        return {
            "duet/state": self.state,
            "duet/turn": self.number,
            "duet/strokes_per_turn": self.strokes_per_turn,
            "duet/pause_s": self.pause_s,
            "duet/ai_planned": t.planned if t is not None else 0,
            "duet/ai_drawn": t.drawn if t is not None else 0,
            "duet/latency_s": round(lat, 3) if lat is not None else -1.0,
        }

    def guidance(self) -> str:
        if self.state == THINKING:
            return "The machine is thinking about its answer"
        if self.state == DRAWING:
            return "The machine is drawing"
        if self.number == 0 and self.new_strokes == 0:
            return "Draw something; pause and the machine answers"
        return "Your turn"

    # -- internals ----------------------------------------------------------------------------------------
    def _give(self, now: float, reason: str) -> list[Action]:
        turn = Turn(len(self.turns) + 1, reason, now, self.last_up_t, self.strokes_per_turn)
        self.turns.append(turn)
        self.new_strokes = 0
        self._enter(THINKING, now)
        return [Action("think", turn.number, reason)]

    def _end(self, now: float, outcome: str, cancel: bool = False) -> list[Action]:
        t = self.turn
        assert t is not None
        t.ended_t, t.outcome = now, outcome
        self._enter(ARTIST, now)
        return [Action("cancel" if cancel else "turn_done", t.number, outcome)]

    def _enter(self, state: str, now: float) -> None:
        self.state, self.since = state, now


def check_strokes(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_STROKES_PER_TURN:
        raise ValueError(f"strokes per turn must be an integer 1..{MAX_STROKES_PER_TURN}, got {n!r}")


def check_pause(s: float) -> None:
    if not (isinstance(s, int | float) and math.isfinite(s) and 0.05 <= s <= 600):
        raise ValueError(f"the pause must be 0.05..600 seconds, got {s!r}")
