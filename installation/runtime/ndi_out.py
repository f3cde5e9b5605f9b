"""The show's pictures to a performance rig over NDI: the AI image, the sketch (with alpha) and the composed screen.

Three NDI sources named after the station (`ndi.station`): "<station> AI", "<station> sketch" and
"<station> screen". The display thread only hands frames over (`offer`: a copy of the screen's pixels into a
one-slot hand-off, plus the newest AI image and sketch when they change); this worker converts and sends them,
so NDI's compression never holds a frame of the display. All three go out at the display's rate: each screen
frame is sent with the newest AI image and sketch. The sketch's alpha is its ink (paper transparent), for
layering over other sources in the rig.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)
KINDS = ("AI", "sketch", "screen")


@dataclass(frozen=True)
class ScreenFrame:
    t: float  # time.monotonic() of the flip
    rgba: np.ndarray  # (H, W, 4) uint8, opaque


def sketch_rgba(gray: np.ndarray) -> np.ndarray:
    """A sketch raster (255 paper, 0 ink) → RGBA: black ink, alpha = ink (paper transparent)."""
    g = np.asarray(gray, np.uint8)
    out = np.zeros(g.shape + (4,), np.uint8)
    out[:, :, 3] = 255 - g
    return out


class NdiOut(threading.Thread):
    def __init__(self, station: str, fps: float, extra_ips: list[str], stop: threading.Event) -> None:
        super().__init__(name="ndi-out", daemon=True)
        self.station, self.fps, self.extra_ips, self.stop = station, fps, extra_ips, stop
        self.screens: LatestSlot[ScreenFrame] = LatestSlot()
        self._ai: np.ndarray | None = None
        self._sketch: np.ndarray | None = None
        self._lock = threading.Lock()
        self.senders: dict[str, object] = {}
        self.sent = dict.fromkeys(KINDS, 0)
        self.send_ms: list[float] = []
        self.error = ""

    # -- the display thread ---------------------------------------------------------------------------------
    def offer(self, surface: object, ai: np.ndarray | None = None, sketch: np.ndarray | None = None) -> None:
        """After a flip: the screen's pixels (copied here, on the display thread), and any new AI image/sketch."""
        import pygame

        w, h = surface.get_size()  # type: ignore[attr-defined]
        rgba = np.frombuffer(pygame.image.tobytes(surface, "RGBA"), np.uint8).reshape(h, w, 4)  # as NDI takes it
        with self._lock:
            if ai is not None:
                self._ai = ai
            if sketch is not None:
                self._sketch = sketch
        self.screens.put(ScreenFrame(time.monotonic(), rgba))

    # -- this thread ----------------------------------------------------------------------------------------
    def run(self) -> None:
        from installation.adapters import ndi

        why = ndi.unavailable()
        if why:
            self.error = why
            log.error("NDI out is off: %s", why)
            return
        ndi.configure(self.extra_ips)
        try:
            while not self.stop.is_set():
                frame = self.screens.take(timeout=0.1)
                if frame is None:
                    continue
                t0 = time.perf_counter()
                with self._lock:
                    ai, sketch = self._ai, self._sketch
                self._send("screen", frame.rgba)
                if ai is not None:
                    self._send("AI", ai)
                if sketch is not None:
                    self._send("sketch", sketch_rgba(sketch))
                self.send_ms.append((time.perf_counter() - t0) * 1000.0)
                del self.send_ms[:-600]
        except Exception as e:  # NDI failing must not end the show: said once, the display goes on
            self.error = f"NDI out stopped: {e}"
            log.exception("NDI out failed")
        finally:
            for s in self.senders.values():
                s.close()  # type: ignore[attr-defined]

    def _send(self, kind: str, image: np.ndarray) -> None:
        from installation.adapters.ndi import NdiSender

        s = self.senders.get(kind)
        if s is None:
            h, w = image.shape[:2]
            s = self.senders[kind] = NdiSender(f"{self.station} {kind}", w, h, self.fps)
            log.info("NDI source %r: %d×%d at %g fps", s.name, w, h, self.fps)
        if s.send(image):  # type: ignore[attr-defined]
            self.sent[kind] += 1

    def names(self) -> list[str]:
        return [s.name for s in self.senders.values()]  # type: ignore[attr-defined]
