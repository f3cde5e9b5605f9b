"""The fake camera: a photo or a video of a sitter replayed as camera frames, then the empty wall."""

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.adapters.file_camera import WALL_BGR, FileCamera
from installation.core.errors import UserError
from installation.core.frames import CameraFrame
from installation.core.slots import LatestSlot

FACE = Path(__file__).resolve().parents[2] / "fixtures" / "faces" / "face.jpg"


def frames_until_left(cam: FileCamera, slot: LatestSlot[CameraFrame], stop: threading.Event) -> list[np.ndarray]:
    seen = []
    cam.start()
    try:
        while len(seen) < 400:
            f = slot.take(timeout=2.0)
            assert f is not None
            seen.append(f.image)
            if cam.left and (f.image == np.array(WALL_BGR, np.uint8)).all():
                break
    finally:
        stop.set()
        cam.join(timeout=2)
    return seen


def test_an_image_stays_then_the_sitter_leaves() -> None:
    slot: LatestSlot[CameraFrame] = LatestSlot()
    stop = threading.Event()
    seen = frames_until_left(FileCamera(FACE, slot, stop, present_s=0.3, fps=50), slot, stop)
    face = cv2.imread(str(FACE))
    assert np.array_equal(seen[0], face)
    assert (seen[-1] == np.array(WALL_BGR, np.uint8)).all() and seen[-1].shape == face.shape


def test_a_video_plays_once_then_the_sitter_leaves(tmp_path: Path) -> None:
    face = cv2.imread(str(FACE))
    path = tmp_path / "sitter.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 50.0, (face.shape[1], face.shape[0]))
    assert w.isOpened()
    for i in range(10):
        w.write(np.roll(face, i, axis=1))
    w.release()
    slot: LatestSlot[CameraFrame] = LatestSlot()
    stop = threading.Event()
    seen = frames_until_left(FileCamera(path, slot, stop), slot, stop)
    assert np.abs(seen[0].astype(int) - face).mean() < 10  # the video's first frame (MJPEG-compressed)
    assert (seen[-1] == np.array(WALL_BGR, np.uint8)).all()


def test_missing_or_unreadable_files_are_user_errors(tmp_path: Path) -> None:
    stop = threading.Event()
    with pytest.raises(UserError, match="does not exist"):
        FileCamera(tmp_path / "nope.jpg", LatestSlot(), stop)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    with pytest.raises(UserError, match="cannot be read"):
        FileCamera(bad, LatestSlot(), stop)
    bad_video = tmp_path / "bad.mp4"
    bad_video.write_bytes(b"not a video")
    with pytest.raises(UserError, match="cannot be read"):
        FileCamera(bad_video, LatestSlot(), stop)
