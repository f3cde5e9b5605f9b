"""The robot streaming protocol over OSC/UDP, as pure messages and state machines (no sockets here).

Host → robot
    /robot/path  i seq, i chunk, i chunks, f x0, f y0, f x1, f y1, ...   points in paper millimetres
    /robot/hello                       asks for /robot/state (sent on (re)connect)
    /robot/pause | /robot/resume | /robot/cancel
Robot → host (to the address the host's datagrams came from)
    /robot/ack   i seq                 every chunk of path `seq` is in the robot's queue (sent again on repeats)
    /robot/drawn i seq                 path `seq` is on paper
    /robot/state s state, i last_drawn, f x_mm, f y_mm     state: idle | drawing | paused | cancelled

Sequence numbers start at 0 and are drawn strictly in order. The robot keeps the last drawn sequence number
across restarts (its paper remembers), ignores chunks of paths it has drawn, and acknowledges repeats, so
lost, duplicated and reordered datagrams neither lose a path nor draw one twice. The host keeps at most
`window` paths unacknowledged, resends a path's chunks when its acknowledgement is late, and on reconnect
resumes after the robot's `last_drawn`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

CHUNK_POINTS = 60  # points per datagram: about 500 bytes, well under any UDP path MTU


def path_messages(seq: int, points: np.ndarray) -> list[tuple[str, list[Any]]]:
    """One path as (address, args) chunks."""
    pts = np.asarray(points, float)
    n = max(1, -(-len(pts) // CHUNK_POINTS))
    out = []
    for k in range(n):
        part = pts[k * CHUNK_POINTS : (k + 1) * CHUNK_POINTS]
        out.append(("/robot/path", [seq, k, n, *(float(v) for v in part.ravel())]))
    return out


@dataclass
class Receiver:
    """Robot side: assembles chunks, decides what to acknowledge and what to draw next."""

    last_drawn: int = -1
    state: str = "idle"
    _parts: dict[int, dict[int, np.ndarray]] = field(default_factory=dict)
    _counts: dict[int, int] = field(default_factory=dict)
    ready: dict[int, np.ndarray] = field(default_factory=dict)  # complete paths waiting to be drawn

    def on_path(self, args: list[Any]) -> list[tuple[str, list[Any]]]:
        """A /robot/path chunk → replies (an ack when the path is complete or already known)."""
        if len(args) < 5 or (len(args) - 3) % 2:
            return [("/robot/state", self.status())]
        seq, k, n = int(args[0]), int(args[1]), int(args[2])
        if seq <= self.last_drawn or seq in self.ready:
            return [("/robot/ack", [seq])]  # a repeat: acknowledge again, keep nothing
        self._counts[seq] = n
        self._parts.setdefault(seq, {})[k] = np.asarray(args[3:], float).reshape(-1, 2)
        if len(self._parts[seq]) == n:
            parts = self._parts.pop(seq)
            self._counts.pop(seq)
            self.ready[seq] = np.vstack([parts[i] for i in range(n)])
            return [("/robot/ack", [seq])]
        return []

    def next_to_draw(self) -> tuple[int, np.ndarray] | None:
        if self.state in ("paused", "cancelled"):
            return None
        seq = self.last_drawn + 1
        return (seq, self.ready[seq]) if seq in self.ready else None

    def drawn(self, seq: int) -> tuple[str, list[Any]]:
        self.ready.pop(seq, None)
        self.last_drawn = seq
        return ("/robot/drawn", [seq])

    def on_control(self, address: str) -> None:
        if address == "/robot/pause":
            self.state = "paused"
        elif address == "/robot/resume":
            self.state = "idle"
        elif address == "/robot/cancel":
            self.state = "cancelled"
            self.ready.clear()
            self._parts.clear()
            self._counts.clear()

    def status(self, x: float = 0.0, y: float = 0.0) -> list[Any]:
        return [self.state, self.last_drawn, float(x), float(y)]


@dataclass
class Sender:
    """Host side: which paths to (re)send now, given acknowledgements and a clock."""

    total: int
    window: int = 8
    timeout_s: float = 0.25
    acked: set[int] = field(default_factory=set)
    last_drawn: int = -1
    _sent_at: dict[int, float] = field(default_factory=dict)

    def due(self, now: float) -> list[int]:
        """Sequence numbers to send (or resend) now."""
        first = self.last_drawn + 1
        out = []
        in_flight = 0
        for seq in range(first, self.total):
            if seq in self.acked:
                continue
            in_flight += 1
            if in_flight > self.window:
                break
            if now - self._sent_at.get(seq, -1e9) >= self.timeout_s:
                out.append(seq)
                self._sent_at[seq] = now
        return out

    def on_reply(self, address: str, args: list[Any]) -> None:
        if address == "/robot/ack" and args:
            self.acked.add(int(args[0]))
        elif address == "/robot/drawn" and args:
            self.last_drawn = max(self.last_drawn, int(args[0]))
        elif address == "/robot/state" and len(args) >= 2:
            self.last_drawn = max(self.last_drawn, int(args[1]))

    def reconnect(self) -> None:
        """After losing the robot: forget acknowledgements of undrawn paths (its queue may be gone)."""
        self.acked = {s for s in self.acked if s <= self.last_drawn}
        self._sent_at.clear()

    @property
    def done(self) -> bool:
        return self.last_drawn >= self.total - 1

    @property
    def progress(self) -> float:
        return (self.last_drawn + 1) / self.total if self.total else 1.0

    @property
    def queued(self) -> int:
        return self.total - (self.last_drawn + 1)
