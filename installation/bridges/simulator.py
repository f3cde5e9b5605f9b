"""The robot simulator: a bridge process that speaks the robot protocol and draws what it receives into an image.

Drawn paths are appended to OUT/drawn.jsonl (one line per path, flushed and fsynced before the path counts as
drawn), so a killed simulator that is started again knows what is already on its paper, exactly as a real
robot's paper does. OUT/paper.png is written every few seconds and at the end.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

import cv2
import numpy as np
from pythonosc.osc_packet import OscPacket, ParseError

from installation.core.errors import UserError
from installation.core.osc_protocol import build_message
from installation.core.robot_protocol import Receiver

log = logging.getLogger(__name__)
PX_PER_MM = 4.0


class Simulator:
    def __init__(self, host: str, port: int, out: Path, paper_mm: tuple[float, float], speed_mm_s: float) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.log_path = out / "drawn.jsonl"
        self.paper_mm = paper_mm
        self.speed = speed_mm_s
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.01)
        w, h = paper_mm
        self.image = np.full((int(h * PX_PER_MM), int(w * PX_PER_MM)), 255, np.uint8)
        self.receiver = Receiver()
        self.pos = np.zeros(2)
        self.peer: tuple[str, int] | None = None
        self._restore()
        self._log = self.log_path.open("a", encoding="utf-8")
        self._busy_until = 0.0

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _restore(self) -> None:
        if not self.log_path.is_file():
            return
        for line in self.log_path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill: that path was not drawn
            self._ink(np.asarray(rec["points"], float))
            self.receiver.last_drawn = max(self.receiver.last_drawn, int(rec["seq"]))
        log.info("simulator resumes after path %d", self.receiver.last_drawn)

    def _ink(self, p: np.ndarray) -> None:
        pts = np.round(p * PX_PER_MM * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(self.image, [pts], False, 0, 1, cv2.LINE_AA, 4)

    def _reply(self, address: str, args: list) -> None:
        if self.peer is not None:
            self.sock.sendto(build_message(address, args), self.peer)

    def step(self) -> None:
        try:
            data, self.peer = self.sock.recvfrom(65536)
            for m in OscPacket(data).messages:
                address, args = m.message.address, list(m.message.params)
                if address == "/robot/path":
                    for reply in self.receiver.on_path(args):
                        self._reply(*reply)
                elif address == "/robot/hello":
                    self._reply("/robot/state", self.receiver.status(*self.pos))
                else:
                    self.receiver.on_control(address)
                    self._reply("/robot/state", self.receiver.status(*self.pos))
        except (TimeoutError, ParseError):
            pass
        if time.monotonic() < self._busy_until:
            return
        nxt = self.receiver.next_to_draw()
        if nxt is None:
            return
        seq, pts = nxt
        self._log.write(json.dumps({"seq": seq, "points": np.round(pts, 3).tolist()}) + "\n")
        self._log.flush()
        os.fsync(self._log.fileno())
        self._busy_until = time.monotonic() + self.draw(pts)
        self.pos = pts[-1]
        self._reply(*self.receiver.drawn(seq))

    def draw(self, pts: np.ndarray) -> float:
        """Put one path on paper; returns the seconds the pen is busy with it (simulated speed)."""
        self._ink(pts)
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
        rgb = np.repeat(self.image[:, :, None], 3, axis=2)
        surf = pygame.image.frombuffer(rgb.tobytes(), (rgb.shape[1], rgb.shape[0]), "RGB")
        screen.blit(pygame.transform.smoothscale(surf, screen.get_size()), (0, 0))
        pygame.display.flip()
        return True

    def save(self) -> None:
        tmp = self.out / "paper.tmp.png"
        cv2.imwrite(str(tmp), self.image)
        os.replace(tmp, self.out / "paper.png")

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
            self.save()
            self._log.close()
            self.sock.close()
