"""The robot simulator: a bridge process that speaks the robot protocol and draws what it receives into an image.

Its record is OUT/journal.jsonl: one line per job event (start, pause, resume, cancel, paper) and per drawn path
(job, sequence number, sheet, points), each flushed and fsynced before the robot answers or the path counts as
drawn. A killed simulator that is started again replays it and knows which job it was on and what of which job is
on which sheet, exactly as a real robot's paper does. Each sheet is an image, OUT/sheet-NNN.png (a new one after
each "new sheet" step); OUT/paper.png is the sheet on the table now; OUT/jobs.json sums up every job. Images and
the summary are written every few seconds and at the end. A fresh sheet is confirmed from the host
(/robot/paper), at the window (key N or space), or by `confirm_paper()` (the bridge's stdin, a button).

Timing: a path counts as drawn (journal row, ink, `/robot/drawn`) when the simulated pen has travelled to it and
along it at `speed_mm_s`, not when it starts, as the machine bridges (grbl.py, axidraw.py: their `draw` returns
when the machine is done) report it. A pause that comes while the pen is on a path waits for that path, as a
machine would; a cancel lifts the pen and the path does not count.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from installation.adapters.plotter_link import read_messages
from installation.core.errors import UserError
from installation.core.files import write_text_atomic
from installation.core.osc_protocol import build_message
from installation.core.osc_wire import FramingError
from installation.core.robot_protocol import Receiver

log = logging.getLogger(__name__)
PX_PER_MM = 4.0
JOURNAL = "journal.jsonl"


def read_journal(out: Path) -> list[dict[str, Any]]:
    """The robot's own record, oldest first (a line cut by a kill is skipped: that event did not happen)."""
    path = Path(out) / JOURNAL
    rows = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


class Simulator:
    def __init__(self, host: str, port: int, out: Path, paper_mm: tuple[float, float], speed_mm_s: float) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.log_path = out / JOURNAL
        self.paper_mm = paper_mm
        self.speed = speed_mm_s
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.01)
        self.image = self._blank()
        self.receiver = Receiver()
        self.pos = np.zeros(2)
        self.peer: tuple[str, int] | None = None
        self.job_sheets: dict[str, set[int]] = {}
        self._paper_confirmed = threading.Event()
        self._restore()
        self._log = self.log_path.open("a", encoding="utf-8")
        self._busy_until = 0.0
        self._moving: tuple[str, int, np.ndarray] | None = None  # (job, seq, points): the path the pen is on

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _blank(self) -> np.ndarray:
        w, h = self.paper_mm
        return np.full((int(h * PX_PER_MM), int(w * PX_PER_MM)), 255, np.uint8)

    def _restore(self) -> None:
        self._cut_partial_line()
        rows = read_journal(self.out)
        sheets: dict[int, np.ndarray] = {}
        for ev in rows:
            self.receiver.apply(ev)
            if ev.get("event") == "drawn":
                sheet = int(ev.get("sheet", 0))
                self._ink(np.asarray(ev["points"], float), sheets.setdefault(sheet, self._blank()))
                self.job_sheets.setdefault(str(ev["job"]), set()).add(sheet)
        for k, img in sheets.items():
            if k < self.receiver.sheet and not self._sheet_path(k).is_file():
                cv2.imwrite(str(self._sheet_path(k)), img)
        self.image = sheets.get(self.receiver.sheet, self._blank())
        if rows:
            r = self.receiver
            log.info("simulator resumes job %r (%s) after path %d, sheet %d", r.job, r.state, r.last_drawn, r.sheet)

    def _cut_partial_line(self) -> None:
        """A line cut by a kill is dropped from the file, so that the next event starts a line of its own."""
        if not self.log_path.is_file():
            return
        data = self.log_path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.log_path.open("r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)
                os.fsync(f.fileno())

    def _sheet_path(self, k: int) -> Path:
        return self.out / f"sheet-{k:03d}.png"

    def _ink(self, p: np.ndarray, image: np.ndarray | None = None) -> None:
        pts = np.round(p * PX_PER_MM * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(self.image if image is None else image, [pts], False, 0, 1, cv2.LINE_AA, 4)

    def _reply(self, address: str, args: list) -> None:
        if self.peer is not None:
            try:
                self.sock.sendto(build_message(address, args), self.peer)
            except OSError as e:
                log.debug("reply to %s failed: %s", self.peer, e)

    def _write(self, ev: dict[str, Any]) -> None:
        self._log.write(json.dumps(ev) + "\n")
        self._log.flush()
        os.fsync(self._log.fileno())

    def _journal(self) -> None:
        """Put the receiver's new events on disk (before any answer), and act on them."""
        for ev in self.receiver.take_events():
            self._write(ev)
            if ev["event"] == "paper":
                self._new_sheet()
            elif ev["event"] == "start" and self.receiver.waiting_paper:
                log.info(
                    "job %s waits for a fresh sheet: confirm with key N (window), Enter, or /robot/paper", ev["job"]
                )
                self.park()

    def _new_sheet(self) -> None:
        old = self.receiver.sheet - 1
        cv2.imwrite(str(self._sheet_path(old)), self.image)
        self.image = self._blank()
        log.info("sheet %d done; drawing on sheet %d", old, self.receiver.sheet)

    def confirm_paper(self) -> None:
        """A fresh sheet is in place (a key, a button, a line on stdin): any thread may call this."""
        self._paper_confirmed.set()

    def park(self) -> None:
        """Move out of the way so the sheet can be changed (the simulator just lifts its pen)."""
        self.pos = np.zeros(2)

    def step(self) -> None:
        if self._paper_confirmed.is_set():
            self._paper_confirmed.clear()
            self.receiver.paper_changed()
            self._journal()
        try:
            data, self.peer = self.sock.recvfrom(65536)
            for address, args in read_messages(data):
                if address == "/robot/pause" and self._moving is not None:  # as a machine does: the path first
                    time.sleep(max(0.0, self._busy_until - time.monotonic()))
                    self._land()
                replies = self.receiver.on_message(address, args, *self.pos)
                self._journal()
                for reply in replies:
                    self._reply(*reply)
        except (TimeoutError, FramingError):
            pass
        except (ValueError, TypeError, IndexError) as e:  # arguments of the wrong kind: not from our host
            log.debug("robot: unreadable message: %s", e)
        if time.monotonic() < self._busy_until:
            return
        self._land()  # the pen has come to the end of its path: now it is drawn
        nxt = self.receiver.next_to_draw()
        if nxt is None:
            return
        seq, pts = nxt
        self._moving = (self.receiver.job, seq, pts)
        self._busy_until = time.monotonic() + self.draw(pts)
        if self._busy_until <= time.monotonic():  # on paper already (a machine that returns when done, or speed 0)
            self._land()

    def _land(self) -> None:
        """The path under the pen (if any) is on paper: journal it, ink it, then acknowledge it. A job cancelled
        or replaced while the pen was on it does not count it (the pen was lifted)."""
        if self._moving is None:
            return
        (job, seq, pts), self._moving = self._moving, None
        if self.receiver.job != job or self.receiver.cancelled or seq != self.receiver.last_drawn + 1:
            return
        self._write(self.receiver.drawn_event(seq, pts))
        self.job_sheets.setdefault(job, set()).add(self.receiver.sheet)
        self._ink(pts)
        self.pos = pts[-1]
        self._reply(*self.receiver.drawn(seq))

    def draw(self, pts: np.ndarray) -> float:
        """Start putting one path on paper; returns the seconds until it is there. The simulator's pen travels to
        the path and along it at its speed (0: at once); a machine bridge draws and returns 0 when done."""
        length = float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()) + float(np.linalg.norm(pts[0] - self.pos))
        return length / self.speed if self.speed > 0 else 0.0

    def _open_window(self):  # noqa: ANN202 - a pygame Surface
        import pygame

        try:
            pygame.display.init()
            h, w = self.image.shape
            k = min(900 / h, 1.0)
            screen = pygame.display.set_mode((int(w * k), int(h * k)))
        except pygame.error as e:
            raise UserError(f"cannot open a window for the simulator ({e}): drop --window") from e
        from installation.adapters.window import warn_if_invisible

        instead = f"drop --window ({self.out} has the paper)"
        warn_if_invisible(pygame.display.get_driver(), "the simulator's window", instead)
        return screen

    def _show(self, screen) -> bool:  # noqa: ANN001
        """Blit the paper into the window; False when the window was closed."""
        import pygame

        for ev in pygame.event.get():
            if ev.type == pygame.QUIT:
                return False
            if ev.type == pygame.KEYDOWN and ev.key in (pygame.K_n, pygame.K_SPACE):
                self.confirm_paper()
        rgb = np.repeat(self.image[:, :, None], 3, axis=2)
        surf = pygame.image.frombuffer(rgb.tobytes(), (rgb.shape[1], rgb.shape[0]), "RGB")
        screen.blit(pygame.transform.smoothscale(surf, screen.get_size()), (0, 0))
        pygame.display.flip()
        return True

    def save(self) -> None:
        for name in ("paper.png", self._sheet_path(self.receiver.sheet).name):
            tmp = self.out / f".{name}.tmp.png"
            cv2.imwrite(str(tmp), self.image)
            os.replace(tmp, self.out / name)
        write_text_atomic(self.out / "jobs.json", json.dumps(self.jobs_summary(), indent=1), "the robot's job summary")

    def jobs_summary(self) -> dict[str, dict[str, Any]]:
        """Every job the robot knows: how it stands, paths drawn of planned, and the sheets it is on."""
        r = self.receiver
        out = {job: {"state": e.how, "drawn": e.last_drawn + 1, "planned": e.planned} for job, e in r.ended.items()}
        if r.job:
            out[r.job] = {"state": r.state, "drawn": r.last_drawn + 1, "planned": r.planned}
        for job, rec in out.items():
            rec["sheets"] = sorted(self.job_sheets.get(job, ()))
        return out

    def close(self) -> None:
        self.save()
        self._log.close()
        self.sock.close()

    def serve(self, seconds: float | None = None, window: bool = False) -> None:
        t_end = time.monotonic() + seconds if seconds else float("inf")
        last_save = last_show = time.monotonic()
        screen = self._open_window() if window else None
        try:
            while time.monotonic() < t_end:
                self.step()
                if time.monotonic() - last_save > 3.0:
                    self.save()
                    last_save = time.monotonic()
                if screen is not None and time.monotonic() - last_show > 0.1:
                    if not self._show(screen):
                        break
                    last_show = time.monotonic()
        finally:
            self.close()
