"""Pen and mouse input: pygame events → pen events in canvas coordinates, with pressure where known.

pygame (SDL2) reports position and buttons but no pen pressure. On Linux a tablet exposes pressure through
evdev (ABS_PRESSURE); a `PressureReader` thread follows it and the main thread reads the newest value.
A mouse, or a tablet without evdev access, draws at pressure 1.0.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pygame

from installation.core.session import PenEvent
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)

EV_ABS = 0x03
ABS_PRESSURE = 0x18


@dataclass(frozen=True)
class RawEvent:
    """One evdev input event as (type, code, value): what a recorded tablet trace stores."""

    type: int
    code: int
    value: int


def pressures(events: Iterable[RawEvent], max_value: int) -> Iterable[float]:
    """Normalised pressures 0..1 from a stream of evdev events (other events ignored)."""
    for ev in events:
        if ev.type == EV_ABS and ev.code == ABS_PRESSURE:
            yield min(1.0, max(0.0, ev.value / max_value)) if max_value > 0 else 1.0


def find_pen_device(spec: str) -> str | None:
    """The evdev path of a pressure-reporting device: `spec` is 'auto', 'off' or a /dev/input path."""
    if spec == "off":
        return None
    try:
        import evdev
    except ImportError:
        log.info("evdev not installed: pen pressure unavailable, drawing at pressure 1.0")
        return None
    paths = evdev.list_devices() if spec == "auto" else [spec]
    for path in paths:
        try:
            dev = evdev.InputDevice(path)
            caps = dev.capabilities().get(EV_ABS, [])
        except OSError as e:
            log.info("cannot read %s (%s)", path, e)
            continue
        codes = [c[0] if isinstance(c, tuple) else c for c in caps]
        if ABS_PRESSURE in codes:
            log.info("pen pressure from %s (%s)", path, dev.name)
            return path
    log.info("no pressure-reporting tablet found: drawing at pressure 1.0")
    return None


class PressureReader(threading.Thread):
    """Follows a pressure source and keeps the newest value in `latest` (a one-slot hand-off).

    Supervised (`serve`): when the device goes away its stream raises OSError; the reader reports pressure 1.0,
    raises, and on the supervisor's next call `reopen()` looks for the device again (OSError while absent),
    so a tablet unplugged and plugged back gives pressure again by itself.
    """

    def __init__(
        self,
        source: Callable[[], Iterable[RawEvent]] | None,
        max_value: int,
        stop: threading.Event,
        reopen: Callable[[], tuple[Callable[[], Iterable[RawEvent]], int]] | None = None,
    ) -> None:
        super().__init__(name="pressure", daemon=True)
        self.source = source
        self.max_value = max_value
        self.stop = stop
        self.reopen = reopen
        self.present = source is not None
        self.reconnects = 0
        self.latest: LatestSlot[float] = LatestSlot()

    @classmethod
    def from_device(cls, path: str | None, stop: threading.Event, spec: str = "auto") -> PressureReader:
        """A reader of the evdev device at `path`; with `path` None (an explicit device not plugged in yet) it
        starts absent and the supervisor's retries pick the device up when it appears."""

        def reopen() -> tuple[Callable[[], Iterable[RawEvent]], int]:
            where = find_pen_device(spec if spec != "off" else "auto")
            if where is None:
                raise OSError("no pressure-reporting tablet connected")
            return _open_events(where)

        if path is None:
            return cls(None, 1, stop, reopen)
        events, max_value = _open_events(path)
        return cls(events, max_value, stop, reopen)

    def run(self) -> None:
        try:
            self.serve(self.stop, lambda: None)
        except OSError as e:
            log.warning("tablet pressure stream ended (%s); drawing at pressure 1.0", e)

    def serve(self, stop: threading.Event, beat: Callable[[], None]) -> None:
        if self.source is None:
            if self.reopen is None:
                raise OSError("the pen pressure device is gone")
            self.source, self.max_value = self.reopen()
            self.present = True
            self.reconnects += 1
            log.info("tablet pressure is back")
        try:
            for p in pressures(self.source(), self.max_value):
                beat()
                self.latest.put(p)
                if stop.is_set():
                    break
        except OSError as e:
            self.present, self.source = False, None
            log.warning("tablet pressure device lost (%s): drawing at pressure 1.0 until it is back", e)
            raise

    def pressure(self) -> float:
        value = self.latest.peek()
        return 1.0 if value is None or not self.present else value


def _open_events(path: str) -> tuple[Callable[[], Iterable[RawEvent]], int]:
    """An evdev device's event stream and its maximum pressure; OSError if it cannot be opened."""
    import evdev

    dev = evdev.InputDevice(path)
    info = dev.absinfo(ABS_PRESSURE)

    def events() -> Iterable[RawEvent]:
        for ev in dev.read_loop():
            yield RawEvent(ev.type, ev.code, ev.value)

    return events, info.max


class PenInput:
    """Turns pygame mouse/pen events into PenEvents; `to_canvas` maps screen → canvas (None = outside)."""

    def __init__(
        self,
        to_canvas: Callable[[tuple[int, int]], tuple[float, float] | None],
        pressure: Callable[[], float],
    ) -> None:
        self.to_canvas = to_canvas
        self.pressure = pressure
        self.down = False

    def handle(self, event: pygame.event.Event, t: float) -> PenEvent | None:
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            xy = self.to_canvas(event.pos)
            if xy is None:
                return None
            self.down = True
            return PenEvent("down", t, xy[0], xy[1], self.pressure())
        if event.type == pygame.MOUSEMOTION and self.down:
            xy = self.to_canvas(event.pos)
            if xy is None:  # left the panel: lift the pen
                self.down = False
                return PenEvent("up", t)
            return PenEvent("move", t, xy[0], xy[1], self.pressure())
        if event.type == pygame.MOUSEBUTTONUP and event.button == 1 and self.down:
            self.down = False
            return PenEvent("up", t)
        return None
