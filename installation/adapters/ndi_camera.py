"""An NDI source as a camera (`input.camera = "ndi:NAME"`): a rig's camera feed as the sitter or paper camera.

`open_ndi(name)` gives an object with OpenCV's capture interface (read/set/release) that CameraWorker drives
like any camera: frames come as BGR; a source that goes quiet reads as a failed read, so the worker reopens it
with back-off, as it does for an unplugged camera.
"""

from __future__ import annotations

import logging
import time

import cv2
import numpy as np

from installation.core.errors import UserError

log = logging.getLogger(__name__)
FIND_S = 5.0  # how long a (re)open looks for the source
QUIET_S = 2.0  # no frame this long: the read fails (the worker reopens)


class NdiCapture:
    def __init__(self, name: str) -> None:
        from installation.adapters.ndi import NdiReceiver

        self.receiver = NdiReceiver(name, FIND_S)
        log.info("camera: NDI source %s", self.receiver.source_name)

    def read(self) -> tuple[bool, np.ndarray | None]:
        t_end = time.monotonic() + QUIET_S
        while time.monotonic() < t_end:
            frame = self.receiver.receive(100)
            if frame is not None:
                return True, cv2.cvtColor(frame, cv2.COLOR_RGBA2BGR)
        return False, None

    def set(self, prop: int, value: float) -> bool:  # noqa: ARG002 - a live source cannot seek
        return False

    def release(self) -> None:
        self.receiver.close()


def open_ndi(name: str) -> NdiCapture:
    from installation.adapters import ndi

    why = ndi.unavailable()
    if why:
        raise UserError(f"camera source ndi:{name}: {why}")
    try:
        return NdiCapture(name)
    except TimeoutError as e:
        raise UserError(f"camera source ndi:{name}: {e}; check the rig is sending it (and ndi.extra_ips)") from e
