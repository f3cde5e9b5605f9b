"""A GRBL 1.1 stand-in on a pseudo-terminal, with motion that takes time: the hardware edge for tests and trials.

`GrblSimulator().start()` opens a pty pair and answers on it as GRBL does (`port_name` is the serial device to
give `bridge grbl --serial`): a 128-byte receive buffer (`overrun` records a sender that broke it), a planner of
`PLANNER_BLOCKS` motion blocks, `ok` once a line is parsed into the planner (a motion line waits while the
planner is full, as GRBL's `ok` does), `error:20` for a line it cannot read, and the realtime `?` answered at
once with a status report `<Idle|MPos:x,y,z|Bf:blocks,bytes|FS:feed,0>`: Run while the planner holds blocks,
Idle once the last block has finished. Each block takes its length over its feed rate (`G1` at the modal `F` in
mm/min, `G0` at `rapid_mm_min`), without acceleration; pen commands (`M3 S..`, `M5`) take no time.
Timestamps of every `ok` (`ok_times`) and the modelled end of motion (`motion_end`) let a test compare what the
sender reports with what the machine did.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import threading
import time
import tty
from collections import deque

RX_BUFFER = 128
PLANNER_BLOCKS = 15  # GRBL's BLOCK_BUFFER_SIZE (16) less the one it keeps: `Bf:15,128` when empty
WORD = re.compile(r"([A-Z])\s*(-?[0-9.]+)")


class GrblSimulator(threading.Thread):
    def __init__(self, rapid_mm_min: float = 6000.0) -> None:
        super().__init__(name="grbl-sim", daemon=True)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # a serial line, not a terminal: no echo, no line editing
        self.port_name = os.ttyname(self.slave)
        self.rapid = rapid_mm_min
        self.stop = threading.Event()
        self.lines: list[str] = []
        self.ok_times: list[float] = []
        self.status_queries = 0
        self.overrun = False
        self.pos = [0.0, 0.0, 0.0]
        self.feed = 0.0
        self.motion_end = 0.0  # monotonic time at which the last planned block finishes
        self._rx = b""
        self._planner: deque[float] = deque()  # end times of the blocks in the planner

    # -- the machine ----------------------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        while self._planner and self._planner[0] <= now:
            self._planner.popleft()

    def _plan(self, text: str, now: float) -> bool:
        """Parse one line into the planner; False when it must wait for a free block."""
        words = dict(WORD.findall(text.upper()))
        if "F" in words:
            self.feed = float(words["F"])
        moves = [k for k in "XYZ" if k in words]
        g = words.get("G")
        if not moves or g not in ("0", "1", "00", "01"):
            return True  # pen (M3/M5), modal settings: no motion
        if len(self._planner) >= PLANNER_BLOCKS:
            return False
        target = list(self.pos)
        for k in moves:
            target["XYZ".index(k)] = float(words[k])
        length = sum((a - b) ** 2 for a, b in zip(target, self.pos, strict=True)) ** 0.5
        rate = self.rapid if g in ("0", "00") else self.feed
        seconds = length / rate * 60.0 if rate > 0 else 0.0
        start = max(now, self.motion_end)
        self.motion_end = start + seconds
        self._planner.append(self.motion_end)
        self.pos = target
        return True

    def status(self, now: float) -> str:
        self._advance(now)
        state = "Run" if self._planner else "Idle"
        x, y, z = self.pos
        free = PLANNER_BLOCKS - len(self._planner)
        return f"<{state}|MPos:{x:.3f},{y:.3f},{z:.3f}|Bf:{free},{RX_BUFFER - len(self._rx)}|FS:{self.feed:g},0>"

    # -- the serial line ------------------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        os.write(self.master, (text + "\r\n").encode("ascii"))

    def run(self) -> None:
        self._write("Grbl 1.1h ['$' for help]")
        while not self.stop.is_set():
            try:
                ready, _, _ = select.select([self.master], [], [], 0.002)
                chunk = os.read(self.master, 1024) if ready else b""
            except OSError:
                return
            query = b"?" in chunk
            self.status_queries += chunk.count(b"?")
            self._rx += chunk.replace(b"?", b"")
            if len(self._rx) > RX_BUFFER:  # more unanswered bytes than GRBL can hold
                self.overrun = True
            now = time.monotonic()
            self._advance(now)
            while b"\n" in self._rx:
                line, rest = self._rx.split(b"\n", 1)
                text = line.decode("ascii", "replace").strip()
                if "BAD" in text.upper():
                    reply = "error:20"
                elif self._plan(text, now):
                    reply = "ok"
                else:
                    break  # the planner is full: the line stays in the receive buffer, unanswered
                self.lines.append(text)
                self._rx = rest
                self.ok_times.append(time.monotonic())
                self._write(reply)
            if query:
                self._write(self.status(time.monotonic()))

    def close(self) -> None:
        self.stop.set()
        self.join(2.0)
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
