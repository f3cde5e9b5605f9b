"""`/mode` and `/param` over real UDP in a headless show: inputs switched live, a camera that cannot open refused.

The camera is a recorded video (`input.camera` = a file: the real CameraWorker reads it through OpenCV), the
replay is the embedded sessions. One show: replay → camera → tablet → (the video made unreadable) camera, refused
→ replay, with /param calls in between.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from installation.adapters.camera import frame_to_sketch
from installation.core.config import load_config
from installation.runtime.show import Show, ShowOptions


def _paper_video(path: Path) -> np.ndarray:
    """Two seconds of a sheet with a drawn ring (MJPG), as a camera over the table would see it; its frame."""
    frame = np.full((480, 640, 3), 235, np.uint8)
    cv2.circle(frame, (320, 240), 120, (20, 20, 20), 9)
    cv2.line(frame, (250, 300), (400, 180), (20, 20, 20), 7)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (640, 480))
    for _ in range(60):
        out.write(frame)
    out.release()
    return frame


def _msg(address: str, *args: object) -> bytes:
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


@pytest.mark.slow
def test_mode_switches_inputs_live_and_a_camera_that_cannot_open_leaves_the_input(
    tmp_path: Path, free_udp_port: int, sandbox: list[str]
) -> None:
    video = tmp_path / "table.avi"
    frame = _paper_video(video)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    cfg = load_config(
        None,
        [
            *sandbox,
            "display.width=320",
            "display.height=200",
            'input.source="replay"',
            "input.replay_speed=4",
            f"input.camera={json.dumps(str(video))}",
            f"osc.port={free_udp_port}",
            f'osc.state_out=["127.0.0.1:{rx.getsockname()[1]}"]',
            "osc.state_hz=30",
            "display.attract_after_s=0",
            "archive.enabled=false",
            "clip.enabled=false",
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=90.0))
    seen: list[tuple[str, list]] = []
    got: dict[str, object] = {}

    def listen(until, seconds: float) -> bool:  # noqa: ANN001
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if until():
                return True
            with contextlib.suppress(OSError):  # a quiet 0.2 s: look again
                seen.extend((m.message.address, m.message.params) for m in OscPacket(rx.recv(65536)).messages)
        return until()

    def last(address: str) -> str | None:
        values = [str(p[0]) for a, p in seen if a == address and p]
        return values[-1] if values else None

    def errors() -> list[str]:
        return [str(p[0]) for a, p in seen if a == "/state/error" and p]

    def rig() -> None:
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

        def send(address: str, *args: object) -> None:
            tx.sendto(_msg(address, *args), ("127.0.0.1", free_udp_port))

        try:
            got["replay_first"] = listen(lambda: last("/state/mode") == "replay", 30)
            send("/mode", "camera")
            got["camera"] = listen(lambda: last("/state/mode") == "camera", 20)
            got["camera_sketch"] = listen(lambda: show.canvas.version > 0 and _camera_sketch_shown(show), 20)
            cam = show.inputs.camera
            got["camera_frames"] = cam.camera.seq if cam is not None else 0
            send("/param", "display.fps", "24")  # read as --set display.fps=24
            send("/param", "display.layout", "ai")
            send("/param", "display.hud", 1)
            got["layout"] = listen(lambda: last("/state/layout") == "ai", 10)
            got["fps_param"], got["hud"] = show.cfg.display.fps, show.renderer.hud
            send("/param", "display.fps", 5000)
            got["fps_refused"] = listen(lambda: any("/param display.fps: 5000 is not within 1..1000" in e
                                                    for e in errors()), 10)  # fmt: skip
            send("/param", "canvas.size", 512)
            got["not_live"] = listen(lambda: any("not a live parameter" in e for e in errors()), 10)
            send("/mode", "tablet")
            got["tablet"] = listen(lambda: last("/state/mode") == "tablet", 10)
            workers = show.supervisor.workers
            got["camera_stopped"] = listen(
                lambda: workers["camera"].state == "stopped" and workers["paper"].state == "stopped", 10
            )
            video.write_bytes(b"not a video at all" * 100)  # the camera cannot open now
            send("/mode", "camera")
            got["refused"] = listen(lambda: any(e.startswith("/mode camera: video file") for e in errors()), 20)
            listen(lambda: False, 0.5)
            got["mode_after_refusal"] = last("/state/mode")
            send("/mode", "replay")
            got["replay_again"] = listen(lambda: last("/state/mode") == "replay", 10)
            version = show.canvas.version
            got["replay_draws"] = listen(lambda: show.canvas.version > version + 3, 15)
        except Exception as e:  # reported by the assertions below, never a hang
            got["error"] = repr(e)
        finally:
            show.stop.set()

    show_sketch = frame_to_sketch(frame, cfg.model.input_size)

    def _camera_sketch_shown(s: Show) -> bool:
        sk = s.sketches.peek()  # the sketch inference answers: the video's sheet's ink, not a blank canvas
        if sk is None:
            return False
        ink, want = sk.image < 128, show_sketch < 128
        return int(want.sum()) > 100 and float((ink & want).sum() / max(1, (ink | want).sum())) > 0.8

    t = threading.Thread(target=rig, daemon=True)
    t.start()
    summary = show.run()
    t.join(timeout=5)
    assert "error" not in got, got
    assert got["replay_first"] and got["camera"], got
    assert got["camera_sketch"] and int(got["camera_frames"]) > 0, got  # the video's sheet reached inference
    assert got["layout"] and got["fps_param"] == 24 and got["hud"] is True, got
    assert got["fps_refused"] and got["not_live"], (got, errors())
    assert got["tablet"] and got["camera_stopped"], got
    assert got["refused"] and got["mode_after_refusal"] == "tablet", (got, errors())  # the old input stayed
    assert got["replay_again"] and got["replay_draws"], got
    assert summary["frames"] > 0 and summary["restarts"] == 0
