"""Several robots drawing the same drawing at once: `[plotter] robots = ["HOST:PORT", ...]`.

`RobotFleet` has RobotLink's face (busy, start, command, stop, state), so the show drives one robot or M the same
way. It keeps one RobotLink per robot: each job on each robot is its own acknowledged stream (own job id, own
socket, own window and resends), so a robot that goes quiet is the only one that waits; when its bridge is
back its streamer says hello again and resumes after that robot's last drawn path, while the others go on.
With one robot, `start` returns that robot's PlotStreamer itself (nothing changes for a single-robot venue);
with more, a `FleetStreamer` that serves all of them, each on its own thread, until every one has ended.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from installation.adapters.plotter_link import PlotStreamer, RobotLink

log = logging.getLogger(__name__)


class _Sockets:
    """`streamer.sock.close()` (the supervisor's release) closes every robot's socket; each reopens on serve."""

    def __init__(self, streamers: list[PlotStreamer]) -> None:
        self.streamers = streamers

    def close(self) -> None:
        for s in self.streamers:
            s.sock.close()


class _StopEvents:
    """`streamer.stop_event.set()` (the show's shutdown) stops every robot's stream."""

    def __init__(self, streamers: list[PlotStreamer]) -> None:
        self.streamers = streamers

    def set(self) -> None:
        for s in self.streamers:
            s.stop_event.set()

    def is_set(self) -> bool:
        return all(s.stop_event.is_set() for s in self.streamers)


class FleetStreamer:
    """One drawing on M robots: M PlotStreamers served together; ends when all have ended."""

    def __init__(self, streamers: list[PlotStreamer]) -> None:
        self.streamers = streamers
        self.sock = _Sockets(streamers)
        self.stop_event = _StopEvents(streamers)
        self._thread: threading.Thread | None = None

    @property
    def job(self) -> str:
        return ",".join(s.job for s in self.streamers)

    @property
    def finished(self) -> bool:
        return all(s.finished for s in self.streamers)

    @property
    def exited(self) -> bool:
        return all(s.exited for s in self.streamers)

    def serve(self, beat: Callable[[], None]) -> None:
        """Each robot's stream on its own thread. A stream whose socket was closed under it (the supervisor's
        release) is served again, so that robot resumes after its last drawn path; one that returned has ended
        (finished, cancelled, or out of time) and is left alone."""
        threads: dict[int, threading.Thread] = {}
        ended: set[int] = set()
        while len(ended) < len(self.streamers):
            beat()
            for i, s in enumerate(self.streamers):
                t = threads.get(i)
                if i not in ended and (t is None or not t.is_alive()):
                    threads[i] = threading.Thread(target=self._serve_one, args=(s, i, ended), daemon=True)
                    threads[i].start()
            time.sleep(0.05)

    @staticmethod
    def _serve_one(s: PlotStreamer, i: int, ended: set[int]) -> None:
        try:
            s.serve(lambda: None)
            ended.add(i)
        except OSError as e:  # the socket was closed under it: the next round reopens it and resumes
            log.info("robot %s:%d stream interrupted (%s): resuming", *s.robot, e)
            time.sleep(0.1)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve, args=(lambda: None,), name="robot-fleet", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def pause(self) -> None:
        for s in self.streamers:
            s.pause()

    def resume(self) -> None:
        for s in self.streamers:
            s.resume()

    def cancel(self) -> None:
        for s in self.streamers:
            s.cancel()

    def paper(self) -> None:
        for s in self.streamers:
            s.paper()


class RobotFleet:
    def __init__(self, robots: list[tuple[str, int]], window: int = 8, new_sheet: bool = False, **kw: float) -> None:
        if not robots:
            raise ValueError("a fleet needs at least one robot")
        self.links = [RobotLink(r, window=window, new_sheet=new_sheet, **kw) for r in robots]
        self.streamer: PlotStreamer | FleetStreamer | None = None

    @property
    def busy(self) -> bool:
        return any(link.busy for link in self.links)

    def start(self, paths_mm: list[np.ndarray], replace: bool = False) -> PlotStreamer | FleetStreamer:
        streamers = [link.start(paths_mm, replace) for link in self.links]
        self.streamer = streamers[0] if len(streamers) == 1 else FleetStreamer(streamers)
        return self.streamer

    def command(self, verb: str) -> bool:
        return all([link.command(verb) for link in self.links])

    def stop(self) -> None:
        for link in self.links:
            link.stop()

    def state(self) -> dict[str, object]:
        """The first robot's /state/plotter/... keys, and one line for all (`robots_line`)."""
        out = self.links[0].state()
        out["plotter/robots"] = robots_line(self.links)
        return out


def robots_line(links: list[RobotLink]) -> str:
    """/state/plotter/robots: `HOST:PORT state drawn/planned; ...`, one entry per robot (drawing show and sitter)."""
    parts = []
    for link in links:
        st = link.state()
        parts.append(f"{link.robot[0]}:{link.robot[1]} {st['plotter/state']} {st['plotter/drawn']}/"
                     f"{st['plotter/planned']}")  # fmt: skip
    return "; ".join(parts)
