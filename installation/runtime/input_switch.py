"""`/mode tablet|replay|camera` in the running show: the new input is built beside the old one, then swapped.

Tablet input is pygame's pen events, read every frame whatever the mode; replay is a `Replay` of the session
files, made on the main thread in no time; camera is a `CameraInput` (a CameraWorker and a PaperSketchWorker
with a stop of their own), opened on a thread of its own so that a slow or absent device never holds a frame.
A camera that cannot open leaves `error` (one line, on /state/error) and the running input as it was. The main
loop takes a finished `Switch` with `take()`, stops the old camera (if any) and starts the new one: two frames
never wait on a device.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from installation.core.errors import UserError
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)
MODES = ("tablet", "replay", "camera")


class LinkedStop(threading.Event):
    """Set for one input (`set()`), or by the show's own stop: the workers of an input end with either."""

    def __init__(self, show_stop: threading.Event) -> None:
        super().__init__()
        self.show_stop = show_stop

    def is_set(self) -> bool:
        return super().is_set() or self.show_stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = 0.05 if end is None else min(0.05, end - time.monotonic())
            if left <= 0:
                return False
            super().wait(left)
        return True


class CameraInput:
    """One camera's workers: the device is opened here (a UserError when it cannot be), started by `start`."""

    def __init__(self, make_workers: Callable[[threading.Event], tuple[Any, Any]], show_stop: threading.Event) -> None:
        self.stop = LinkedStop(show_stop)
        self.camera, self.paper = make_workers(self.stop)  # CameraWorker (opens the device), PaperSketchWorker
        self._workers: list[Any] = []

    @property
    def connected(self) -> bool:
        return bool(self.camera.connected)

    def start(self, sup: Any) -> None:
        """Run both under the show's Supervisor (a crash restarts them; `close` ends them for good)."""
        for name, worker in (("camera", self.camera), ("paper", self.paper)):
            body = worker.serve
            self._workers.append(sup.add(name, lambda _stop, beat, body=body: body(self.stop, beat), False))

    def close(self) -> None:
        self.stop.set()

    def join(self, timeout: float) -> bool:
        """Wait for the workers' threads to end; True when they have."""
        end = time.monotonic() + timeout
        for w in self._workers:
            if w.thread is not None:
                w.thread.join(max(0.0, end - time.monotonic()))
        return not any(w.thread is not None and w.thread.is_alive() for w in self._workers)


@dataclass(frozen=True)
class Switch:
    mode: str
    camera: CameraInput | None = None  # the opened camera, for mode "camera"


class InputSwitcher:
    def __init__(
        self, open_camera: Callable[[], CameraInput], has_sessions: bool, report: Callable[[str], None] | None = None
    ) -> None:
        self.open_camera = open_camera  # builds a CameraInput from input.camera (raises UserError)
        self.has_sessions = has_sessions
        self.report = report or (lambda message: None)  # the show's newest error (/state/error)
        self.ready: LatestSlot[Switch] = LatestSlot()
        self.camera: CameraInput | None = None  # the running camera input, if the mode is camera
        self.error = ""
        self.building = False
        self._closing: list[CameraInput] = []
        self._thread: threading.Thread | None = None

    def request(self, mode: str, current: str) -> None:
        """Start switching to `mode` (from the base mode `current`); the newest finished request wins."""
        if mode not in MODES:
            self._fail(f"/mode {mode}: choose one of {', '.join(MODES)}")
            return
        if mode == "replay" and not self.has_sessions:
            self._fail("/mode replay: no session files to replay (input.sessions, or the embedded sessions)")
            return
        if mode == "camera":
            if current == "camera" and self.camera is not None:
                return  # already showing the camera
            if self.building:
                return  # a camera is being opened; it will answer
            self.building = True
            self._thread = threading.Thread(target=self._build_camera, name="input-switch", daemon=True)
            self._thread.start()
            return
        self.ready.put(Switch(mode))

    def _build_camera(self) -> None:
        try:
            for old in self._closing:  # a device is opened once the old capture has let go of it
                if not old.join(3.0):
                    raise UserError("the previous camera has not let go of the device; try /mode camera again")
            self._closing = []
            cam = self.open_camera()
        except UserError as e:
            self._fail(f"/mode camera: {e}")
            return
        except Exception as e:  # a device failing in an unforeseen way: the running input stays
            self._fail(f"/mode camera: the camera could not be opened ({type(e).__name__}: {e})")
            return
        finally:
            self.building = False
        self.error = ""
        self.ready.put(Switch("camera", cam))
        log.info("camera opened beside the running input: swapped in at the next frame")

    def _fail(self, message: str) -> None:
        self.error = message
        self.report(message)
        log.error("%s; the input stays as it was", message)

    def take(self) -> Switch | None:
        return self.ready.take(timeout=0)

    def swap(self, switch: Switch, sup: Any) -> None:
        """On the main thread: the old camera (if any) stopped, the new one (if any) started."""
        if self.camera is not None and switch.camera is not self.camera:
            self.camera.close()
            self._closing.append(self.camera)
            self.camera = None
        if switch.camera is not None:
            switch.camera.start(sup)
            self.camera = switch.camera
        self.error = ""

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


def open_camera_input(
    cfg: Any, profile: Any, frames: LatestSlot[Any], sketches: LatestSlot[Any], show_stop: threading.Event
) -> CameraInput:
    """The show's camera input from `input.camera` (an index or a video file): raises UserError if it cannot open."""
    from installation.adapters.camera import CameraWorker
    from installation.runtime.paper_input import PaperSketchWorker, sketcher_from_profile

    size = cfg.model.input_size

    def make(stop: threading.Event) -> tuple[Any, Any]:
        camera = CameraWorker(cfg.input.camera, frames, stop)
        return camera, PaperSketchWorker(frames, sketches, stop, sketcher_from_profile(profile, size), size)

    return CameraInput(make, show_stop)
