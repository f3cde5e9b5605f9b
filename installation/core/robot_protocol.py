"""The robot streaming protocol over OSC/UDP, with jobs, as pure messages and state machines (no sockets here).

Every drawing is a job with an id unique across restarts of either side (`new_job_id`: 64 random bits as 16
hex digits, sent as a string). Sequence numbers count paths within a job, from 0.

Host → robot
    /robot/start  s job, i planned, i new_sheet   begin job `job` of `planned` paths; with new_sheet 1 the robot
                                                  first waits for a fresh sheet if its paper has ink on it
    /robot/path   s job, i seq, i chunk, i chunks, f x0, f y0, f x1, f y1, ...   points in paper millimetres
    /robot/hello  s job                           asks for /robot/state (on (re)connect; job may be "")
    /robot/pause  s job | /robot/resume s job | /robot/cancel s job
    /robot/paper  s job                           the new sheet for `job` is in place (host-side confirmation)
Robot → host (to the address the host's datagrams came from)
    /robot/ack    s job, i seq                    every chunk of path `seq` is in the robot's queue (again on repeats)
    /robot/drawn  s job, i seq                    path `seq` of `job` is on paper
    /robot/state  s job, s state, i last_drawn, i planned, f x_mm, f y_mm
                  the robot's current job ("" for none) and its state:
                  idle | drawing | paused | waiting_for_paper | cancelled | done
    /robot/ended  s job, s how, i last_drawn, i planned    answer to any message naming a job that is over and
                  no longer current; how: done | cancelled | replaced

Rules. A start naming the current job, or any repeat, changes nothing and is answered with /robot/state. A start
naming a new job ends the current one (replaced, when it was neither done nor cancelled) and the new job begins
with nothing drawn: it never inherits the old job's numbers. Paths are drawn strictly in sequence order; chunks of
paths already drawn or queued are acknowledged and not kept, so lost, duplicated and reordered datagrams neither
lose a path nor draw one twice. Cancel empties the queue and ends the job (nothing more of it is drawn; the next
start is a new job); a cancel naming a job the robot never began marks it over, so a late start of it is
refused. Pause holds the pen after the path in progress. While waiting for paper nothing is drawn until
/robot/paper names the job or someone confirms at the robot (a key or button on the bridge). Control messages are
level-triggered: the host repeats them until /robot/state shows their effect. The robot journals jobs, controls and
drawn paths before answering, so a robot restarted mid-job resumes that job where its paper left off.

The host keeps at most `window` paths unacknowledged, resends a path's chunks when its acknowledgement is late, and
after silence says hello again and resumes after the robot's `last_drawn` for the job. The host's drawn count comes
only from the robot's /robot/drawn, /robot/state and /robot/ended.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CHUNK_POINTS = 60  # points per datagram: about 500 bytes, well under any UDP path MTU
ROBOT_STATES = ("idle", "drawing", "paused", "waiting_for_paper", "cancelled", "done")
Reply = tuple[str, list[Any]]


def new_job_id() -> str:
    """A job id that no restart of either side will repeat: 64 random bits, 16 hex digits."""
    return secrets.token_hex(8)


def path_messages(job: str, seq: int, points: np.ndarray) -> list[Reply]:
    """One path as (address, args) chunks."""
    pts = np.asarray(points, float)
    n = max(1, -(-len(pts) // CHUNK_POINTS))
    out = []
    for k in range(n):
        part = pts[k * CHUNK_POINTS : (k + 1) * CHUNK_POINTS]
        out.append(("/robot/path", [job, seq, k, n, *(float(v) for v in part.ravel())]))
    return out


@dataclass
class Ended:
    how: str  # done | cancelled | replaced
    last_drawn: int
    planned: int


@dataclass
class Receiver:
    """Robot side: the current job, chunk assembly, what to acknowledge and what to draw next.

    Every change worth keeping is also queued as a journal event (`take_events`): the bridge writes those to disk
    before it answers, and `apply` replays them after a restart.
    """

    job: str = ""
    planned: int = 0
    last_drawn: int = -1
    paused: bool = False
    cancelled: bool = False
    waiting_paper: bool = False
    sheet: int = 0  # sheets of paper used so far (0: the first)
    ink_on_sheet: bool = False
    ended: dict[str, Ended] = field(default_factory=dict)
    ready: dict[int, np.ndarray] = field(default_factory=dict)  # complete paths waiting to be drawn
    _parts: dict[int, dict[int, np.ndarray]] = field(default_factory=dict)
    _events: list[dict[str, Any]] = field(default_factory=list)

    # -- state ----------------------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        if not self.job:
            return "idle"
        if self.cancelled:
            return "cancelled"
        if self.last_drawn >= self.planned - 1:
            return "done"
        if self.paused:
            return "paused"
        if self.waiting_paper:
            return "waiting_for_paper"
        return "drawing"

    def status(self, x: float = 0.0, y: float = 0.0) -> list[Any]:
        return [self.job, self.state, self.last_drawn, self.planned, float(x), float(y)]

    def take_events(self) -> list[dict[str, Any]]:
        out, self._events = self._events, []
        return out

    # -- journal --------------------------------------------------------------------------------------------
    def apply(self, ev: dict[str, Any]) -> None:
        """One journal event (live or replayed after a restart)."""
        kind = ev["event"]
        if kind == "start":
            if self.job:
                how = "cancelled" if self.cancelled else "done" if self.state == "done" else "replaced"
                self.ended[self.job] = Ended(how, self.last_drawn, self.planned)
            self.job, self.planned, self.last_drawn = str(ev["job"]), int(ev["planned"]), -1
            self.paused = self.cancelled = False
            self.waiting_paper = bool(ev.get("new_sheet")) and self.ink_on_sheet
            self._clear_queue()
        elif kind == "forget":  # cancelled before it began here: a late start of it must not begin it
            self.ended.setdefault(str(ev["job"]), Ended("cancelled", -1, 0))
        elif ev.get("job") != self.job:
            return
        elif kind == "drawn":
            self.last_drawn = max(self.last_drawn, int(ev["seq"]))
            self.ink_on_sheet = True
        elif kind == "pause":
            self.paused = True
        elif kind == "resume":
            self.paused = False
        elif kind == "cancel":
            self.cancelled = True
            self._clear_queue()
        elif kind == "paper":
            self.waiting_paper, self.ink_on_sheet = False, False
            self.sheet += 1

    def _record(self, ev: dict[str, Any]) -> None:
        self.apply(ev)
        self._events.append(ev)

    def _clear_queue(self) -> None:
        self.ready.clear()
        self._parts.clear()

    # -- messages -------------------------------------------------------------------------------------------
    def on_message(self, address: str, args: list[Any], x: float = 0.0, y: float = 0.0) -> list[Reply]:
        """Any host message → the replies to send (after the journal events are on disk)."""
        if address == "/robot/path":
            return self.on_path(args, x, y)
        job = str(args[0]) if args and isinstance(args[0], str) else ""
        if job and job != self.job and job in self.ended:
            e = self.ended[job]
            return [("/robot/ended", [job, e.how, e.last_drawn, e.planned])]
        if address == "/robot/cancel" and job and job != self.job:
            self._record({"event": "forget", "job": job})
            e = self.ended[job]
            return [("/robot/ended", [job, e.how, e.last_drawn, e.planned])]
        if address == "/robot/start" and len(args) >= 2 and job:
            if job != self.job:
                new_sheet = bool(args[2]) if len(args) >= 3 else False
                self._record({"event": "start", "job": job, "planned": max(0, int(args[1])), "new_sheet": new_sheet})
        elif job and job == self.job and not self.cancelled:
            verb = address.rsplit("/", 1)[-1]
            if verb == "pause" and not self.paused:
                self._record({"event": "pause", "job": job})
            elif verb == "resume" and self.paused:
                self._record({"event": "resume", "job": job})
            elif verb == "cancel":
                self._record({"event": "cancel", "job": job})
            elif verb == "paper" and self.waiting_paper:
                self._record({"event": "paper", "job": job})
        return [("/robot/state", self.status(x, y))]

    def paper_changed(self) -> bool:
        """Someone at the robot confirmed a fresh sheet (a key or button on the bridge); False when not waiting."""
        if not (self.job and self.waiting_paper):
            return False
        self._record({"event": "paper", "job": self.job})
        return True

    def on_path(self, args: list[Any], x: float = 0.0, y: float = 0.0) -> list[Reply]:
        """A /robot/path chunk → replies (an ack when the path is complete or already known)."""
        if len(args) < 6 or (len(args) - 4) % 2 or not isinstance(args[0], str):
            return [("/robot/state", self.status(x, y))]
        job, seq, k, n = args[0], int(args[1]), int(args[2]), int(args[3])
        if job != self.job:
            e = self.ended.get(job)
            return (
                [("/robot/ended", [job, e.how, e.last_drawn, e.planned])]
                if e
                else [("/robot/state", self.status(x, y))]
            )
        if self.cancelled or not 0 <= seq < self.planned or not 0 <= k < n:
            return [("/robot/state", self.status(x, y))]
        if seq <= self.last_drawn or seq in self.ready:
            return [("/robot/ack", [job, seq])]  # a repeat: acknowledge again, keep nothing
        parts = self._parts.setdefault(seq, {})
        parts[k] = np.asarray(args[4:], float).reshape(-1, 2)
        if len(parts) >= n and all(i in parts for i in range(n)):
            del self._parts[seq]
            self.ready[seq] = np.vstack([parts[i] for i in range(n)])
            return [("/robot/ack", [job, seq])]
        return []

    def next_to_draw(self) -> tuple[int, np.ndarray] | None:
        if self.state != "drawing":
            return None
        seq = self.last_drawn + 1
        return (seq, self.ready[seq]) if seq in self.ready else None

    def drawn_event(self, seq: int, points: np.ndarray) -> dict[str, Any]:
        """The journal row for a path about to count as drawn (write it, then call `drawn`)."""
        return {
            "event": "drawn",
            "job": self.job,
            "seq": seq,
            "sheet": self.sheet,
            "points": np.round(points, 3).tolist(),
        }

    def drawn(self, seq: int) -> Reply:
        self.ready.pop(seq, None)
        self.apply({"event": "drawn", "job": self.job, "seq": seq})
        return ("/robot/drawn", [self.job, seq])


@dataclass
class Sender:
    """Host side of one job: what to (re)send now, given the robot's replies and a clock.

    `want` is what the operator asked for (run, pause, cancel); control messages are repeated every `timeout_s`
    until the robot's reported state shows them. Counts come only from the robot's replies.
    """

    job: str
    paths: list[np.ndarray]
    new_sheet: bool = False
    window: int = 8
    timeout_s: float = 0.25
    want: str = "run"  # run | pause | cancel
    paper_ok: bool = False  # the operator confirmed a fresh sheet at the host
    confirmed: bool = False  # the robot has named this job as its current one
    robot_state: str = ""  # the robot's state for this job, as last reported
    ended_how: str = ""  # done | cancelled | replaced once the robot reports the job over
    other_job: str = ""  # the robot reported a different current job after confirming ours
    acked: set[int] = field(default_factory=set)
    last_drawn: int = -1
    _sent_at: dict[Any, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.paths)

    def _due(self, key: Any, now: float) -> bool:
        if now - self._sent_at.get(key, -1e9) >= self.timeout_s:
            self._sent_at[key] = now
            return True
        return False

    def outgoing(self, now: float) -> list[Reply]:
        """Messages to send now."""
        if self.finished:
            return []
        j = self.job
        if self.want == "cancel":
            return [("/robot/cancel", [j])] if self._due("cancel", now) else []
        if not self.confirmed:
            start = ("/robot/start", [j, self.total, int(self.new_sheet)])
            return [start] if self._due("start", now) else []
        out: list[Reply] = []
        st = self.robot_state
        if self.want == "pause" and st not in ("paused", "done") and self._due("pause", now):
            out.append(("/robot/pause", [j]))
        if self.want == "run" and st == "paused" and self._due("resume", now):
            out.append(("/robot/resume", [j]))
        if self.paper_ok and st == "waiting_for_paper" and self._due("paper", now):
            out.append(("/robot/paper", [j]))
        in_flight = 0
        for seq in range(self.last_drawn + 1, self.total):
            if seq in self.acked:
                continue
            in_flight += 1
            if in_flight > self.window:
                break
            if self._due(seq, now):
                out += path_messages(j, seq, self.paths[seq])
        return out

    def on_reply(self, address: str, args: list[Any]) -> bool:
        """One robot message; True when it was about this job (the robot is answering us)."""
        if not args or not isinstance(args[0], str):
            return False
        job = args[0]
        if address == "/robot/state" and len(args) >= 4:
            if job != self.job:
                if self.confirmed and not self.finished:
                    self.other_job = job  # the robot forgot or replaced our job
                return True  # the robot is alive, though not on our job
            self.confirmed, self.other_job = True, ""
            self.robot_state = str(args[1])
            self.last_drawn = min(max(self.last_drawn, int(args[2])), self.total - 1)
            if self.robot_state == "cancelled":
                self.ended_how = "cancelled"
            return True
        if job != self.job:
            return False
        if address == "/robot/ack" and len(args) >= 2:
            self.acked.add(int(args[1]))
        elif address == "/robot/drawn" and len(args) >= 2:
            self.confirmed = True
            self.last_drawn = min(max(self.last_drawn, int(args[1])), self.total - 1)
        elif address == "/robot/ended" and len(args) >= 3:
            self.ended_how = str(args[1])
            self.last_drawn = min(max(self.last_drawn, int(args[2])), self.total - 1)
        return True

    def reconnect(self) -> None:
        """After losing the robot: forget acknowledgements of undrawn paths (its queue may be gone)."""
        self.acked = {s for s in self.acked if s <= self.last_drawn}
        self._sent_at.clear()

    @property
    def done(self) -> bool:
        return self.last_drawn >= self.total - 1

    @property
    def finished(self) -> bool:
        """Nothing more will be drawn of this job: all drawn, cancelled and confirmed, or over at the robot."""
        return self.done or bool(self.ended_how)

    @property
    def drawn(self) -> int:
        return self.last_drawn + 1

    @property
    def progress(self) -> float:
        return self.drawn / self.total if self.total else 1.0

    @property
    def queued(self) -> int:
        return self.total - self.drawn
