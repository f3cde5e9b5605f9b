"""Sitter mode with several robots (`plotter.robots`): one sitter, each robot drawing it in its own style
(`sitter.styles`) as its own job on its own acknowledged stream. Three in-process simulators; and three
`run.py bridge sim` processes on loopback with one killed mid-sitting and started again."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.adapters.faces import crop_face
from installation.bridges.simulator import read_journal
from installation.core.config import AppConfig, load_config
from installation.core.errors import UserError
from installation.core.face_sketch import STYLES, sketch_for_time
from installation.core.plotpaths import PaperMapping, paper_size
from installation.runtime.sitter.show import CROP, SitterOptions, SitterShow
from tests.tools.robot_process import RobotProcess
from tests.tools.waiting import until

ROOT = Path(__file__).resolve().parents[4]
FACE = ROOT / "tests" / "fixtures" / "faces" / "face.jpg"
FAST = ["display.width=320", "display.height=200", "display.fullscreen=false", "sitter.hold_s=1.0", "osc.enabled=false"]
SHORT = ["sitter.stroke_budget=80", "sitter.target_minutes=1.0", "sitter.show_result_s=1.0"]  # 39-80 paths a style
WAIT_S = 60.0  # a bound on waiting, not a timing assertion


def _config(tmp: Path, robots: list[str], styles: list[str], *extra: str) -> AppConfig:
    return load_config(
        None,
        [
            *FAST,
            *SHORT,
            f"sitter.archive={json.dumps(str(tmp / 'archive'))}",
            f"plotter.robots={json.dumps(robots)}",
            f"sitter.styles={json.dumps(styles)}",
            *extra,
        ],
    )


def _plan(cfg: AppConfig, style: str, face_box: list[int], job: int = 1) -> list[np.ndarray]:
    """The style's plan for the captured face, computed here again (the show's sketcher seeds with the job)."""
    crop = crop_face(cv2.imread(str(FACE)), tuple(face_box), CROP)
    mapping = PaperMapping(cfg.canvas.size, paper_size(cfg.plotter.paper), cfg.plotter.margin_mm)
    s = cfg.sitter
    plan = sketch_for_time(
        crop, STYLES[style], cfg.canvas.size, mapping, s.stroke_budget, s.target_minutes * 60, s.robot_speed_mm_s, job
    )
    return plan.paths_mm


def _drawn(out: Path, job: str) -> list[dict]:
    return [r for r in read_journal(out) if r["event"] == "drawn" and r["job"] == job]


def _assert_drew_its_plan(out: Path, job: str, plan: list[np.ndarray]) -> None:
    rows = _drawn(out, job)
    assert [r["seq"] for r in rows] == list(range(len(plan))), out  # every path once, in order
    for r, path in zip(rows, plan, strict=True):
        np.testing.assert_allclose(np.asarray(r["points"]), path, atol=0.01)


def _until(cond: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    return until(cond, timeout)


def test_each_robot_draws_the_sitter_in_its_own_style(tmp_path: Path) -> None:
    robots = ["127.0.0.1:9301", "127.0.0.1:9302", "127.0.0.1:9303"]  # simulated in-process on their own ports
    cfg = _config(tmp_path, robots, ["shaded", "127.0.0.1:9303=quick"])  # 1 and 2 shaded (cycling), 3 pinned
    opts = SitterOptions(
        headless=True, seconds=60, out_dir=tmp_path, source=FACE, simulate=True, sim_speed=200.0, until_done=True
    )
    show = SitterShow(cfg, opts)
    m = show.run()
    (p,) = m["portraits"]
    assert p["outcome"] == "done", p
    runs = p["robots"]
    assert [(r["n"], r["style"], r["outcome"]) for r in runs] == [(1, "shaded", "done"), (2, "shaded", "done"),
                                                                   (3, "quick", "done")]  # fmt: skip
    assert len({r["job"] for r in runs}) == 3  # a job, and a stream, per robot
    outs = [tmp_path / "robot", tmp_path / "robot-2", tmp_path / "robot-3"]
    plans = {st: _plan(cfg, st, p["counts"]["face_box"]) for st in ("shaded", "quick")}
    assert len(plans["shaded"]) != len(plans["quick"])  # the styles differ, so the check below can fail
    for r, out in zip(runs, outs, strict=True):
        _assert_drew_its_plan(out, r["job"], plans[r["style"]])
        assert r["strokes_drawn"] == r["strokes_planned"] == len(plans[r["style"]])
        assert r["first_stroke_s"] is not None and r["first_stroke_s"] <= r["last_stroke_s"]
    assert p["timings"]["all_robots_finished_s"] == max(r["last_stroke_s"] for r in runs)
    # the screen follows robot 1: its every acknowledged path, never ahead of the robot
    assert len(show.canvas.strokes) == len(plans["shaded"]) and p["counts"]["strokes_drawn"] == len(plans["shaded"])
    assert all(canvas <= acked for canvas, acked in m["morph_log"])
    (work,) = (tmp_path / "archive" / "works").iterdir()
    names = {f.name for f in work.iterdir()}
    base = {"drawing.svg", "drawing.png", "portrait.png", "strokes.json", "meta.json"}
    per_robot = {f"{kind}-{n}-{st}.{ext}" for n, st in ((1, "shaded"), (2, "shaded"), (3, "quick"))
                 for kind, ext in (("drawing", "svg"), ("drawing", "png"), ("strokes", "json"))}  # fmt: skip
    assert names == base | per_robot
    assert (work / "drawing.svg").read_bytes().count(b"<path") == len(plans["shaded"])  # robot 1's, as before
    assert (work / "drawing-3-quick.svg").read_bytes().count(b"<path") == len(plans["quick"])
    quick = json.loads((work / "strokes-3-quick.json").read_text())["paths"]
    assert len(quick) == len(plans["quick"]) and [s["ack_s"] for s in quick] == sorted(s["ack_s"] for s in quick)
    meta = json.loads((work / "meta.json").read_text())
    assert meta["lead_robot"] == 1 and [r["style"] for r in meta["robots"]] == ["shaded", "shaded", "quick"]
    state = show.robots.state()  # after the result was shown: idle again, with the last sitting's counts
    assert state["sitter/robots"] == "; ".join(
        f"{r['n']} {r['style']} idle {r['strokes_planned']}/{r['strokes_planned']}" for r in runs
    )
    assert str(state["plotter/robots"]).count(" idle ") == 3


@pytest.mark.slow  # three robot processes, one killed and restarted mid-sitting
def test_a_robot_lost_mid_sitting_holds_up_only_itself_and_resumes(tmp_path: Path) -> None:
    bridges = [RobotProcess(_port(), tmp_path / f"bridge-{i + 1}", speed) for i, speed in enumerate((3000, 300, 3000))]
    for b in bridges:
        b.start()
    try:
        styles = ["quick", "portrait", "shaded"]
        cfg = _config(tmp_path, [f"127.0.0.1:{b.port}" for b in bridges], styles, "sitter.give_up_robot_s=60")
        opts = SitterOptions(headless=True, seconds=90, out_dir=tmp_path, source=FACE, until_done=True,
                             write_frames=False)  # fmt: skip
        show = SitterShow(cfg, opts)
        out: dict = {}
        runner = threading.Thread(target=lambda: out.update(show.run()), daemon=True)
        runner.start()
        victim = bridges[1]
        assert _until(lambda: show.robots.begun and len(show.robots.runs[1].ack_t) >= 8)
        run = show.robots.runs[1]
        victim.kill()
        at_kill = len(victim.drawn(run.streamer.job))
        assert _until(lambda: show.robots.runs[0].outcome == show.robots.runs[2].outcome == "done")
        assert run.outcome == "" and show.machine.state == "drawing"  # the sitting waits for it, only it
        assert len(victim.drawn(run.streamer.job)) == at_kill < len(run.paths_mm)
        assert _until(lambda: " lost " in str(show.robots.state()["plotter/robots"]), 10)
        sitter_line = str(show.robots.state()["sitter/robots"])
        assert sitter_line.startswith("1 quick done") and "2 portrait drawing" in sitter_line, sitter_line
        assert "3 shaded done" in sitter_line
        victim.start()
        runner.join(WAIT_S)
        assert not runner.is_alive()
    finally:
        show.stop.set()
        for b in bridges:
            b.stop()
    (p,) = out["portraits"]
    assert p["outcome"] == "done", p
    for r, b in zip(p["robots"], bridges, strict=True):
        assert r["outcome"] == "done" and r["style"] == styles[r["n"] - 1]
        _assert_drew_its_plan(b.out, r["job"], _plan(cfg, r["style"], p["counts"]["face_box"]))  # resumed, once each
    assert len(victim.drawn(p["robots"][1]["job"])) > at_kill and victim.kills == 1
    (work,) = (tmp_path / "archive" / "works").iterdir()
    assert {"drawing-1-quick.svg", "drawing-2-portrait.svg", "drawing-3-shaded.svg", "drawing.svg"} <= {
        f.name for f in work.iterdir()
    }


def test_style_mistakes_are_one_line() -> None:
    robots = 'plotter.robots=["127.0.0.1:9301", "127.0.0.1:9302"]'
    for sets, says in (
        (['sitter.styles=["quick", "fancy"]', robots], "'sitter.styles' has 'fancy'"),
        (["sitter.styles=[]", robots], "'sitter.styles' is empty"),
        (['sitter.styles=["127.0.0.1:9999=quick"]', robots], "pins 127.0.0.1:9999, which is not a robot here"),
        (['sitter.styles=["127.0.0.1:9301=quick", "127.0.0.1:9301=shaded"]', robots], "twice"),
        (['sitter.styles=["nowhere=quick"]', robots], "sitter.styles[]"),
        (["sitter.styles=[3]", robots], "must be str"),
    ):
        with pytest.raises(UserError) as e:
            load_config(None, sets)
        assert says in str(e.value) and "\n" not in str(e.value), (sets, str(e.value))
    cfg = load_config(None, ['sitter.styles=["quick", "shaded"]', robots.replace("]", ', "127.0.0.1:9303"]')])
    assert cfg.sitter.styles == ["quick", "shaded"]
    r = subprocess.run(
        [sys.executable, "run.py", "sitter", "--sim", "--headless", "--set", 'sitter.styles=["fancy"]'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("error: config 'sitter.styles' has 'fancy'")


@pytest.mark.slow  # two robot processes, one killed for good
def test_a_robot_silent_too_long_is_given_up_and_the_sitting_ends_without_it(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from installation.runtime.sitter.robots import SitterRobots

    bridges = [RobotProcess(_port(), tmp_path / f"bridge-{i + 1}", speed) for i, speed in enumerate((4000, 200))]
    for b in bridges:
        b.start()
    rng = np.random.default_rng(3)
    paths = [rng.uniform(30, 170, 2) + np.cumsum(rng.normal(0, 1.5, (30, 2)), axis=0) for _ in range(30)]
    addresses = [("127.0.0.1", b.port) for b in bridges] + [("127.0.0.1", _port())]  # the third: no bridge at all
    robots = SitterRobots(addresses, ["quick", "portrait", "shaded"], give_up_s=1.5, timeout_s=0.1, stall_s=0.5)
    try:
        robots.begin([SimpleNamespace(paths_mm=paths), SimpleNamespace(paths_mm=paths), None])
        assert robots.runs[2].given_up and robots.lead.n == 1
        victim, run = bridges[1], robots.runs[1]
        assert _until(lambda: robots.poll(time.monotonic()) or len(run.ack_t) >= 3)
        victim.kill()
        assert _until(lambda: robots.poll(time.monotonic()) or robots.ended)
        at_kill = len(victim.drawn(run.streamer.job))
        assert robots.runs[0].outcome == "done" and run.given_up and "silent for 1.5 s" in run.outcome
        assert len(run.ack_t) == at_kill < len(paths) and robots.any_done
        assert robots.state()["sitter/robots"] == (
            f"1 quick done 30/30; 2 portrait given_up {at_kill}/30; 3 shaded given_up 0/0"
        )
        assert "3 shaded: stopped at 0 of 0" in robots.progress_line()
    finally:
        robots.reset()
        for b in bridges:
            b.stop()


def _port() -> int:
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    n = s.getsockname()[1]
    s.close()
    return int(n)


def test_the_screen_follows_the_robot_with_the_most_strokes_to_draw() -> None:
    """A quick style finishes first: the lead is the longest plan (the first among equals), not the first robot."""
    from types import SimpleNamespace

    from installation.runtime.sitter.robots import SitterRobots

    paths = [np.array([[10.0, 10.0], [20.0, 20.0]])] * 9
    addresses = [("127.0.0.1", _port()) for _ in range(4)]  # no bridge: the streams wait, nothing is drawn
    robots = SitterRobots(addresses, ["quick", "shaded", "portrait", "shaded"], give_up_s=60, timeout_s=0.1)
    try:
        robots.begin([SimpleNamespace(paths_mm=p) for p in (paths[:3], paths, paths[:6], paths)])
        assert robots.lead.n == 2 and robots.lead.style == "shaded"
        robots.reset()
        robots.begin([SimpleNamespace(paths_mm=paths[:3]), None, SimpleNamespace(paths_mm=paths[:6]), None])
        assert robots.lead.n == 3  # the longest among the robots that answered
    finally:
        robots.reset()
