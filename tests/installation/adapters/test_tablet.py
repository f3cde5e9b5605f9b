import json
import threading
from pathlib import Path

import pygame

from installation.adapters.tablet import ABS_PRESSURE, EV_ABS, PenInput, PressureReader, RawEvent, pressures

FIXTURE = Path(__file__).parents[2] / "fixtures" / "tablet" / "pen_trace.jsonl"


def _trace() -> list[RawEvent]:
    return [RawEvent(*json.loads(line)) for line in FIXTURE.read_text().splitlines() if line.strip()]


def test_recorded_trace_gives_normalised_pressures() -> None:
    ps = list(pressures(_trace(), max_value=8191))
    assert len(ps) > 10
    assert all(0.0 <= p <= 1.0 for p in ps)
    assert max(ps) > 0.5 and ps[0] < 0.2  # a stroke presses in from light


def test_reader_thread_keeps_the_newest_value() -> None:
    stop = threading.Event()
    trace = _trace()
    reader = PressureReader(lambda: iter(trace), 8191, stop)
    assert reader.pressure() == 1.0  # nothing read yet: mouse-like default
    reader.start()
    reader.join(timeout=5)
    last = [e for e in trace if e.type == EV_ABS and e.code == ABS_PRESSURE][-1]
    assert abs(reader.pressure() - last.value / 8191) < 1e-9


def test_pen_input_maps_screen_to_canvas_and_lifts_outside() -> None:
    pygame.init()
    pen = PenInput(lambda pos: None if pos[0] > 100 else (pos[0] * 2.0, pos[1] * 2.0), lambda: 0.5)
    e = pen.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(10, 20), button=1), 1.0)
    assert (e.kind, e.x, e.y, e.pressure) == ("down", 20.0, 40.0, 0.5)
    e = pen.handle(pygame.event.Event(pygame.MOUSEMOTION, pos=(30, 40), rel=(0, 0), buttons=(1, 0, 0)), 1.1)
    assert e.kind == "move" and e.x == 60.0
    e = pen.handle(pygame.event.Event(pygame.MOUSEMOTION, pos=(300, 40), rel=(0, 0), buttons=(1, 0, 0)), 1.2)
    assert e.kind == "up"
    assert pen.handle(pygame.event.Event(pygame.MOUSEMOTION, pos=(30, 40), rel=(0, 0), buttons=(0, 0, 0)), 1.3) is None
    assert pen.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(500, 5), button=1), 1.4) is None
