"""The artist's part of a duet from a recorded session, for a machine without a tablet (tests, the demo).

The session is played in its own timing, a few strokes at a time: after `strokes_per_turn` strokes the player
lifts the pen and waits, so the pause gives the AI its turn; once the AI has had its turn and handed it back the
player goes on with the next strokes. The recorded pauses between strokes are shortened to `max_gap_s` (below the
duet's pause), so turns come where the player decides, not where the recording hesitated. A recorded clear is
left out: a duet never wipes the sheet. A stroke in progress is finished even if a cue ends the artist's turn.
"""

from __future__ import annotations

from installation.core.session import PenEvent, Session


def retime(events: list[PenEvent], max_gap_s: float) -> list[PenEvent]:
    """The events with every pause between strokes (an up → the next down) shortened to at most `max_gap_s`."""
    out: list[PenEvent] = []
    shift = 0.0
    prev: PenEvent | None = None
    for e in events:
        if prev is not None and prev.kind == "up" and e.kind == "down":
            shift += max(0.0, (e.t - prev.t) - max_gap_s)
        out.append(PenEvent(e.kind, e.t - shift, e.x, e.y, e.pressure))
        prev = e
    return out


class ArtistReplay:
    def __init__(self, session: Session, speed: float = 1.0, strokes_per_turn: int = 3, max_gap_s: float = 0.5):
        if strokes_per_turn < 1:
            raise ValueError("the replayed artist draws at least one stroke a turn")
        self.events = retime([e for e in session.events if e.kind != "clear"], max_gap_s)
        self.speed = speed
        self.strokes_per_turn = strokes_per_turn
        self.clock = self.events[0].t if self.events else 0.0  # session time reached
        self.i = 0
        self.strokes = 0  # strokes played in this artist turn
        self.hold_at_turns: int | None = None  # holding since the machine had this many turns
        self.pen_down = False
        self._last: float | None = None

    @property
    def finished(self) -> bool:
        return self.i >= len(self.events)

    def due(self, now: float, artist_turn: bool, turns: int) -> list[PenEvent]:
        """Events whose time has come at `now`; `artist_turn` and `turns` (AI turns so far) come from the machine."""
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        if self.hold_at_turns is not None:
            if not (artist_turn and turns > self.hold_at_turns):
                return []
            self.hold_at_turns, self.strokes = None, 0
            if not self.finished:
                self.clock = self.events[self.i].t  # go on at once with the next stroke
            return []
        if not (artist_turn or self.pen_down):  # a cue took the turn between strokes: wait for it back
            return []
        self.clock += dt * self.speed
        out: list[PenEvent] = []
        while not self.finished and self.events[self.i].t <= self.clock:
            e = self.events[self.i]
            self.i += 1
            out.append(e)
            if e.kind == "down":
                self.pen_down = True
            elif e.kind == "up":
                self.pen_down = False
                self.strokes += 1
                if self.strokes >= self.strokes_per_turn:
                    self.hold_at_turns = turns
                    break
        return out
