"""The robot link end to end: a lossy UDP link and a simulator killed mid-drawing still give every path once."""

import contextlib
import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from installation.adapters.plotter_link import PlotStreamer

ROOT = Path(__file__).resolve().parents[3]


class LossyProxy(threading.Thread):
    """Forwards datagrams both ways, dropping, duplicating and reordering some (seeded)."""

    def __init__(self, target: tuple[str, int], seed: int = 0) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.target = target
        self.client: tuple[str, int] | None = None
        self.rng = random.Random(seed)
        self.held: list[tuple[bytes, tuple[str, int]]] = []
        self.stop = threading.Event()
        self.dropped = self.duplicated = self.reordered = 0

    @property
    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def _out(self, data: bytes, dest: tuple[str, int]) -> None:
        r = self.rng.random()
        if r < 0.15:
            self.dropped += 1
            return
        if r < 0.25:
            self.duplicated += 1
            self.sock.sendto(data, dest)
        if r < 0.35:
            self.reordered += 1
            self.held.append((data, dest))
            return
        self.sock.sendto(data, dest)
        while self.held and self.rng.random() < 0.5:
            self.sock.sendto(*self.held.pop(0))

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


def _sim(port: int, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "bridge",
            "sim",
            "--port",
            str(port),
            "--out",
            str(out),
            "--speed-mm-s",
            "3000",
            "--seconds",
            "60",
        ],
        stderr=subprocess.DEVNULL,
    )


def _drawn(out: Path) -> list[dict]:
    if not (out / "drawn.jsonl").is_file():
        return []
    rows = []
    for line in (out / "drawn.jsonl").read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a line cut by the kill
            rows.append(json.loads(line))
    return rows


@pytest.mark.slow
def test_lossy_link_and_killed_bridge_draw_every_path_exactly_once(tmp_path: Path, free_udp_port: int) -> None:
    rng = np.random.default_rng(1)
    plan = [
        rng.uniform(20, 180, 2) + np.cumsum(rng.normal(0, 3, (int(rng.integers(2, 150)), 2)), axis=0) for _ in range(80)
    ]
    port, out = free_udp_port, tmp_path / "robot"
    sim = _sim(port, out)
    proxy = LossyProxy(("127.0.0.1", port))
    proxy.start()
    streamer = PlotStreamer(plan, proxy.address, window=6, timeout_s=0.1, stall_s=0.6, max_s=50)
    streamer.start()
    try:
        end = time.monotonic() + 20
        while len(_drawn(out)) < 25 and time.monotonic() < end:
            time.sleep(0.02)
        sim.send_signal(signal.SIGKILL)  # the bridge dies mid-drawing
        sim.wait(5)
        killed_at = len(_drawn(out))
        time.sleep(0.3)
        sim = _sim(port, out)  # and comes back, its paper record intact
        streamer.join(timeout=45)
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(5)
        proxy.stop.set()
    assert 0 < killed_at < len(plan)
    assert streamer.sender.done
    rows = _drawn(out)
    assert [r["seq"] for r in rows] == list(range(len(plan)))  # each path once, in order
    for r, p in zip(rows, plan, strict=True):
        assert np.allclose(np.asarray(r["points"]), p, atol=2e-3)
    assert proxy.dropped and proxy.duplicated and proxy.reordered and streamer.reconnects >= 1
    assert (out / "paper.png").is_file()
