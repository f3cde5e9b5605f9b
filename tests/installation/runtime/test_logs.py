"""Repeated log lines are rate-limited: a few through per window, then one summary with the count."""

import json
import logging
from pathlib import Path

import pytest

from installation.core.config import LoggingConfig
from installation.runtime import logs
from installation.runtime.logs import RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture()
def rig():  # noqa: ANN201 - (logger, filter, clock, [handler, handler])
    clock = Clock()
    f = RepeatFilter(burst=3, interval_s=10.0, max_kinds=8, clock=clock)
    lg = logging.getLogger("installation.test.repeats")
    lg.propagate = False
    lg.setLevel(logging.DEBUG)
    handlers = [Collect(), Collect()]
    for h in handlers:
        h.addFilter(f)  # one filter on two handlers, as the app has it (console and file)
        lg.addHandler(h)
    yield lg, f, clock, handlers
    for h in handlers:
        lg.removeHandler(h)


def test_a_flood_gives_a_few_lines_then_one_summary_with_the_count(rig) -> None:  # noqa: ANN001
    lg, f, clock, (a, b) = rig
    for i in range(50):
        lg.warning("malformed OSC datagram from 127.0.0.1 (%d so far)", i)
        lg.warning(f"bundle size {i * 7} is larger than what is left")  # numbers in the text: the same kind
        clock.t += 0.01
    lg.info("something else")  # another kind is not held back
    assert len(a.lines) == 3 + 3 + 1 and a.lines == b.lines  # decided once per record, not per handler
    clock.t += 10.0
    lg.warning("malformed OSC datagram from 127.0.0.1 (%d so far)", 50)
    summaries = [x for x in a.lines if "similar lines suppressed" in x]
    assert len(summaries) == 2
    assert any(s.startswith("47 similar lines suppressed") and "(49 so far)" in s for s in summaries)
    assert any(s.startswith("47 similar") and "bundle size 343" in s for s in summaries)
    assert a.lines[-1] == "malformed OSC datagram from 127.0.0.1 (50 so far)"  # a new window lets it through
    assert f.suppressed_total == 94 and a.lines == b.lines


def test_flush_writes_what_is_pending_and_quiet_kinds_cost_nothing(rig) -> None:  # noqa: ANN001
    lg, f, clock, (a, _) = rig
    for _ in range(3):
        lg.error("camera 0 lost")
    f.flush()
    assert a.lines == ["camera 0 lost"] * 3  # nothing was suppressed: no summary
    for _ in range(5):
        lg.error("camera 0 lost")
    f.flush()
    assert a.lines[3:6] == ["camera 0 lost"] * 3  # flush closed the window: a new one lets three through
    assert a.lines[6].startswith("2 similar lines suppressed") and len(a.lines) == 7


def test_structured_records_are_never_held_back(rig) -> None:  # noqa: ANN001
    lg, f, clock, (a, _) = rig
    for i in range(10):
        lg.info("health %d", i, extra={"fields": {"i": i}, "short": "health"})
    assert len(a.lines) == 10 and f.suppressed_total == 0


def test_many_different_lines_keep_memory_bounded(rig) -> None:  # noqa: ANN001
    lg, f, clock, (a, _) = rig
    for i in range(200):
        lg.warning(f"kind {chr(65 + i % 26) * (1 + i // 26)}")  # 200 different texts without digits
    assert len(f._windows) <= 8 and len(a.lines) == 200


def test_the_file_log_of_a_flood_stays_short(tmp_path: Path) -> None:
    handler = logs.attach(LoggingConfig(str(tmp_path / "l" / "x.jsonl"), 1_000_000, 1, "INFO"), Path)
    lg = logging.getLogger("installation.test.flood")
    try:
        for i in range(2000):
            lg.warning("Could not identify content type of dgram %d", i)
    finally:
        logs.detach(handler)
    lines = [json.loads(x) for x in (tmp_path / "l" / "x.jsonl").read_text().splitlines()]
    flood = [x for x in lines if x["logger"] == "installation.test.flood"]
    assert len(flood) == logs.REPEATS.burst + 1
    assert flood[-1]["suppressed"] == 2000 - logs.REPEATS.burst and "suppressed" in flood[-1]["msg"]
