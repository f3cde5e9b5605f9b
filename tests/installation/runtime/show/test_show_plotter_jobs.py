"""The show's /plotter/* over real OSC to an in-process robot simulator on loopback (issue 22): a second start
after a finished drawing, and a start after a cancel, are new jobs drawn completely, and /state/plotter/* reports
what the robot's journal shows."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pythonosc.osc_packet import OscPacket

from installation.bridges.simulator import Simulator, read_journal
from installation.core.config import load_config
from installation.core.osc_protocol import build_message
from installation.runtime.show import Show, ShowOptions, default_sessions


class Rig(threading.Thread):
    """Listens to the show's state bundles and keeps the newest value of each /state/plotter/... address."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx.bind(("127.0.0.1", 0))
        self.rx.settimeout(0.1)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.state: dict[str, object] = {}
        self.seen_states: set[str] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                data = self.rx.recv(65536)
            except OSError:
                continue
            for m in OscPacket(data).messages:
                if m.message.address.startswith("/state/plotter/"):
                    self.state[m.message.address.rsplit("/", 1)[1]] = m.message.params[0]
            self.seen_states.add(str(self.state.get("state")))

    def until(self, cond: Callable[[dict], bool], timeout: float = 20.0) -> dict:
        end = time.monotonic() + timeout  # a bound on waiting, not a timing assertion
        while time.monotonic() < end and not cond(self.state):
            time.sleep(0.02)
        assert cond(self.state), self.state
        return dict(self.state)


def _replay_done(show: Show, timeout: float = 20.0) -> None:
    """Wait until the replayed drawing is on the canvas and has stopped growing (the 19 s smiley, at 20x)."""
    end = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < end:
        n = sum(len(s.points) for s in show.canvas.all_strokes())
        if n != last:
            last, since = n, time.monotonic()
        elif n and time.monotonic() - since > 1.0:
            return
        time.sleep(0.05)
    raise AssertionError("the replay drew nothing")


def _drawn(out: Path, job: object) -> list[int]:
    return [r["seq"] for r in read_journal(out) if r["event"] == "drawn" and r["job"] == job]


def test_successive_starts_and_a_cancel_are_separate_jobs_on_the_state(
    tmp_path: Path, free_udp_port: int, sandbox: list[str]
) -> None:
    out = tmp_path / "robot"
    sim = Simulator("127.0.0.1", 0, out, (210.0, 297.0), speed_mm_s=0.0)
    threading.Thread(target=sim.serve, args=(40.0,), daemon=True).start()
    rig = Rig()
    rig.start()
    port = free_udp_port
    cfg = load_config(
        None,
        [
            *sandbox,
            'input.source="replay"',
            "input.replay_speed=20",
            "input.replay_loop=false",
            "display.width=320",
            "display.height=200",
            f"osc.port={port}",
            f'osc.state_out=["127.0.0.1:{rig.rx.getsockname()[1]}"]',
            "osc.state_hz=50",
            f'plotter.robot="127.0.0.1:{sim.port}"',
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=40.0, sessions=[default_sessions()[-1]]))
    jobs: list[dict] = []
    errors: list[BaseException] = []

    def send(address: str) -> None:
        rig.tx.sendto(build_message(address), ("127.0.0.1", port))

    def finished(job: object) -> Callable[[dict], bool]:
        return lambda s: s.get("job") == job and s.get("state") == "idle" and s.get("drawn") == s.get("planned")

    def operator() -> None:
        try:
            _replay_done(show)
            for _ in range(2):  # two drawings in a row
                old = rig.state.get("job")
                send("/plotter/start")
                s = rig.until(lambda s, old=old: s.get("job") not in (None, "", old))
                jobs.append(rig.until(finished(s["job"])))
            sim.speed = 40.0  # slow enough to cancel mid-drawing
            send("/plotter/start")
            s = rig.until(lambda s: s.get("job") != jobs[-1]["job"] and int(s.get("drawn", 0)) >= 1)
            send("/plotter/start")  # refused: a job is running
            send("/plotter/cancel")
            jobs.append(rig.until(lambda s: s.get("state") == "cancelled"))
            sim.speed = 0.0
            send("/plotter/start")
            s = rig.until(lambda s: s.get("job") not in [j["job"] for j in jobs])
            jobs.append(rig.until(finished(s["job"])))
        except BaseException as e:  # reported below, with the state the rig saw
            errors.append(e)
        finally:
            show.stop.set()

    t = threading.Thread(target=operator, daemon=True)
    t.start()
    show.run()
    t.join(5)
    rig.stop.set()
    assert not errors, f"{errors[0]!r}; jobs so far {jobs}"
    assert len(jobs) == 4 and len({j["job"] for j in jobs}) == 4
    planned = int(jobs[0]["planned"])
    assert planned >= 2 and all(int(j["planned"]) == planned for j in jobs)  # the same drawing, four jobs
    for j in (jobs[0], jobs[1], jobs[3]):  # every path of each completed job, once, in order
        assert _drawn(out, j["job"]) == list(range(planned)) and j["drawn"] == planned
    cancelled = _drawn(out, jobs[2]["job"])
    assert cancelled == list(range(len(cancelled))) and 1 <= len(cancelled) < planned
    assert jobs[2]["drawn"] == len(cancelled)  # the state's count is the robot's own log
    assert "a plot is already running" in show.last_error  # the start sent while a job ran was refused
