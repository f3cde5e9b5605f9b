"""`[plotter] robots`: the show's /plotter/start over real OSC draws the same drawing on two in-process robot
simulators on loopback, each as its own job, and /state/plotter/robots reports both."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from pythonosc.osc_packet import OscPacket

from installation.bridges.simulator import Simulator, read_journal
from installation.core.config import load_config
from installation.core.osc_protocol import build_message
from installation.runtime.show import Show, ShowOptions, default_sessions


def _all_done(line: str, robots: int) -> bool:
    """`HOST:PORT state drawn/planned; ...`: every robot idle with all its paths drawn."""
    parts = [p.split() for p in line.split("; ")]
    done = [p[1] == "idle" and p[2].split("/")[0] == p[2].split("/")[1] != "0" for p in parts if len(p) == 3]
    return len(done) == robots and all(done)


@pytest.mark.slow  # a whole show with two robots
def test_one_start_draws_on_every_robot(tmp_path: Path, free_udp_port: int, sandbox: list[str]) -> None:
    sims = [Simulator("127.0.0.1", 0, tmp_path / f"robot{i}", (210.0, 297.0), speed_mm_s=0.0) for i in range(2)]
    for sim in sims:
        threading.Thread(target=sim.serve, args=(40.0,), daemon=True).start()
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.1)
    robots = ", ".join(f'"127.0.0.1:{s.port}"' for s in sims)
    cfg = load_config(
        None,
        [
            *sandbox, 'input.source="replay"', "input.replay_speed=20", "input.replay_loop=false",
            "display.width=320", "display.height=200", f"osc.port={free_udp_port}",
            f'osc.state_out=["127.0.0.1:{rx.getsockname()[1]}"]', "osc.state_hz=50", f"plotter.robots=[{robots}]",
        ],
    )  # fmt: skip
    show = Show(cfg, ShowOptions(headless=True, seconds=40.0, sessions=[default_sessions()[-1]]))
    seen: list[str] = []
    errors: list[str] = []

    def rig() -> None:
        try:
            end = time.monotonic() + 20
            while time.monotonic() < end and sum(len(s.points) for s in show.canvas.all_strokes()) < 50:
                time.sleep(0.05)
            time.sleep(2.0)  # the replay has stopped growing (20x)
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
                build_message("/plotter/start"), ("127.0.0.1", free_udp_port)
            )
            end = time.monotonic() + 30
            while time.monotonic() < end:
                try:
                    for m in OscPacket(rx.recv(65536)).messages:
                        if m.message.address == "/state/plotter/robots":
                            seen.append(str(m.message.params[0]))
                except OSError:
                    pass
                if seen and _all_done(seen[-1], 2):
                    return
            errors.append(f"not finished on both robots: {seen[-1:] or 'no /state/plotter/robots'}")
        finally:
            show.stop.set()

    t = threading.Thread(target=rig, daemon=True)
    t.start()
    show.run()
    t.join(5)
    assert not errors, errors
    jobs = []
    for sim in sims:
        drawn = [r for r in read_journal(sim.out) if r["event"] == "drawn"]
        assert drawn and [r["seq"] for r in drawn] == list(range(len(drawn)))
        jobs.append({r["job"] for r in drawn})
    assert len(jobs[0]) == len(jobs[1]) == 1 and jobs[0] != jobs[1]  # one job each, its own stream
    n0, n1 = (len([r for r in read_journal(s.out) if r["event"] == "drawn"]) for s in sims)
    assert n0 == n1 and f"idle {n0}/{n0}" in seen[-1]  # the same drawing, complete on both
