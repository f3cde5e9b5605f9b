"""Robot jobs end to end (issue 22): the robot simulator as its own process, killed with SIGKILL and started again
mid-job, behind a proxy that drops 20 % of datagrams and duplicates and reorders others, driven by the one
job-aware RobotLink on real threads. Every planned path of every job is drawn exactly once and in order, nothing
of a cancelled job is drawn after the cancel, and the link's drawn counts equal the robot's own journal."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest

from installation.adapters.plotter_link import PlotStreamer, RobotLink
from tests.tools.waiting import until

WAIT_S = 60.0  # a bound on waiting, not a timing assertion

pytestmark = pytest.mark.slow  # real robot processes killed and restarted through a lossy proxy


def _plan(seed: int, n: int) -> list[np.ndarray]:
    """n wandering paths on A4, some longer than one datagram (more than 60 points)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 130, n)
    return [rng.uniform(30, 170, 2) + np.cumsum(rng.normal(0, 1.5, (int(k), 2)), axis=0) for k in sizes]


def _until(cond: Callable[[], bool], timeout: float = WAIT_S, tick: Callable[[], None] | None = None) -> bool:
    return until(cond, timeout, tick=tick)


def _link(proxy, new_sheet: bool = False) -> RobotLink:  # noqa: ANN001
    return RobotLink(proxy.address, window=6, new_sheet=new_sheet, timeout_s=0.1, stall_s=0.6, max_s=WAIT_S)


def _kill_mid_job(robot, s: PlotStreamer, at: int) -> int:  # noqa: ANN001
    """Kill the robot once `at` paths of the job are on paper, start it again; the paths drawn at the kill."""
    assert _until(lambda: len(robot.drawn(s.job)) >= at)
    robot.kill()
    drawn = len(robot.drawn(s.job))
    time.sleep(0.3)
    robot.start()
    assert 0 < drawn < s.planned  # mid-job
    return drawn


def _check_complete(robot, s: PlotStreamer, paths: list[np.ndarray]) -> None:  # noqa: ANN001
    rows = [r for r in robot.journal() if r["event"] == "drawn" and r["job"] == s.job]
    assert [r["seq"] for r in rows] == list(range(len(paths)))  # every path once, in order
    for r, p in zip(rows, paths, strict=True):
        assert np.allclose(np.asarray(r["points"]), p, atol=2e-3)
    assert s.drawn == len(rows) and s.state == "idle" and s.finished


def _one_job(link: RobotLink, robot, paths: list, kill: bool, bridge_button: bool) -> tuple[PlotStreamer, bool]:  # noqa: ANN001
    """Run one job to its end, as an operator would: a fresh sheet whenever the robot asks for one (confirmed
    at the bridge or from the host), the robot killed and restarted mid-job when `kill`."""
    s = link.start(paths)
    s.start()
    pressed = False

    def operator() -> None:
        nonlocal pressed
        if s.state == "waiting_for_paper" and not pressed:
            pressed = True
            robot.press_paper_button() if bridge_button else link.command("paper")

    if kill:
        _until(lambda: s.state == "drawing" or s.finished, tick=operator)
        _kill_mid_job(robot, s, 4)  # early in the job: a fast robot must not finish before the kill lands
    assert _until(lambda: s.finished, tick=operator)
    s.join(5)
    return s, pressed


@pytest.mark.parametrize(("jobs", "new_sheet"), [(2, False), (5, True)])
def test_drawings_in_a_row_on_one_robot(robot, lossy_proxy, jobs: int, new_sheet: bool) -> None:  # noqa: ANN001
    link = _link(lossy_proxy, new_sheet)
    plans = [_plan(10 + k, 40) for k in range(jobs)]
    done: list[PlotStreamer] = []
    kills_at = {1, 3}
    for k, paths in enumerate(plans):
        s, pressed = _one_job(link, robot, paths, kill=k in kills_at, bridge_button=k % 2 == 0)
        _check_complete(robot, s, paths)
        assert link.state()["plotter/drawn"] == len(robot.drawn(s.job)) == len(paths)
        assert pressed == (new_sheet and k > 0)  # the first sheet was blank: no wait
        done.append(s)
    assert len({s.job for s in done}) == jobs and link.jobs == [s.job for s in done]
    for s, paths in zip(done, plans, strict=True):  # later jobs took nothing from earlier ones
        assert robot.drawn(s.job) == list(range(len(paths)))
    sheets = {r["job"]: {x["sheet"] for x in robot.journal() if x.get("job") == r["job"] and x["event"] == "drawn"}
              for r in robot.journal() if r["event"] == "start"}  # fmt: skip
    if new_sheet:
        assert [sheets[s.job] for s in done] == [{k} for k in range(jobs)]  # each job on its own sheet
        assert all((robot.out / f"sheet-{k:03d}.png").is_file() for k in range(jobs - 1))
    else:
        assert all(v == {0} for v in sheets.values())
    assert robot.kills == len(kills_at & set(range(jobs)))
    assert lossy_proxy.dropped and lossy_proxy.duplicated and lossy_proxy.reordered


def test_cancel_then_a_new_start(robot, lossy_proxy) -> None:  # noqa: ANN001
    link = _link(lossy_proxy)
    first = _plan(1, 90)
    a = link.start(first)
    a.start()
    _kill_mid_job(robot, a, 10)
    assert _until(lambda: len(robot.drawn(a.job)) >= 20)
    assert link.command("cancel")
    assert _until(lambda: a.finished)
    a.join(5)
    journal = robot.journal()
    cancel_at = next(i for i, r in enumerate(journal) if r["event"] == "cancel" and r["job"] == a.job)
    after = [r for r in journal[cancel_at:] if r["event"] == "drawn" and r["job"] == a.job]
    drawn_a = robot.drawn(a.job)
    assert after == [] and drawn_a == list(range(len(drawn_a))) and 20 <= len(drawn_a) < len(first)
    assert a.state == "cancelled" and link.state()["plotter/state"] == "cancelled"
    assert link.state()["plotter/drawn"] == a.drawn == len(drawn_a)

    second = _plan(2, 30)
    b = link.start(second)  # the next start is a new job, numbered from 0
    b.start()
    assert b.job != a.job
    _kill_mid_job(robot, b, 8)
    assert _until(lambda: b.finished)
    b.join(5)
    _check_complete(robot, b, second)
    assert robot.drawn(a.job) == drawn_a  # nothing more of the cancelled job, ever
    assert link.state()["plotter/drawn"] == len(second) and link.state()["plotter/job"] == b.job


def test_pause_and_resume_across_robot_restarts(robot, lossy_proxy) -> None:  # noqa: ANN001
    link = _link(lossy_proxy)
    paths = _plan(3, 70)
    s = link.start(paths)
    s.start()
    _kill_mid_job(robot, s, 8)
    assert _until(lambda: len(robot.drawn(s.job)) >= 16)
    assert link.command("pause")
    assert _until(lambda: s.state == "paused")
    held = len(robot.drawn(s.job))
    time.sleep(1.0)
    assert len(robot.drawn(s.job)) == held < len(paths)  # the pen stays up
    assert link.state()["plotter/drawn"] == s.drawn == held
    reconnects = s.reconnects
    robot.restart()  # killed while paused: the journal keeps it paused
    assert _until(lambda: s.reconnects > reconnects and not s.quiet and s.state == "paused")
    time.sleep(1.0)
    assert len(robot.drawn(s.job)) == held
    assert link.command("resume")
    assert _until(lambda: s.finished)
    s.join(5)
    _check_complete(robot, s, paths)
    assert link.state()["plotter/drawn"] == len(paths) and link.state()["plotter/state"] == "idle"
