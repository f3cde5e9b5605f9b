"""The systemd notify protocol (sd_notify(3)), written by hand: no dependency, no libsystemd.

A service manager that starts the show with `Type=notify` puts a unix datagram socket's address in
$NOTIFY_SOCKET (a path, or an abstract name written with a leading '@'); each message is one datagram of
`KEY=VALUE` lines. The show sends `READY=1` once its first frame is on screen, `WATCHDOG=1` from its main
loop (at most once per `interval_s`: a quarter of $WATCHDOG_USEC, at most 1 s, so a 60 fps loop sends
1 datagram a second, not 60), and `STOPPING=1` when it starts to shut down. With `WatchdogSec` set, a main
loop that stops (a frozen process) misses its WATCHDOG=1 and systemd kills and restarts the show.

Without $NOTIFY_SOCKET every call is a no-op. A send never blocks and never raises: a vanished or full
socket is logged once and counted in `errors`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


def socket_address(text: str) -> str | None:
    """$NOTIFY_SOCKET → an AF_UNIX address: '@name' is the abstract '\\0name'; a relative path is refused."""
    if len(text) > 1 and text.startswith("@"):
        return "\0" + text[1:]
    if text.startswith("/"):
        return text
    return None


def watchdog_interval(env: Mapping[str, str], pid: int) -> float | None:
    """Seconds between WATCHDOG=1 messages, from $WATCHDOG_USEC (None: this process is not watched).

    Without $WATCHDOG_USEC (the manager did not say) the loop still sends one a second; with $WATCHDOG_PID
    naming another process, none."""
    wpid = env.get("WATCHDOG_PID", "")
    if wpid and wpid != str(pid):
        return None
    usec = env.get("WATCHDOG_USEC", "")
    if not usec:
        return 1.0
    try:
        seconds = int(usec) / 1e6
    except ValueError:
        return 1.0
    return min(1.0, max(0.02, seconds / 4)) if seconds > 0 else None


class Notifier:
    def __init__(self, address: str | None, interval_s: float | None = 1.0) -> None:
        self.address = address
        self.interval_s = interval_s
        self.sent = 0
        self.errors = 0
        self.ready_sent = False  # READY=1 was attempted (once is enough: systemd does not want it again)
        self._last_watchdog = -float("inf")
        self._sock: socket.socket | None = None
        if address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if env is None else env
        raw = env.get("NOTIFY_SOCKET", "")
        address = socket_address(raw) if raw else None
        if raw and address is None:
            log.warning("NOTIFY_SOCKET=%r is not a unix socket path or @name: no service notifications", raw)
        n = cls(address, watchdog_interval(env, os.getpid()))
        if address is not None:
            log.info("service notifications to %s (watchdog every %s s)", raw, n.interval_s)
        return n

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, message: str) -> bool:
        if self._sock is None or self.address is None:
            return False
        try:
            self._sock.sendto(message.encode("utf-8"), self.address)
        except OSError as e:  # the manager is gone or its queue is full: the show goes on
            self.errors += 1
            if self.errors == 1 or self.errors % 1000 == 0:
                log.warning("service notification failed (%d so far): %s", self.errors, e)
            return False
        self.sent += 1
        return True

    def ready(self, status: str = "") -> bool:
        self.ready_sent = True
        return self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def watchdog(self, now: float | None = None) -> bool:
        """WATCHDOG=1 if `interval_s` has passed since the last one (call it every frame)."""
        if self._sock is None or self.interval_s is None:
            return False
        now = time.monotonic() if now is None else now
        if now - self._last_watchdog < self.interval_s:
            return False
        self._last_watchdog = now
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
