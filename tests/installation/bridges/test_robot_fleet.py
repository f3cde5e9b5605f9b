"""Several robots at once (`[plotter] robots`): M simulator processes on loopback, one drawing on all of them.
One bridge killed mid-drawing and kept down: the others go on to the end; started again, it resumes after its
last drawn path and finishes. Every robot's journal holds every path once, in order."""

from __future__ import annotations

import socket
from collections.abc import Callable

import numpy as np
import pytest

from installation.adapters.robot_fleet import FleetStreamer, RobotFleet
from installation.core.config import load_config
from installation.core.errors import UserError
from tests.tools.waiting import until

WAIT_S = 120.0  # a bound on waiting, not a timing assertion


def _free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


def _until(cond: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    return until(cond, timeout)


@pytest.mark.slow  # three robot processes, one killed and restarted
def test_one_robot_lost_the_others_go_on_and_it_resumes(robot_factory) -> None:  # noqa: ANN001
    robots = [robot_factory(_free_port(), 600.0) for _ in range(3)]
    if True:
        fleet = RobotFleet([("127.0.0.1", r.port) for r in robots], window=6, timeout_s=0.1, stall_s=0.6)
        rng = np.random.default_rng(5)
        paths = [rng.uniform(30, 170, 2) + np.cumsum(rng.normal(0, 1.5, (40, 2)), axis=0) for _ in range(40)]
        fs = fleet.start(paths)
        assert isinstance(fs, FleetStreamer) and len({s.job for s in fs.streamers}) == 3  # a stream per robot
        fs.start()
        lost, lost_s = robots[1], fs.streamers[1]
        assert _until(lambda: len(lost.drawn(lost_s.job)) >= 5)
        lost.kill()
        at_kill = len(lost.drawn(lost_s.job))
        others = [(r, s) for r, s in zip(robots, fs.streamers, strict=True) if r is not lost]
        assert _until(lambda: all(s.finished for _, s in others))  # the others go on while it is down
        assert len(lost.drawn(lost_s.job)) == at_kill < len(paths) and not lost_s.finished
        assert fleet.busy and "lost" in str(fleet.state()["plotter/robots"])
        lost.start()
        assert _until(lambda: lost_s.finished)
        fs.join(5)
        for r, s in zip(robots, fs.streamers, strict=True):
            assert r.drawn(s.job) == list(range(len(paths))), r.port  # every path once, in order, on every robot
        state = fleet.state()
        assert state["plotter/robots"].count(f"idle {len(paths)}/{len(paths)}") == 3, state
        assert not fleet.busy


def test_robots_config_checks_each_address() -> None:
    cfg = load_config(None, ['plotter.robots=["127.0.0.1:9301", "10.0.0.2:9100"]'])
    assert cfg.plotter.robots == ["127.0.0.1:9301", "10.0.0.2:9100"]
    with pytest.raises(UserError, match=r"plotter\.robots\[\]"):
        load_config(None, ['plotter.robots=["nowhere"]'])
    with pytest.raises(UserError, match="twice"):
        load_config(None, ['plotter.robots=["127.0.0.1:9301", "127.0.0.1:9301"]'])
