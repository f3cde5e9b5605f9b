"""`run.py bridge sim` as a process of its own, for tests that kill a robot mid-job and start it again."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from installation.bridges.simulator import read_journal

ROOT = Path(__file__).resolve().parents[2]


class RobotProcess:
    """`run.py bridge sim` as a process of its own on a fixed port, killed with SIGKILL and started again."""

    def __init__(self, port: int, out: Path, speed_mm_s: float = 2000.0) -> None:
        self.port, self.out, self.speed = port, out, speed_mm_s
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        cmd = [sys.executable, str(ROOT / "run.py"), "bridge", "sim", "--port", str(self.port), "--out", str(self.out)]
        cmd += ["--speed-mm-s", str(self.speed), "--seconds", "120", "--paper-stdin"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self.kills += 1

    def restart(self) -> None:
        self.kill()
        self.start()

    def press_paper_button(self) -> None:
        """The bridge-side "new sheet" input: a line on the bridge's stdin."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(b"\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def journal(self) -> list[dict]:
        return read_journal(self.out)

    def drawn(self, job: str) -> list[int]:
        """Sequence numbers of `job` on paper, in the order the robot logged them."""
        return [r["seq"] for r in self.journal() if r["event"] == "drawn" and r["job"] == job]
