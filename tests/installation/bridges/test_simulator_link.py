"""The robot link end to end: a lossy UDP link and a simulator killed mid-drawing still give every path once."""

import time

import numpy as np
import pytest

from installation.adapters.plotter_link import PlotStreamer


@pytest.mark.slow
def test_lossy_link_and_killed_bridge_draw_every_path_exactly_once(robot, lossy_proxy) -> None:  # noqa: ANN001
    rng = np.random.default_rng(1)
    plan = [
        rng.uniform(20, 180, 2) + np.cumsum(rng.normal(0, 3, (int(rng.integers(2, 150)), 2)), axis=0) for _ in range(80)
    ]
    streamer = PlotStreamer(plan, lossy_proxy.address, window=6, timeout_s=0.1, stall_s=0.6, max_s=50)
    streamer.start()
    end = time.monotonic() + 20
    while len(robot.drawn(streamer.job)) < 25 and time.monotonic() < end:
        time.sleep(0.02)
    robot.kill()  # the bridge dies mid-drawing
    killed_at = len(robot.drawn(streamer.job))
    time.sleep(0.3)
    robot.start()  # and comes back, its paper record intact
    streamer.join(timeout=45)
    assert 0 < killed_at < len(plan)
    assert streamer.sender.done
    rows = [r for r in robot.journal() if r["event"] == "drawn"]
    assert [r["seq"] for r in rows] == list(range(len(plan)))  # each path once, in order
    assert {r["job"] for r in rows} == {streamer.job}
    for r, p in zip(rows, plan, strict=True):
        assert np.allclose(np.asarray(r["points"]), p, atol=2e-3)
    assert lossy_proxy.dropped and lossy_proxy.duplicated and lossy_proxy.reordered and streamer.reconnects >= 1
    assert (robot.out / "paper.png").is_file()
