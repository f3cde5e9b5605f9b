"""Recorded drawing sessions: a versioned JSON Lines file of pen events.

Line 1 is a header object; every later line is one event:

    {"format": "studio-session", "version": 1, "canvas": 1024, "created": "...", "source": "..."}
    {"e": "down", "t": 0.000, "x": 512.0, "y": 300.5, "p": 0.42}
    {"e": "move", "t": 0.016, "x": 514.0, "y": 302.0, "p": 0.45}
    {"e": "up", "t": 0.500}
    {"e": "clear", "t": 9.000}

`t` is seconds from the start of the session, non-decreasing; x, y are canvas pixels of a square canvas
of side `canvas`; p is pen pressure 0..1. Readers reject other formats and versions with a clear error, and
any number that is not finite or is out of its range (a time beyond `MAX_T`, a point further than `REACH`
canvases from the canvas, a canvas side above `MAX_CANVAS`) with one line naming the file and line.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from installation.core.errors import UserError
from installation.core.strokes import Canvas, PenPoint

FORMAT = "studio-session"
VERSION = 1
KINDS = ("down", "move", "up", "clear")
MAX_CANVAS = 65_536  # canvas side, pixels
MAX_T = 7 * 86_400.0  # seconds: a week-long session is already absurd
REACH = 8  # x, y within ±REACH canvas sides (a pen may leave the canvas a little, never by 1e300)
MAX_FILE_BYTES = 200_000_000  # a long session is a few MB


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _float(v: int | float) -> float:
    """A JSON number as a float; an integer beyond float range reads as infinity (refused as not finite)."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


@dataclass(frozen=True, slots=True)
class PenEvent:
    kind: str  # one of KINDS
    t: float  # seconds from session start
    x: float = 0.0
    y: float = 0.0
    pressure: float = 1.0

    def point(self) -> PenPoint:
        return PenPoint(self.x, self.y, self.pressure, self.t)

    def to_json(self) -> dict[str, object]:
        if self.kind in ("up", "clear"):
            return {"e": self.kind, "t": round(float(self.t), 4)}
        return {
            "e": self.kind,
            "t": round(float(self.t), 4),
            "x": round(float(self.x), 2),
            "y": round(float(self.y), 2),
            "p": round(float(self.pressure), 3),
        }


@dataclass(frozen=True)
class Session:
    canvas: int
    events: tuple[PenEvent, ...]
    source: str = ""
    created: str = ""

    @property
    def duration(self) -> float:
        return self.events[-1].t if self.events else 0.0


def apply_event(canvas: Canvas, event: PenEvent, pen_t: float) -> None:
    """Apply one event to a canvas; `pen_t` is the monotonic time it arrived (for latency)."""
    if event.kind == "down":
        canvas.pen_down(event.point(), pen_t)
    elif event.kind == "move":
        canvas.pen_move(event.point(), pen_t)
    elif event.kind == "up":
        canvas.pen_up(pen_t)
    elif event.kind == "clear":
        canvas.clear(pen_t)


def write_session_to(f: TextIO, session: Session) -> None:
    """The session's lines (header, then events) to an open text stream."""
    header = {
        "format": FORMAT,
        "version": VERSION,
        "canvas": session.canvas,
        "created": session.created,
        "source": session.source,
    }
    f.write(json.dumps(header) + "\n")
    for ev in session.events:
        f.write(json.dumps(ev.to_json()) + "\n")


def write_session(path: Path, session: Session) -> None:
    """Write atomically: a temporary file beside the target, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        write_session_to(f, session)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class SessionWriter:
    """Appends events as they happen, flushing each line, so a crash loses at most the last event."""

    def __init__(self, path: Path, canvas: int, source: str, created: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._f = path.open("w", encoding="utf-8")
        header = {
            "format": FORMAT,
            "version": VERSION,
            "canvas": canvas,
            "created": created,
            "source": source,
        }
        self._f.write(json.dumps(header) + "\n")
        self._f.flush()
        self.count = 0

    def write(self, event: PenEvent) -> None:
        self._f.write(json.dumps(event.to_json()) + "\n")
        self._f.flush()
        self.count += 1

    def close(self) -> None:
        if not self._f.closed:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()


def read_session(path: Path) -> Session:
    """Read and validate a session file; any problem is a UserError naming the file and line."""
    if not path.is_file():
        raise UserError(f"session file {path} does not exist: give the path of a .jsonl session")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UserError(f"session file {path} is over {MAX_FILE_BYTES:,} bytes: not a drawing session")
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"session file {path} cannot be read ({e}): re-record it or pick another file") from e
    if not lines:
        raise UserError(f"session file {path} is empty: re-record it or pick another file")
    header = _parse_line(path, 1, lines[0])
    if header.get("format") != FORMAT:
        raise UserError(f"{path} is not a session file (line 1 lacks format '{FORMAT}')")
    if header.get("version") != VERSION:
        raise UserError(
            f"session file {path} has version {header.get('version')!r}; this build reads version {VERSION}: "
            "re-record it or convert it"
        )
    canvas = header.get("canvas")
    if not isinstance(canvas, int) or isinstance(canvas, bool) or not 0 < canvas <= MAX_CANVAS:
        raise UserError(f"session file {path}: header 'canvas' must be an integer 1..{MAX_CANVAS}")
    events = tuple(_parse_events(path, lines[1:], canvas))
    return Session(canvas, events, str(header.get("source", "")), str(header.get("created", "")))


def _parse_line(path: Path, n: int, line: str) -> dict[str, object]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise UserError(f"session file {path} line {n} is not JSON ({e.msg}): the file is corrupt") from e
    except (RecursionError, ValueError):  # nested thousands deep, or an integer of thousands of digits
        raise UserError(f"session file {path} line {n} is not a pen event (too deep or too long): corrupt") from None
    if not isinstance(obj, dict):
        raise UserError(f"session file {path} line {n} is not a JSON object: the file is corrupt")
    return obj


def _parse_events(path: Path, lines: Iterable[str], canvas: int) -> Iterator[PenEvent]:
    last_t = 0.0
    reach = REACH * canvas
    for n, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        obj = _parse_line(path, n, line)
        kind = obj.get("e")
        t = obj.get("t")
        if kind not in KINDS or not _number(t):
            raise UserError(f"session file {path} line {n}: expected an event with 'e' in {KINDS} and a time 't'")
        t = _float(t)  # type: ignore[arg-type]
        if not (math.isfinite(t) and 0 <= t <= MAX_T):
            raise UserError(f"session file {path} line {n}: time {t} must be 0..{MAX_T:g} seconds: the file is corrupt")
        if t < last_t:
            raise UserError(f"session file {path} line {n}: time goes backwards ({t} < {last_t})")
        last_t = t
        if kind in ("down", "move"):
            x, y, p = obj.get("x"), obj.get("y"), obj.get("p", 1.0)
            if not all(_number(v) for v in (x, y, p)):
                raise UserError(f"session file {path} line {n}: '{kind}' needs numeric x, y and p")
            x, y, p = _float(x), _float(y), _float(p)  # type: ignore[arg-type]
            if not (abs(x) <= reach and abs(y) <= reach):  # False for NaN too
                raise UserError(
                    f"session file {path} line {n}: point ({x}, {y}) is not finite or far off the {canvas}-pixel "
                    "canvas: the file is corrupt"
                )
            if not 0 <= p <= 1:
                raise UserError(f"session file {path} line {n}: pressure {p} must be 0..1: the file is corrupt")
            yield PenEvent(str(kind), t, x, y, p)
        else:
            yield PenEvent(str(kind), t)


class Player:
    """Replays a session against a clock: `due(elapsed)` returns the events whose time has come.

    `speed` > 1 plays faster. Looping is the caller's choice (call `restart`).
    """

    def __init__(self, session: Session, speed: float = 1.0) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise UserError(f"replay speed must be a positive finite number, got {speed}")
        self.session = session
        self.speed = speed
        self._i = 0

    @property
    def finished(self) -> bool:
        return self._i >= len(self.session.events)

    def restart(self) -> None:
        self._i = 0

    def due(self, elapsed: float) -> list[PenEvent]:
        """Events with t <= elapsed * speed, in order, each returned once."""
        horizon = elapsed * self.speed
        events = self.session.events
        start = self._i
        while self._i < len(events) and events[self._i].t <= horizon:
            self._i += 1
        return list(events[start : self._i])
