"""The simulator acknowledges a path as drawn when its pen has travelled it, not when it starts: the host's counts
(and the screen that follows them in sitter mode) must not run ahead of the paper."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from installation.adapters.plotter_link import PlotStreamer
from installation.bridges.simulator import Simulator, read_journal
from tests.tools.waiting import until

SPEED = 200.0  # mm/s


def test_each_path_is_acknowledged_after_its_motion_time(tmp_path: Path) -> None:
    sim = Simulator("127.0.0.1", 0, tmp_path, (297.0, 420.0), speed_mm_s=SPEED)
    threading.Thread(target=sim.serve, args=(20.0,), daemon=True).start()
    # three 100 mm strokes, 20 mm apart, each from x = 50: 0.5 s along each, ~0.5 s back to the start of the next
    paths = [np.array([[50.0, 50.0 + 20 * k], [150.0, 50.0 + 20 * k]]) for k in range(3)]
    streamer = PlotStreamer(paths, ("127.0.0.1", sim.port), window=8, timeout_s=0.1, stall_s=2.0, max_s=15)
    acks: list[float] = []

    def record() -> None:
        while len(acks) < streamer.drawn:
            acks.append(time.monotonic())

    t0 = time.monotonic()
    streamer.start()
    try:
        assert until(lambda: streamer.drawn == 3, 15, poll_s=0.005, tick=record)
        record()
    finally:
        streamer.cancel()
    travel = [np.hypot(50, 50) + 100, np.hypot(100, 20) + 100, np.hypot(100, 20) + 100]  # mm from home, then back
    expected = np.cumsum(travel) / SPEED  # the pen moves only after the first path has arrived: a lower bound
    got = np.array(acks) - t0
    assert (got >= expected - 0.02).all(), (got, expected)  # never before the pen is there
    assert (got <= expected + 1.0).all(), (got, expected)  # nor long after
    rows = [r for r in read_journal(tmp_path) if r["event"] == "drawn"]
    assert [r["seq"] for r in rows] == [0, 1, 2]
