"""The GRBL sender against a pseudo-terminal peer that answers like GRBL (ok / error:N, 128-byte buffer)."""

import os
import threading
import tty

import numpy as np
import serial

from installation.bridges.grbl import RX_BUFFER, GrblLink, PenSettings, gcode_for_path


class FakeGrbl(threading.Thread):
    """Reads G-code lines from the pty master, checks the buffer was never overrun, answers ok or error:N."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master = master
        self.lines: list[str] = []
        self.overrun = False
        self.stop = False

    def run(self) -> None:
        buf = b""
        os.write(self.master, b"\r\nGrbl 1.1h ['$' for help]\r\n")
        while not self.stop:
            try:
                chunk = os.read(self.master, 256)
            except OSError:
                return
            buf += chunk
            if len(buf) > RX_BUFFER:  # more unanswered bytes than GRBL can hold
                self.overrun = True
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode().strip()
                self.lines.append(text)
                os.write(self.master, b"error:20\r\n" if "BAD" in text else b"ok\r\n")


def test_character_counting_stream_over_a_pty() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)  # a serial line, not a terminal: no echo, no line editing
    peer = FakeGrbl(master)
    peer.start()
    port = serial.Serial(os.ttyname(slave), 115200, timeout=2)
    try:
        link = GrblLink(port)
        pts = np.column_stack([np.linspace(0, 100, 300), np.sin(np.linspace(0, 9, 300)) * 20 + 50])
        lines = gcode_for_path(pts, PenSettings(mode="servo", up=0, down=900, feed_mm_min=2500))
        link.send([*lines, "BAD LINE"])
        assert peer.lines[: len(lines)] == lines and peer.lines[-1] == "BAD LINE"
        assert link.oks == len(lines) and link.errors == ["error:20"]
        assert not peer.overrun and 0 < link.max_in_flight <= RX_BUFFER
        assert lines[0] == "M3 S0" and lines[2] == "M3 S900" and lines[3].startswith("G1 ")
    finally:
        peer.stop = True
        port.close()
        os.close(master)


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
