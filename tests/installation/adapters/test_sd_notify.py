"""The systemd notify protocol against real unix datagram sockets (a path and an abstract name)."""

import os
import socket
import time
from pathlib import Path

import pytest

from installation.adapters.sd_notify import Notifier, socket_address, watchdog_interval


def _receiver(address: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(address)
    s.settimeout(2)
    return s


def _drain(s: socket.socket) -> list[str]:
    out = []
    s.settimeout(0.05)
    try:
        while True:
            out.append(s.recv(4096).decode())
    except TimeoutError:
        return out


def test_ready_watchdog_and_stopping_reach_a_socket_path(tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    rx = _receiver(path)
    n = Notifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
    assert n.enabled and n.interval_s == 0.5  # a quarter of WatchdogSec=2
    assert n.ready("showing")
    assert rx.recv(4096) == b"READY=1\nSTATUS=showing"
    t = 100.0
    sent = [n.watchdog(t + 0.1 * i) for i in range(30)]  # a 10 fps loop for 3 s
    assert sum(sent) == 6 and sent[0]  # bounded: one every 0.5 s, the first at once
    assert _drain(rx) == ["WATCHDOG=1"] * 6
    assert n.stopping() and rx.recv(4096) == b"STOPPING=1"
    n.close()
    rx.close()


def test_an_abstract_socket_name_with_at_is_used(tmp_path: Path) -> None:
    name = f"live-installation-test-{os.getpid()}-{time.monotonic_ns()}"
    rx = _receiver("\0" + name)
    n = Notifier.from_env({"NOTIFY_SOCKET": "@" + name})
    assert n.ready() and rx.recv(4096) == b"READY=1"
    assert n.watchdog() and rx.recv(4096) == b"WATCHDOG=1"
    assert not n.watchdog()  # within the interval: nothing sent
    n.close()
    rx.close()


def test_without_a_socket_everything_is_a_quiet_no_op() -> None:
    n = Notifier.from_env({})
    assert not n.enabled and not n.ready() and not n.watchdog() and not n.stopping()
    assert not Notifier.from_env({"NOTIFY_SOCKET": "relative/path"}).enabled


def test_a_vanished_manager_is_counted_never_raised(tmp_path: Path) -> None:
    path = str(tmp_path / "gone.sock")
    rx = _receiver(path)
    n = Notifier.from_env({"NOTIFY_SOCKET": path})
    rx.close()
    os.unlink(path)
    assert not n.ready() and not n.stopping()
    assert n.errors == 2 and n.sent == 0


def test_a_full_receiver_never_blocks_the_sender(tmp_path: Path) -> None:
    path = str(tmp_path / "full.sock")
    rx = _receiver(path)  # never read
    n = Notifier(socket_address(path), interval_s=0.0)
    t0 = time.monotonic()
    for i in range(5000):
        n.watchdog(float(i))
    assert time.monotonic() - t0 < 30  # a blocking send would hang here for good
    assert n.errors > 0 and n.sent > 0
    rx.close()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, 1.0),
        ({"WATCHDOG_USEC": "10000000"}, 1.0),  # capped at 1 s
        ({"WATCHDOG_USEC": "400000"}, 0.1),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "x"}, 1.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),  # another process is watched
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}, 0.5),
    ],
)
def test_watchdog_interval_from_the_environment(env: dict, expected: float | None) -> None:
    assert watchdog_interval(env, os.getpid()) == expected


def test_socket_address_forms() -> None:
    assert socket_address("/run/user/1000/systemd/notify") == "/run/user/1000/systemd/notify"
    assert socket_address("@abc") == "\0abc"
    assert socket_address("@") is None and socket_address("abc") is None
