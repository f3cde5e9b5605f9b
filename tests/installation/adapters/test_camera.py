import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.adapters.camera import CameraWorker, frame_to_sketch, parse_source
from installation.core.errors import UserError
from installation.core.frames import CameraFrame
from installation.core.slots import LatestSlot


def _video(path: Path, n: int = 12) -> Path:
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (160, 120))
    for i in range(n):
        img = np.full((120, 160, 3), 235, np.uint8)
        cv2.circle(img, (80, 60), 20 + i, (20, 20, 20), 3)  # dark pen line on paper
        out.write(img)
    out.release()
    return path


def test_video_file_frames_arrive_with_increasing_seq_and_time(tmp_path: Path) -> None:
    slot: LatestSlot[CameraFrame] = LatestSlot()
    stop = threading.Event()
    w = CameraWorker(str(_video(tmp_path / "v.avi")), slot, stop)
    w.start()
    frames = []
    for _ in range(5):
        f = slot.take(timeout=2)
        assert f is not None
        frames.append(f)
    stop.set()
    w.join(timeout=2)
    assert [f.seq for f in frames] == sorted({f.seq for f in frames})
    assert all(b.t >= a.t for a, b in zip(frames, frames[1:], strict=False))
    assert frames[0].image.shape == (120, 160, 3)


def test_frame_to_sketch_finds_the_ink_on_uneven_light() -> None:
    img = np.tile(np.linspace(120, 250, 320, dtype=np.uint8), (240, 1))  # light falling off to one side
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    cv2.line(img, (60, 120), (260, 120), (10, 10, 10), 4)
    sketch = frame_to_sketch(img, 128)
    assert sketch.shape == (128, 128) and sketch.dtype == np.uint8
    ink = sketch < 128
    assert ink[60:68, 20:108].mean() > 0.2  # the line is found across the gradient
    assert ink[:40].mean() < 0.02  # paper stays paper in both the dark and the bright part


def test_missing_sources_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="neither a camera index nor an existing video file"):
        parse_source(str(tmp_path / "nope.mp4"))
    with pytest.raises(UserError, match="camera index 97 cannot be opened"):
        CameraWorker("97", LatestSlot(), threading.Event())
