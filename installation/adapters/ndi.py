"""NDI video in and out through cyndilib (which bundles the NDI runtime, libndi, in its wheel).

cyndilib is optional (`pip install -r requirements-ndi.txt`); nothing here imports it until a sender or a
receiver is made, and `unavailable()` says in one line why NDI cannot be used (not installed, or the runtime
does not load). Discovery: NDI finds sources by mDNS; where multicast does not reach (containers, venue networks
that block it) `ndi.extra_ips` names the machines to ask directly, written to an NDI config file in a private
folder (NDI_CONFIG_DIR) before the library starts.

Frames are (H, W, 4) uint8 RGBA, or (H, W, 3) RGB (sent opaque). NDI compresses video (SpeedHQ): a received
frame is close to the sent one, not equal.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
_configured: str | None = None


def unavailable() -> str:
    """'' when NDI can be used here, else why not (one line)."""
    try:
        import cyndilib  # noqa: F401
        from cyndilib.wrapper.ndi_structs import get_ndi_version
    except ImportError as e:
        return f"NDI is not installed ({e}): pip install -r requirements-ndi.txt"
    except OSError as e:
        return f"the NDI runtime does not load here: {e}"
    try:
        get_ndi_version()
    except Exception as e:  # the library's own start-up failed
        return f"the NDI runtime does not start here: {e}"
    return ""


def configure(extra_ips: list[str]) -> None:
    """Before the first NDI object: ask `extra_ips` directly besides mDNS (an NDI config file of our own)."""
    global _configured
    key = ",".join(extra_ips)
    if not extra_ips or _configured == key:
        return
    if _configured is None and os.environ.get("NDI_CONFIG_DIR"):
        log.info("NDI: the config in NDI_CONFIG_DIR=%s is used as it is", os.environ["NDI_CONFIG_DIR"])
        return
    folder = Path(tempfile.mkdtemp(prefix="ndi-config-"))
    (folder / "ndi-config.v1.json").write_text(json.dumps({"ndi": {"networks": {"ips": key}}}))
    os.environ["NDI_CONFIG_DIR"] = str(folder)
    _configured = key
    log.info("NDI: asking %s directly (config in %s)", key, folder)


def rgba(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB or (H, W) grey or (H, W, 4) RGBA → contiguous (H, W, 4) RGBA."""
    f = np.asarray(frame, np.uint8)
    if f.ndim == 2:
        f = np.repeat(f[:, :, None], 3, axis=2)
    if f.shape[2] == 3:
        f = np.concatenate([f, np.full(f.shape[:2] + (1,), 255, np.uint8)], axis=2)
    f = np.ascontiguousarray(f)
    return f if f.flags.writeable else f.copy()  # the library takes a writable buffer (a frame from bytes is not)


class NdiSender:
    """One NDI source, `name` as the network sees it (the library prefixes the host name)."""

    def __init__(self, name: str, width: int, height: int, fps: float) -> None:
        from cyndilib.sender import Sender
        from cyndilib.video_frame import VideoSendFrame
        from cyndilib.wrapper.ndi_structs import FourCC

        self.size = (width, height)
        self.frame = VideoSendFrame()
        self.frame.set_resolution(width, height)
        self.frame.set_frame_rate(Fraction(round(fps * 1000), 1000))
        self.frame.set_fourcc(FourCC.RGBA)
        self.sender = Sender(name, clock_video=False)
        self.sender.set_video_frame(self.frame)
        self.sender.open()
        self.name = self.sender.name
        self.sent = 0

    def send(self, frame: np.ndarray) -> bool:
        f = rgba(frame)
        if (f.shape[1], f.shape[0]) != self.size:
            import cv2

            f = np.ascontiguousarray(cv2.resize(f, self.size, interpolation=cv2.INTER_AREA))
        ok = bool(self.sender.write_video(f.ravel()))
        self.sent += ok
        return ok

    def connections(self) -> int:
        return int(self.sender.get_num_connections(0.0))

    def close(self) -> None:
        self.sender.close()


class NdiReceiver:
    """Frames from one NDI source, as RGBA arrays."""

    def __init__(self, name: str, timeout_s: float = 10.0) -> None:
        from cyndilib.finder import Finder
        from cyndilib.receiver import Receiver
        from cyndilib.video_frame import VideoRecvFrame
        from cyndilib.wrapper.ndi_recv import RecvBandwidth, RecvColorFormat

        self.finder = Finder()
        self.finder.open()
        source = None
        t_end = time.monotonic() + timeout_s
        while source is None and time.monotonic() < t_end:
            self.finder.wait_for_sources(0.25)
            for n in self.finder.get_source_names():
                if name in n:
                    source = self.finder.get_source(n)
                    break
        if source is None:
            self.finder.close()
            raise TimeoutError(f"no NDI source named like {name!r} found in {timeout_s:g} s")
        self.source_name = source.name
        self.receiver = Receiver(color_format=RecvColorFormat.RGBX_RGBA, bandwidth=RecvBandwidth.highest)
        self.frame = VideoRecvFrame()
        self.receiver.set_video_frame(self.frame)
        self.receiver.connect_to(source)

    def receive(self, timeout_ms: int = 100) -> np.ndarray | None:
        """The next frame (H, W, 4) RGBA, or None when none came within `timeout_ms`."""
        from cyndilib.receiver import ReceiveFrameType

        got = self.receiver.receive(ReceiveFrameType.recv_video, timeout_ms)
        if not got & ReceiveFrameType.recv_video:
            return None
        w, h = self.frame.get_resolution()
        stride = self.frame.get_line_stride() or 4 * w
        data = np.frombuffer(bytes(memoryview(self.frame)), np.uint8)
        if data.size < stride * h:
            return None
        return data[: stride * h].reshape(h, stride)[:, : 4 * w].reshape(h, w, 4).copy()

    def close(self) -> None:
        self.receiver.disconnect()
        self.finder.close()
