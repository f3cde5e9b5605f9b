"""The show under a service manager's watchdog: READY/WATCHDOG/STOPPING on a real unix socket, a stuck worker
replaced while frames go on, and SIGTERM ending a show whose archive writer is stuck, with its metrics."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from installation.core.config import load_config
from installation.core.session import PenEvent, Session, write_session
from installation.runtime.show import Show, ShowOptions

ROOT = Path(__file__).resolve().parents[3]


def _sessions(tmp: Path, n: int = 3) -> list[Path]:
    """Short drawings (0.6 s each): at replay speed 4 a work finishes every ~0.3 s."""
    out = []
    for k in range(n):
        ev = [PenEvent("down", 0.0, 200 + 50 * k, 200, 0.8)]
        ev += [PenEvent("move", 0.02 * i, 200 + 50 * k + 15 * i, 200 + 9 * i * (k + 1), 0.8) for i in range(1, 30)]
        ev.append(PenEvent("up", 0.6))
        path = tmp / f"s{k}.jsonl"
        write_session(path, Session(1024, tuple(ev), f"s{k}"))
        out.append(path)
    return out


def _settings(tmp: Path) -> list[str]:
    return [
        'input.source="replay"',
        "input.replay_speed=4",
        "display.fullscreen=false",
        "display.width=320",
        "display.height=200",
        "display.fps=30",
        "osc.port=0",
        "osc.state_out=[]",
        f"archive.root={json.dumps(str(tmp / 'archive'))}",
        f"logging.file={json.dumps(str(tmp / 'logs' / 'i.jsonl'))}",
    ]


def _receiver(address: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(address)
    return s


def _messages(s: socket.socket, timeout: float) -> list[tuple[float, str]]:
    out = []
    s.settimeout(timeout)
    try:
        while True:
            out.append((time.monotonic(), s.recv(4096).decode()))
    except TimeoutError:
        return out


@pytest.mark.slow
def test_show_notifies_ready_watchdog_stopping_and_replaces_a_stuck_inference_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rx = _receiver(str(tmp_path / "notify.sock"))
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # WatchdogSec=1: a WATCHDOG=1 every 0.25 s
    cfg = load_config(None, [*_settings(tmp_path), "supervision.stall_after_s=2"])
    show = Show(cfg, ShowOptions(headless=True, seconds=8.0, sessions=_sessions(tmp_path)))
    marks: dict[str, float] = {}

    def stall() -> None:
        while show.supervisor is None or "inference" not in show.supervisor.workers:
            time.sleep(0.02)
        time.sleep(1.0)
        show.supervisor.stall("inference", 60.0)  # stuck in a call for a minute
        while show.supervisor.workers["inference"].replaced == 0:
            time.sleep(0.02)
        marks["replaced"], marks["ai"] = time.monotonic(), show.metrics.ai_frames

    threading.Thread(target=stall, daemon=True).start()
    got: list[tuple[float, str]] = []  # read as the service manager does, while the show runs
    reader = threading.Thread(target=lambda: got.extend(_messages(rx, 3.0)), daemon=True)
    reader.start()
    m = show.run()
    reader.join(10)
    rx.close()
    texts = [t for _, t in got]
    assert texts[0].startswith("READY=1") and texts[-1] == "STOPPING=1"
    beats = [t for t, x in got if x == "WATCHDOG=1"]
    assert len(beats) >= 10 and set(texts[1:-1]) == {"WATCHDOG=1"}
    assert max(b - a for a, b in zip(beats, beats[1:], strict=False)) < 1.0  # inside WatchdogSec throughout
    assert m["frames"] / len(beats) > 3  # bounded: not one datagram per frame
    assert m["workers"]["inference"]["replaced"] == 1 and m["restarts"] == 0  # once: the fresh one beats
    assert "stalled" in m["workers"]["inference"]["last_error"]
    assert show.metrics.ai_frames > marks["ai"]  # the fresh inference thread answers
    assert (np.asarray(show.metrics.flips) > marks["replaced"]).sum() > 20  # the display never stopped


@pytest.mark.slow
def test_sigterm_ends_a_show_with_a_stuck_archive_writer_and_writes_its_metrics(tmp_path: Path) -> None:
    name = f"live-installation-test-{os.getpid()}-{time.monotonic_ns()}"
    rx = _receiver("\0" + name)  # an abstract socket, as systemd may hand out
    out = tmp_path / "show"
    sets = [*_settings(tmp_path), "supervision.stall_after_s=600"]  # not replaced: works queue behind it
    cmd = [sys.executable, str(ROOT / "benchmarks" / "watchdog_soak.py"), "--child", "--stall", "archive"]
    cmd += ["--stall-after", "0.3", "--source", "replay", "--headless", "--out", str(out)]
    for s in _sessions(tmp_path):
        cmd += ["--session", str(s)]
    for s in sets:
        cmd += ["--set", s]
    env = {**os.environ, "NOTIFY_SOCKET": "@" + name, "SDL_VIDEODRIVER": "dummy"}
    log = (tmp_path / "stderr.log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        rx.settimeout(120)
        assert rx.recv(4096).startswith(b"READY=1")
        assert proc.stdout is not None and "stalled archive" in proc.stdout.readline()
        time.sleep(2.0)  # replayed drawings finish and queue up behind the stuck writer
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)  # generous here; the time it takes is measured by benchmarks/watchdog_soak.py
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert rc == 0, (tmp_path / "stderr.log").read_text()[-2000:]
    assert "STOPPING=1" in [t for _, t in _messages(rx, 0.2)]
    rx.close()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frames"] > 10 and "sup-archive" in metrics["threads_left_behind"]
    assert metrics["works_finished"] > metrics["works_archived"]  # works were waiting: the flush was bounded
