"""The GRBL sender and bridge against a pseudo-terminal GRBL (installation/bridges/grbl_sim.py): ok / error:N, the
128-byte buffer, a 15-block planner, realtime `?` status reports, and motion that takes its modelled time."""

import socket
import threading
import time
from pathlib import Path

import numpy as np
import serial

from installation.adapters.plotter_link import read_messages
from installation.bridges.grbl import RX_BUFFER, GrblBridge, GrblLink, PenSettings, gcode_for_path
from installation.bridges.grbl_sim import GrblSimulator
from installation.core.osc_protocol import build_message
from installation.core.robot_protocol import new_job_id, path_messages


def _machine() -> tuple[GrblSimulator, serial.Serial]:
    sim = GrblSimulator(rapid_mm_min=6000.0)
    sim.start()
    return sim, serial.Serial(sim.port_name, 115200, timeout=2)


def _length(pts: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())


def test_character_counting_stream_over_a_pty() -> None:
    sim, port = _machine()
    try:
        link = GrblLink(port)
        pts = np.column_stack([np.linspace(0, 100, 300), np.sin(np.linspace(0, 9, 300)) * 20 + 50])
        lines = gcode_for_path(pts, PenSettings(mode="servo", up=0, down=900, feed_mm_min=60000))
        link.send([*lines, "BAD LINE"])
        assert sim.lines[: len(lines)] == lines and sim.lines[-1] == "BAD LINE"
        assert link.oks == len(lines) and link.errors == ["error:20"]
        assert not sim.overrun and 0 < link.max_in_flight <= RX_BUFFER
        assert lines[0] == "M3 S0" and lines[2] == "M3 S900" and lines[3].startswith("G1 ")
    finally:
        port.close()
        sim.close()


def test_drawn_follows_the_modelled_motion_not_the_accepted_lines() -> None:
    """A 60 mm path at 2400 mm/min (40 mm/s): GRBL takes its 13 lines at once (the planner holds 15 blocks), then
    moves for 1.5 s; wait_idle returns with the motion's end, from GRBL's own status reports."""
    sim, port = _machine()
    try:
        link = GrblLink(port, status_hz=20)
        pts = np.column_stack([np.linspace(10, 70, 12), np.full(12, 20.0)])  # from (10, 20): travel first
        lines = gcode_for_path(pts, PenSettings(mode="z", up=5, down=0, feed_mm_min=2400, travel_mm_min=6000))
        t0 = time.monotonic()
        link.send(lines)
        accepted = time.monotonic()
        waited = link.wait_idle()
        done = time.monotonic()
        travel = (np.hypot(10, 20) + 15) / 6000 * 60  # G0 to the start and the pen (Z 5 mm up, down, up): rapid
        motion = _length(pts) / 2400 * 60 + travel
        assert sim.lines == lines and not sim.overrun
        assert accepted - t0 < 0.3 * motion  # the lines were in the planner long before the pen was done
        assert abs((sim.motion_end - t0) - motion) < 0.15  # the simulator modelled what the G-code asks
        assert done >= sim.motion_end  # drawn only once the machine had finished ...
        assert done - sim.motion_end < 0.35  # ... and within a few status polls of it
        assert waited > 0.6 * motion and link.state == "Idle" and link.planner_free == link.planner_free_max == 15
        assert sim.status_queries >= motion * 10  # it asked GRBL, at 20 Hz
    finally:
        port.close()
        sim.close()


def test_bridge_reports_drawn_when_grbl_is_idle(tmp_path: Path) -> None:
    """The whole GRBL bridge over UDP: /robot/drawn for each path comes when the simulated machine has moved it."""
    sim = GrblSimulator()
    sim.start()
    pen = PenSettings(mode="z", up=5, down=0, feed_mm_min=3000, travel_mm_min=6000)
    bridge = GrblBridge(sim.port_name, 115200, pen, host="127.0.0.1", port=0, out=tmp_path / "robot",
                        paper_mm=(210.0, 297.0), speed_mm_s=0.0)  # fmt: skip
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            bridge.step()

    serving = threading.Thread(target=serve, daemon=True)
    serving.start()
    host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host.bind(("127.0.0.1", 0))
    host.settimeout(0.1)
    to = ("127.0.0.1", bridge.port)
    job = new_job_id()
    paths = [np.array([[20.0, 20.0], [70.0, 20.0]]), np.array([[70.0, 30.0], [20.0, 30.0], [20.0, 80.0]])]
    try:
        host.sendto(build_message("/robot/start", [job, len(paths), 0]), to)
        t0 = time.monotonic()
        for seq, pts in enumerate(paths):
            for address, args in path_messages(job, seq, pts):
                host.sendto(build_message(address, args), to)
        drawn: dict[int, float] = {}
        end = time.monotonic() + 15
        while len(drawn) < len(paths) and time.monotonic() < end:
            try:
                data = host.recv(65536)
            except OSError:
                continue
            for address, args in read_messages(data):
                if address == "/robot/drawn" and args[0] == job:
                    drawn.setdefault(int(args[1]), time.monotonic() - t0)
        # the modelled machine: travel and the pen (Z 5 mm: up, down, up) at 6000 mm/min, drawing at 3000
        first = (np.hypot(20, 20) + 15) / 100 + 50 / 50
        second = first + (10 + 10) / 100 + 100 / 50
        assert sorted(drawn) == [0, 1], drawn
        assert first - 0.05 <= drawn[0] < first + 0.6, (drawn, first)
        assert second - 0.05 <= drawn[1] < second + 0.6, (drawn, second)
    finally:
        stop.set()
        serving.join(10)
        bridge.close()
        host.close()
        sim.close()


def test_z_pen_gcode() -> None:
    lines = gcode_for_path(np.array([[1.0, 2.0], [3.0, 4.0]]), PenSettings(mode="z", up=5, down=0))
    assert lines == ["G0 Z5.000", "G0 X1.000 Y2.000 F6000", "G0 Z0.000", "G1 X3.000 Y4.000 F3000", "G0 Z5.000"]


def test_bridge_verbs_fail_cleanly_without_hardware(tmp_path) -> None:  # noqa: ANN001
    import subprocess
    import sys
    from pathlib import Path

    run = [sys.executable, str(Path(__file__).resolve().parents[3] / "run.py"), "bridge"]
    r = subprocess.run([*run, "axidraw", "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "pyaxidraw" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([*run, "grbl", "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "needs --serial" in r.stderr
    r = subprocess.run(
        [*run, "grbl", "--serial", str(tmp_path / "ttyNONE"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "cannot open serial port" in r.stderr and "Traceback" not in r.stderr
