"""Real parts for the robot link tests: a lossy UDP proxy thread and a robot simulator process that can be killed."""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from installation.bridges.simulator import read_journal

ROOT = Path(__file__).resolve().parents[3]


class LossyProxy(threading.Thread):
    """Forwards datagrams both ways between the newest client and the robot, dropping `loss` of them,
    duplicating `dup` and holding back `reorder` to send after later ones (seeded)."""

    def __init__(
        self, target: tuple[str, int], seed: int = 0, loss: float = 0.2, dup: float = 0.1, reorder: float = 0.1
    ) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.target = target
        self.client: tuple[str, int] | None = None
        self.rng = random.Random(seed)
        self.loss, self.dup, self.reorder = loss, dup, reorder
        self.held: list[tuple[bytes, tuple[str, int]]] = []
        self.stop = threading.Event()
        self.forwarded = self.dropped = self.duplicated = self.reordered = 0

    @property
    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def _send(self, data: bytes, dest: tuple[str, int]) -> None:
        try:
            self.sock.sendto(data, dest)
            self.forwarded += 1
        except OSError:
            pass  # the robot is down: the datagram is lost, as on a real network

    def _out(self, data: bytes, dest: tuple[str, int]) -> None:
        r = self.rng.random()
        if r < self.loss:
            self.dropped += 1
            return
        r = self.rng.random()
        if r < self.dup:
            self.duplicated += 1
            self._send(data, dest)
        elif r < self.dup + self.reorder:
            self.reordered += 1
            self.held.append((data, dest))
            return
        self._send(data, dest)
        while self.held and self.rng.random() < 0.5:
            self._send(*self.held.pop(self.rng.randrange(len(self.held))))

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                data, src = self.sock.recvfrom(65536)
            except OSError:
                continue
            if src == self.target:
                if self.client is not None:
                    self._out(data, self.client)
            else:
                self.client = src
                self._out(data, self.target)
        self.sock.close()


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


@pytest.fixture
def robot(tmp_path: Path, free_udp_port: int) -> Iterator[RobotProcess]:
    r = RobotProcess(free_udp_port, tmp_path / "robot")
    r.start()
    yield r
    r.stop()


@pytest.fixture
def lossy_proxy(robot: RobotProcess) -> Iterator[LossyProxy]:
    """20 % loss, 10 % duplicates, 10 % reordered, both ways, between the host and `robot`."""
    p = LossyProxy(("127.0.0.1", robot.port), seed=robot.port)
    p.start()
    yield p
    p.stop.set()
    p.join(2)


@pytest.fixture
def robot_factory(tmp_path: Path) -> Iterator[Callable[[int, float], RobotProcess]]:
    """Makes started robot simulator processes (port, speed); all are stopped at the end."""
    made: list[RobotProcess] = []

    def make(port: int, speed_mm_s: float) -> RobotProcess:
        r = RobotProcess(port, tmp_path / f"robot-{len(made)}", speed_mm_s)
        r.start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()
