"""The host side of the robot link: streams ordered paths to a robot bridge over UDP with acknowledgements.

A `PlotStreamer` thread owns one UDP socket. It keeps at most `window` paths unacknowledged, resends late
ones, and when the robot goes quiet it says hello again and resumes after the robot's last drawn path.
pause/resume/cancel are forwarded to the robot. Progress is read by the main loop (queue, fraction drawn).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

import numpy as np

from installation.core.osc_protocol import build_message
from installation.core.osc_wire import FramingError, parse_datagram
from installation.core.robot_protocol import Sender, path_messages

log = logging.getLogger(__name__)


class PlotStreamer(threading.Thread):
    def __init__(
        self,
        paths_mm: list[np.ndarray],
        robot: tuple[str, int],
        window: int = 8,
        timeout_s: float = 0.25,
        stall_s: float = 1.0,
        max_s: float = 3600.0,
        first_seq: int = 0,
    ) -> None:
        super().__init__(name="plotter-link", daemon=True)
        self.paths = paths_mm
        self.robot = robot
        self.first_seq = first_seq  # a robot that drew paths 0..k-1 before (an earlier job) takes k next
        self.sender = Sender(first_seq + len(paths_mm), window, timeout_s)
        self.sender.last_drawn = first_seq - 1
        self.stall_s = stall_s
        self.max_s = max_s
        self.stop_event = threading.Event()
        self.sock = self._open_socket()
        self.cancelled = False
        self.datagrams_sent = 0
        self.reconnects = 0
        self.robot_state: list = []

    def _open_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0" if self.robot[0] not in ("127.0.0.1", "localhost") else "127.0.0.1", 0))
        sock.settimeout(0.02)
        return sock

    def _send(self, address: str, args: list | tuple = ()) -> None:
        try:
            self.sock.sendto(build_message(address, args), self.robot)
            self.datagrams_sent += 1
        except OSError as e:
            log.debug("send to robot failed: %s", e)

    def pause(self) -> None:
        self._send("/robot/pause")

    def resume(self) -> None:
        self._send("/robot/resume")

    def cancel(self) -> None:
        self.cancelled = True
        self._send("/robot/cancel")
        self.stop_event.set()

    def run(self) -> None:
        self.serve(lambda: None)

    @property
    def finished(self) -> bool:
        return self.cancelled or self.sender.done

    def serve(self, beat: Callable[[], None]) -> None:
        """Stream until done, cancelled or `max_s`; a closed socket raises, and the next call reopens it and
        resumes after the robot's last acknowledged path (the supervisor makes that call)."""
        if self.sock.fileno() < 0:
            self.sock = self._open_socket()
            self.reconnects += 1
            self.sender.reconnect()
        self._send("/robot/hello")
        last_reply = time.monotonic()
        t_end = time.monotonic() + self.max_s
        while not self.stop_event.is_set() and not self.sender.done and time.monotonic() < t_end:
            beat()
            if self.sock.fileno() < 0:
                raise OSError("the robot link socket was closed")
            now = time.monotonic()
            for seq in self.sender.due(now):
                for address, args in path_messages(seq, self.paths[seq - self.first_seq]):
                    self._send(address, args)
            try:
                data, _ = self.sock.recvfrom(65536)
                for m in parse_datagram(data):  # bounded: a hostile datagram cannot wedge the link
                    self.sender.on_reply(m.address, list(m.args))
                    if m.address == "/robot/state":
                        self.robot_state = list(m.args)
                last_reply = time.monotonic()
            except (TimeoutError, FramingError):
                pass
            except OSError as e:
                log.debug("robot link: %s", e)
            if time.monotonic() - last_reply > self.stall_s:  # the robot went quiet: it may have restarted
                self.reconnects += 1
                self.sender.reconnect()
                self._send("/robot/hello")
                last_reply = time.monotonic()
        self.sock.close()

    @property
    def drawn(self) -> int:
        """Paths of this job the robot reports on paper."""
        return max(0, self.sender.last_drawn - self.first_seq + 1)

    @property
    def progress(self) -> float:
        return self.drawn / len(self.paths) if self.paths else 1.0

    @property
    def queued(self) -> int:
        return self.sender.queued


def robot_next_seq(robot: tuple[str, int], timeout_s: float = 1.0, resume: bool = True) -> int | None:
    """The sequence number a robot will draw next (its last drawn + 1), or None when it does not answer.

    With `resume`, a robot left paused or cancelled by an earlier job is told to resume first.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("127.0.0.1" if robot[0] in ("127.0.0.1", "localhost") else "0.0.0.0", 0))
        sock.settimeout(0.1)
        t_end = time.monotonic() + timeout_s
        while time.monotonic() < t_end:
            for address in ("/robot/resume", "/robot/hello") if resume else ("/robot/hello",):
                sock.sendto(build_message(address), robot)
            try:
                data, _ = sock.recvfrom(65536)
                for m in parse_datagram(data):
                    if m.address == "/robot/state" and len(m.args) >= 2:
                        return int(m.args[1]) + 1
            except (TimeoutError, FramingError, ValueError, TypeError):
                continue
            except OSError as e:  # e.g. connection refused on loopback: nobody listens yet
                log.debug("robot query: %s", e)
                time.sleep(0.1)
        return None
    finally:
        sock.close()
