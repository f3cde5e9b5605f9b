"""NDI through the real library (cyndilib and its bundled runtime), sender and receiver in this process, on
loopback: frames compared, the show's NDI worker (screen, AI image, sketch with alpha), an NDI source as a camera.

Skipped, with the reason, where cyndilib is not installed (pip install -r requirements-ndi.txt) or the NDI
runtime cannot start or find a source here (discovery needs a network interface; 127.0.0.1 is asked directly)."""

import os
import threading
import time

import numpy as np
import pytest

from installation.adapters import ndi, ndi_code

WHY = ndi.unavailable()
pytestmark = pytest.mark.skipif(bool(WHY), reason=WHY or "NDI available")


@pytest.fixture(scope="module", autouse=True)
def loopback_discovery() -> None:
    """Skips the module where the runtime starts but finds no source on loopback (no interface for discovery);
    once one probe source is found, a source a test cannot find is a failure."""
    ndi.configure(["127.0.0.1"])
    name = unique("probe")
    sender = ndi.NdiSender(name, 16, 16, 30)
    try:
        receiver = ndi.NdiReceiver(name, timeout_s=10.0)
    except TimeoutError as e:
        pytest.skip(f"the NDI runtime started but finds no source on loopback here ({e})")
    finally:
        sender.close()
    receiver.close()


def unique(name: str) -> str:
    return f"test-{name}-{os.getpid()}-{time.monotonic_ns() % 10**6}"


class Feed(threading.Thread):
    """Sends stamped frames at about 60 fps until stopped; remembers each one sent."""

    def __init__(self, sender: ndi.NdiSender, base: np.ndarray) -> None:
        super().__init__(daemon=True)
        self.sender, self.base, self.stop, self.sent = sender, base, threading.Event(), {}

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            frame = ndi_code.stamp(np.roll(self.base, n, axis=1), n)
            self.sent[n] = frame
            self.sender.send(frame)
            n += 1
            time.sleep(1 / 60)


def receiver(name: str, out=None) -> ndi.NdiReceiver:  # noqa: ANN001 - the NdiOut whose source it is, if any
    try:
        return ndi.NdiReceiver(name, timeout_s=10.0)
    except TimeoutError:
        pytest.fail(f"no NDI source {name!r}" + (f": the worker says {out.error!r}" if out is not None else ""))


def test_frames_sent_come_back_close_to_what_was_sent() -> None:
    rng = np.random.default_rng(0)
    base = np.zeros((120, 160, 4), np.uint8)
    base[..., :3] = cv2_blur(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8))
    base[..., 3] = 255
    name = unique("loop")
    sender = ndi.NdiSender(name, 160, 120, 60)
    feed = Feed(sender, base)
    feed.start()
    rx = receiver(name)
    try:
        got = []
        deadline = time.monotonic() + 15  # a bound on waiting, not a timing assertion
        while len(got) < 5 and time.monotonic() < deadline:
            f = rx.receive(200)
            if f is not None:
                got.append(f)
    finally:
        feed.stop.set()
        feed.join()
        rx.close()
        sender.close()
    assert len(got) == 5
    for f in got:
        assert f.shape == (120, 160, 4)
        sent = feed.sent[ndi_code.read(f)]
        err = np.abs(f[8:, :, :3].astype(int) - sent[8:, :, :3]).mean()
        other = np.abs(f[8:, :, :3].astype(int) - np.roll(sent, 40, axis=1)[8:, :, :3]).mean()
        assert err < 12 and err < other / 3  # close to the frame it names (compressed), not to another


def cv2_blur(img: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(img, (9, 9), 3)


@pytest.mark.slow
def test_the_shows_ndi_worker_sends_screen_ai_and_a_sketch_with_alpha() -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from installation.runtime.ndi_out import NdiOut

    pygame.display.init()
    surface = pygame.Surface((320, 180))
    surface.fill((200, 30, 40))
    station = unique("station")
    stop = threading.Event()
    out = NdiOut(station, 60, ["127.0.0.1"], stop)
    out.start()
    sketch = np.full((64, 64), 255, np.uint8)
    sketch[20:44, :] = 0  # a thick ink band
    ai = np.zeros((64, 64, 3), np.uint8)
    ai[..., 1] = 180

    def feed() -> None:
        while not stop.is_set():
            out.offer(surface, ai, sketch)
            time.sleep(1 / 60)

    th = threading.Thread(target=feed, daemon=True)
    th.start()
    try:
        frames = {}
        for kind in ("screen", "sketch", "AI"):
            r = receiver(f"{station} {kind}", out)
            try:
                deadline = time.monotonic() + 10
                while kind not in frames and time.monotonic() < deadline:
                    f = r.receive(200)
                    if f is not None:
                        frames[kind] = f
            finally:
                r.close()
    finally:
        stop.set()
        th.join()
        out.join(timeout=5)
    assert out.error == ""
    assert frames["screen"].shape == (180, 320, 4) and abs(int(frames["screen"][90, 160, 0]) - 200) < 20
    assert frames["AI"][32, 32, 1] > 150 and frames["AI"][32, 32, 0] < 40
    alpha = frames["sketch"][..., 3]
    assert alpha[32, 32] > 200 and alpha[5, 32] < 50  # ink opaque, paper transparent


def test_an_ndi_source_is_a_camera() -> None:
    from installation.adapters.camera import CameraWorker, parse_source
    from installation.core.frames import CameraFrame
    from installation.core.slots import LatestSlot

    assert parse_source("ndi:rig camera") == "ndi:rig camera"
    name = unique("camera")
    base = np.zeros((120, 160, 4), np.uint8)
    base[..., 2] = 220  # blue in RGBA
    base[..., 3] = 255
    sender = ndi.NdiSender(name, 160, 120, 60)
    feed = Feed(sender, base)
    feed.start()
    frames: LatestSlot[CameraFrame] = LatestSlot()
    stop = threading.Event()
    try:
        cam = CameraWorker(f"ndi:{name}", frames, stop)
        cam.start()
        got = frames.take(timeout=10)
    finally:
        stop.set()
        feed.stop.set()
        feed.join()
    assert got is not None and got.image.shape == (120, 160, 3)
    assert got.image[60, 80, 0] > 180 and got.image[60, 80, 2] < 60  # BGR: the blue came through as blue
    cam.join(timeout=5)
    sender.close()
