"""The host side of the robot link: one job-aware link that every mode driving a robot goes through.

`RobotLink` belongs to a mode (the show, sitter mode) and to one robot address. `start(paths)` makes a new job
(a fresh id, sequence numbers from 0) and returns its `PlotStreamer`, which the mode runs as a thread or under
its supervisor. A streamer owns one UDP socket: it announces the job until the robot names it, keeps at most
`window` paths unacknowledged, resends late ones, repeats pause/resume/cancel/paper until the robot's state shows
them, and when the robot goes quiet it says hello again and resumes after the robot's last drawn path of the job.
`RobotLink.state()` is what the rig sees on /state/plotter/...: the job, its state, drawn and planned counts
(drawn only from the robot's replies).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from installation.core.osc_protocol import build_message
from installation.core.osc_wire import FramingError, parse_datagram
from installation.core.robot_protocol import Sender, new_job_id

log = logging.getLogger(__name__)
HOST_STATES = ("idle", "drawing", "paused", "cancelled", "waiting_for_paper", "lost")
CANCEL_WAIT_S = 30.0  # a cancel the robot never confirms is given up after this long (the next start replaces it)


def read_messages(data: bytes) -> Iterator[tuple[str, list[Any]]]:
    """The (address, args) of every message in one datagram, read by the project's bounded parser (a hostile
    datagram cannot wedge the link); raises FramingError on a malformed one."""
    for m in parse_datagram(data):
        yield m.address, list(m.args)


def _bind_address(robot: tuple[str, int]) -> tuple[str, int]:
    return ("127.0.0.1" if robot[0] in ("127.0.0.1", "localhost") else "0.0.0.0", 0)


class PlotStreamer(threading.Thread):
    """One job on one robot."""

    def __init__(
        self,
        paths_mm: list[np.ndarray],
        robot: tuple[str, int],
        window: int = 8,
        timeout_s: float = 0.25,
        stall_s: float = 1.0,
        max_s: float = 3600.0,
        job: str | None = None,
        new_sheet: bool = False,
    ) -> None:
        super().__init__(name="plotter-link", daemon=True)
        self.paths = paths_mm
        self.robot = robot
        self.sender = Sender(job or new_job_id(), list(paths_mm), new_sheet, window, timeout_s)
        self.stall_s = stall_s
        self.max_s = max_s
        self.stop_event = threading.Event()
        self.sock = self._open_socket()
        self.datagrams_sent = 0
        self.reconnects = 0
        self.quiet = False  # the robot has not answered for stall_s
        self.exited = False  # serve() returned (finished, stopped, or out of time)
        self.robot_state: list = []  # the robot's newest /robot/state arguments
        self._cancel_t: float | None = None

    @property
    def job(self) -> str:
        return self.sender.job

    def _open_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(_bind_address(self.robot))
        sock.settimeout(0.02)
        return sock

    def _send(self, address: str, args: list | tuple = ()) -> None:
        try:
            self.sock.sendto(build_message(address, args), self.robot)
            self.datagrams_sent += 1
        except OSError as e:
            log.debug("send to robot failed: %s", e)

    # -- the operator's wishes (any thread): the serve loop repeats them until the robot shows them ---------
    def pause(self) -> None:
        if self.sender.want == "run":
            self.sender.want = "pause"

    def resume(self) -> None:
        if self.sender.want == "pause":
            self.sender.want = "run"

    def cancel(self) -> None:
        if self.sender.want != "cancel":
            self.sender.want = "cancel"
            self._cancel_t = time.monotonic()

    def paper(self) -> None:
        """The operator confirms that a fresh sheet is in place."""
        self.sender.paper_ok = True

    @property
    def cancelled(self) -> bool:
        return self.sender.want == "cancel"

    @property
    def finished(self) -> bool:
        return self.sender.finished

    def run(self) -> None:
        self.serve(lambda: None)

    def serve(self, beat: Callable[[], None]) -> None:
        """Stream until the job is finished, stopped or `max_s`; a closed socket raises, and the next call reopens
        it and resumes after the robot's last drawn path (the supervisor makes that call)."""
        if self.sock.fileno() < 0:
            self.sock = self._open_socket()
            self.reconnects += 1
            self.sender.reconnect()
        self._send("/robot/hello", [self.job])
        last_reply = time.monotonic()
        t_end = time.monotonic() + self.max_s
        while not self.stop_event.is_set() and not self.sender.finished and time.monotonic() < t_end:
            beat()
            if self.sock.fileno() < 0:
                raise OSError("the robot link socket was closed")
            if self._cancel_t is not None and time.monotonic() - self._cancel_t > CANCEL_WAIT_S:
                log.warning("the robot never confirmed the cancel of job %s", self.job)
                break
            for address, args in self.sender.outgoing(time.monotonic()):
                self._send(address, args)
            if self._receive():
                last_reply = time.monotonic()
                self.quiet = False
            elif time.monotonic() - last_reply > self.stall_s:  # the robot went quiet: it may have restarted
                self.quiet = True
                self.reconnects += 1
                self.sender.reconnect()
                self._send("/robot/hello", [self.job])
                last_reply = time.monotonic()
        self.exited = True
        self.sock.close()

    def _receive(self) -> bool:
        """Read one datagram; True when the robot answered."""
        try:
            data, _ = self.sock.recvfrom(65536)
        except TimeoutError:
            return False
        except OSError as e:
            log.debug("robot link: %s", e)
            return False
        answered = False
        try:
            for address, args in read_messages(data):
                answered |= self.sender.on_reply(address, args)
                if address == "/robot/state":
                    self.robot_state = args
        except (FramingError, ValueError, TypeError, IndexError) as e:  # a malformed or hostile reply: ignore it
            log.debug("robot link: unreadable reply: %s", e)
        return answered

    # -- what the rig sees ----------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        s = self.sender
        if s.ended_how:
            return "cancelled" if s.ended_how == "cancelled" else "idle" if s.ended_how == "done" else "lost"
        if s.done:
            return "idle"
        if self.quiet or s.other_job or (self.exited and not s.finished):
            return "lost"
        if not s.confirmed:
            return "idle"
        return {"done": "idle"}.get(s.robot_state, s.robot_state if s.robot_state in HOST_STATES else "drawing")

    @property
    def drawn(self) -> int:
        """Paths of this job the robot reports on paper."""
        return self.sender.drawn

    @property
    def planned(self) -> int:
        return self.sender.total

    @property
    def progress(self) -> float:
        return self.sender.progress

    @property
    def queued(self) -> int:
        return self.sender.queued


class RobotLink:
    """The one link between a mode and its robot: a new job per drawing, and the state the rig sees."""

    def __init__(
        self,
        robot: tuple[str, int],
        window: int = 8,
        new_sheet: bool = False,
        timeout_s: float = 0.25,
        stall_s: float = 1.0,
        max_s: float = 3600.0,
    ) -> None:
        self.robot = robot
        self.window, self.new_sheet = window, new_sheet
        self.timeout_s, self.stall_s, self.max_s = timeout_s, stall_s, max_s
        self.streamer: PlotStreamer | None = None
        self.jobs: list[str] = []  # every job started on this link, oldest first

    @property
    def busy(self) -> bool:
        """A job is still being streamed (its thread or supervised worker has not returned)."""
        s = self.streamer
        return s is not None and not s.exited and not s.finished

    def start(self, paths_mm: list[np.ndarray], replace: bool = False) -> PlotStreamer:
        """A new job for these paths; the caller runs the streamer (`.start()` or under a supervisor).

        With `replace`, a job still streaming is cancelled (its streamer goes on until the robot confirms);
        without it, a job still streaming is an error."""
        if self.busy and self.streamer is not None:
            if not replace:
                raise RuntimeError("a plot is already running: pause, cancel or wait for it")
            self.streamer.cancel()
        self.streamer = PlotStreamer(
            paths_mm, self.robot, self.window, self.timeout_s, self.stall_s, self.max_s, new_sheet=self.new_sheet
        )
        self.jobs.append(self.streamer.job)
        log.info("plotter job %s: %d paths to %s:%d", self.streamer.job, len(paths_mm), *self.robot)
        return self.streamer

    def command(self, verb: str) -> bool:
        """pause | resume | cancel | paper for the current job; False when there is none."""
        s = self.streamer
        if s is None:
            return False
        {"pause": s.pause, "resume": s.resume, "cancel": s.cancel, "paper": s.paper}[verb]()
        return True

    def stop(self) -> None:
        """The mode is ending: cancel the job in progress and let its streamer end."""
        if self.busy and self.streamer is not None:
            self.streamer.cancel()

    def state(self) -> dict[str, object]:
        """/state/plotter/... keys (without the /state/ prefix)."""
        s = self.streamer
        if s is None:
            return {"plotter/job": "", "plotter/state": "idle", "plotter/drawn": 0, "plotter/planned": 0,
                    "plotter/queue": 0, "plotter/progress": 0.0}  # fmt: skip
        return {
            "plotter/job": s.job,
            "plotter/state": s.state,
            "plotter/drawn": s.drawn,
            "plotter/planned": s.planned,
            "plotter/queue": s.queued,
            "plotter/progress": round(s.progress, 4),
        }


def probe_robot(robot: tuple[str, int], timeout_s: float = 1.0) -> list[Any] | None:
    """The robot's /robot/state arguments (job, state, last_drawn, planned, x, y), or None when it does not answer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(_bind_address(robot))
        sock.settimeout(0.1)
        t_end = time.monotonic() + timeout_s
        while time.monotonic() < t_end:
            sock.sendto(build_message("/robot/hello", [""]), robot)
            try:
                data, _ = sock.recvfrom(65536)
                for address, args in read_messages(data):
                    if address == "/robot/state" and len(args) >= 4:
                        return args
            except (TimeoutError, FramingError, ValueError, TypeError):
                continue
            except OSError as e:  # e.g. connection refused on loopback: nobody listens yet
                log.debug("robot query: %s", e)
                time.sleep(0.1)
        return None
    finally:
        sock.close()
