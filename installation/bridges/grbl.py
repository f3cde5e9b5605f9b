"""GRBL / G-code pen plotters over a serial port: the robot protocol in, G-code out with GRBL flow control.

GRBL answers every line with `ok` or `error:N` and has a 128-byte receive buffer: the sender counts the
characters of lines not yet answered and never lets them exceed the buffer, which keeps the planner full
without overflowing it. The pen is a servo (`M3 S<down>` / `M3 S<up>` or `M5`) or a Z axis.

An `ok` means a line is in GRBL's planner, not that the pen has moved: a path counts as drawn (the robot
protocol's /robot/drawn) only once GRBL's own realtime status report (`?`, answered with `<Idle|...|Bf:15,128>`)
says the machine is Idle with its planner empty (`Bf:` free blocks back to the most it ever reported). Status is
asked for at `status_hz` (10 a second; GRBL's interface notes advise no more than about that).
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from installation.bridges.simulator import Simulator
from installation.core.errors import UserError

log = logging.getLogger(__name__)
RX_BUFFER = 128
STATUS = re.compile(r"^<(?P<state>[A-Za-z]+)[^|>]*(?:\|(?P<fields>[^>]*))?>$")
QUIET_S = 5.0  # no status report for this long while waiting for motion: GRBL is gone


class Port(Protocol):
    def write(self, data: bytes) -> int | None: ...
    def readline(self) -> bytes: ...


@dataclass(frozen=True)
class PenSettings:
    mode: str = "servo"  # servo | z
    up: float = 0.0  # servo S value, or Z height in mm
    down: float = 1000.0
    feed_mm_min: float = 3000.0
    travel_mm_min: float = 6000.0


def gcode_for_path(pts: np.ndarray, pen: PenSettings) -> list[str]:
    def pen_cmd(v: float) -> str:
        return f"M3 S{v:g}" if pen.mode == "servo" else f"G0 Z{v:.3f}"

    x0, y0 = pts[0]
    lines = [pen_cmd(pen.up), f"G0 X{x0:.3f} Y{y0:.3f} F{pen.travel_mm_min:g}", pen_cmd(pen.down)]
    lines += [f"G1 X{x:.3f} Y{y:.3f} F{pen.feed_mm_min:g}" for x, y in pts[1:]]
    lines.append(pen_cmd(pen.up))
    return lines


class GrblLink:
    """Character-counting sender: `send(lines)` returns once every line is answered; errors are collected."""

    def __init__(self, port: Port, timeout_lines: int = 1000, status_hz: float = 10.0) -> None:
        self.port = port
        self.in_flight: deque[int] = deque()
        self.errors: list[str] = []
        self.oks = 0
        self.max_in_flight = 0
        self.state = ""  # GRBL's state in its newest status report: Idle, Run, Hold, Alarm, ...
        self.planner_free: int | None = None  # `Bf:` free planner blocks in the newest report
        self.planner_free_max = 0  # the most free blocks ever reported: the planner is empty at this
        self.status_reports = 0
        self.status_period_s = 1.0 / status_hz
        self._timeout_lines = timeout_lines

    def _status(self, reply: str) -> bool:
        """Take a `<State|MPos:...|Bf:15,128|...>` report; False for any other line."""
        m = STATUS.match(reply)
        if m is None:
            return False
        self.status_reports += 1
        self.state = m.group("state")
        for field in (m.group("fields") or "").split("|"):
            key, _, value = field.partition(":")
            if key == "Bf" and value.split(",")[0].isdigit():
                self.planner_free = int(value.split(",")[0])
                self.planner_free_max = max(self.planner_free_max, self.planner_free)
        return True

    def _answer(self) -> None:
        for _ in range(self._timeout_lines):
            reply = self.port.readline().decode("ascii", "replace").strip()
            if not reply:
                continue
            if reply == "ok" or reply.startswith("error"):
                self.in_flight.popleft()
                if reply == "ok":
                    self.oks += 1
                else:
                    self.errors.append(reply)
                    log.warning("GRBL answered %s", reply)
                return
            if not self._status(reply):
                log.debug("GRBL says %s", reply)  # welcome and message lines
        raise UserError("GRBL stopped answering: check the serial port, baud rate and that the machine is on")

    def send(self, lines: list[str]) -> None:
        for line in lines:
            data = (line.strip() + "\n").encode("ascii")
            while self.in_flight and sum(self.in_flight) + len(data) > RX_BUFFER:
                self._answer()
            self.port.write(data)
            self.in_flight.append(len(data))
            self.max_in_flight = max(self.max_in_flight, sum(self.in_flight))
        while self.in_flight:
            self._answer()

    def idle(self) -> bool:
        """GRBL's newest report: not moving, and nothing left in its planner."""
        empty = self.planner_free is None or self.planner_free >= self.planner_free_max
        return self.state == "Idle" and empty

    def wait_idle(self) -> float:
        """Ask GRBL's status (`?`) until it reports Idle with an empty planner; returns the seconds waited.

        Every line must have been answered (`send` returns then). A machine in Alarm, or one that stops
        answering status for `QUIET_S`, is a UserError."""
        t0 = last_report = time.monotonic()
        self.state = ""
        while True:
            self.port.write(b"?")  # realtime: not a line, not counted in the receive buffer, no `ok`
            asked = time.monotonic()
            while time.monotonic() - asked < self.status_period_s:
                reply = self.port.readline().decode("ascii", "replace").strip()
                if self._status(reply):
                    last_report = time.monotonic()
                    break
                if reply:
                    log.debug("GRBL says %s", reply)
            if self.state.startswith("Alarm"):
                raise UserError("GRBL is in Alarm (a limit switch or a lost position): home it ($H) or unlock ($X)")
            if self.idle():
                return time.monotonic() - t0
            if time.monotonic() - last_report > QUIET_S:
                raise UserError("GRBL stopped reporting its status: check the serial port and that the machine is on")
            time.sleep(max(0.0, self.status_period_s - (time.monotonic() - asked)))


class GrblBridge(Simulator):
    """The simulator's protocol handling, jobs and paper record, drawing through a GRBL machine as well."""

    def __init__(self, serial_port: str, baud: int, pen: PenSettings, **kwargs: object) -> None:
        import serial

        try:
            self.serial = serial.Serial(serial_port, baud, timeout=1.0)
        except (serial.SerialException, OSError) as e:
            raise UserError(f"cannot open serial port {serial_port} ({e}): check the cable and --serial") from e
        self.link = GrblLink(self.serial)
        self.pen = pen
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def draw(self, pts: np.ndarray) -> float:
        """The path's G-code, then GRBL's status until the machine is Idle: the path is on paper when this
        returns (the simulator's step reports it drawn then), not when GRBL took the lines into its buffer."""
        self.link.send(gcode_for_path(pts, self.pen))
        self.link.wait_idle()
        return 0.0

    def park(self) -> None:
        """Pen up and home, so the sheet can be changed."""
        self.link.send(park_gcode(self.pen))
        self.link.wait_idle()
        super().park()


def park_gcode(pen: PenSettings) -> list[str]:
    up = f"M3 S{pen.up:g}" if pen.mode == "servo" else f"G0 Z{pen.up:.3f}"
    return [up, f"G0 X0 Y0 F{pen.travel_mm_min:g}"]


def open_out(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
