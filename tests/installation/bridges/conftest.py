"""Real parts for the robot link tests: a lossy UDP proxy thread and robot simulator processes that can be killed
(tests/tools/robot_process.py)."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.tools.robot_process import RobotProcess


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
