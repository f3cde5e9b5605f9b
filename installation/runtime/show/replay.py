"""Replayed drawings: the embedded sessions, replay mode and attract mode (sessions played against the show clock)."""

from __future__ import annotations

import logging
from pathlib import Path

from installation.core.session import PenEvent, Player, Session
from installation.core.strokes import Canvas

log = logging.getLogger(__name__)


SESSIONS_DIR = Path(__file__).resolve().parents[2] / "assets" / "sessions"
HOLD_AFTER_SESSION_S = 2.0  # a finished replayed drawing stays on screen this long before the next


def default_sessions() -> list[Path]:
    return sorted(SESSIONS_DIR.glob("*.jsonl"))


class Replay:
    """Plays sessions one after another against the show clock, clearing between them."""

    def __init__(self, sessions: list[Session], speed: float, loop: bool) -> None:
        self.sessions = sessions
        self.speed = speed
        self.loop = loop
        self.index = 0
        self.player = Player(sessions[0], speed)
        self.started = 0.0
        self.finished_at: float | None = None
        self.done = False

    def start(self, now: float) -> None:
        self.started = now

    def due(self, now: float) -> list[PenEvent]:
        """Events to apply now; a 'clear' is synthesised between sessions."""
        if self.done:
            return []
        events = self.player.due(now - self.started)
        if self.player.finished:
            if self.finished_at is None:
                self.finished_at = now
            elif now - self.finished_at >= HOLD_AFTER_SESSION_S / self.speed:
                self.index += 1
                if self.index >= len(self.sessions):
                    if not self.loop:
                        self.done = True
                        return events
                    self.index = 0
                self.player = Player(self.sessions[self.index], self.speed)
                self.started, self.finished_at = now, None
                events.append(PenEvent("clear", 0.0))
        return events

    def name(self) -> str:
        return self.sessions[self.index].source or f"session {self.index + 1}"


class ReplayMixin:
    """The Show's replay and attract-mode decisions."""

    def _initial_replay(self, now: float) -> Replay | None:
        if self.cfg.input.source != "replay":
            return None
        r = Replay(self.sessions, self.cfg.input.replay_speed, self.cfg.input.replay_loop)
        r.start(now)
        return r

    def _swap_input(self, switch, renderer, display_canvas, now):  # noqa: ANN001, ANN202
        """A finished /mode switch: the drawing is finished and cleared, the old input stopped, the new one on."""
        import pygame

        self._key(pygame.K_c, renderer, display_canvas, now)
        self.paper_sketches.take(timeout=0)  # nothing of an old camera is shown after the switch
        self.inputs.swap(switch, self.supervisor)
        log.info("input %s → %s", self.source, switch.mode)
        self.source = switch.mode
        if switch.mode != "replay":
            return None, switch.mode
        r = Replay(self.sessions, self.cfg.input.replay_speed, self.cfg.input.replay_loop)
        r.start(now)
        return r, "replay"

    def _attract_due(self, now: float, last_input: float) -> bool:
        after = self.cfg.display.attract_after_s
        return self.source == "tablet" and after > 0 and now - last_input >= after and bool(self.sessions)

    def _attract(self, now: float) -> Replay:
        log.info("idle for %.0f s: attract mode", self.cfg.display.attract_after_s)
        r = Replay(self.sessions, self.cfg.input.replay_speed, loop=True)
        r.start(now)
        return r


def strokes_to_events(canvas: Canvas) -> list[PenEvent]:
    events: list[PenEvent] = []
    t0 = None
    for stroke in canvas.all_strokes():
        for i, p in enumerate(stroke.points):
            t0 = p.t if t0 is None else t0
            events.append(PenEvent("down" if i == 0 else "move", max(0.0, p.t - t0), p.x, p.y, p.pressure))
        events.append(PenEvent("up", events[-1].t))
    return events


def retime(ev: PenEvent, t: float) -> PenEvent:
    return PenEvent(ev.kind, t, ev.x, ev.y, ev.pressure)


def rescale(session: Session, size: int) -> Session:
    if session.canvas == size:
        return session
    k = size / session.canvas
    events = tuple(PenEvent(e.kind, e.t, e.x * k, e.y * k, e.pressure) for e in session.events)
    return Session(size, events, session.source, session.created)
