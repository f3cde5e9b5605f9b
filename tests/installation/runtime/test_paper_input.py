"""Camera → paper sketches: the worker with real slots and threads, and the show with a venue profile."""

import threading
import time
from pathlib import Path

import cv2
import numpy as np

from calibration.accuracy import iou, truth_ink
from calibration.profile import PaperSection, Profile, load_profile, save_profile
from calibration.synth import paper_scene
from installation.core.config import load_config
from installation.core.frames import CameraFrame
from installation.core.slots import LatestSlot
from installation.runtime.paper_input import PaperSketchWorker, sketcher_from_profile
from installation.verbs.demo import run_headless


def profile_with_paper(tmp_path: Path) -> Path:
    path = tmp_path / "venue.json"
    save_profile(path, Profile().replace(paper=PaperSection([512.0, 512.0], True, 0.5)))
    return path


def test_calibrated_sketcher_rectifies_the_sheet(tmp_path: Path) -> None:
    frame, _, ink = paper_scene(6, markers=True)
    sketch = sketcher_from_profile(load_profile(profile_with_paper(tmp_path)), 256)(frame)
    assert sketch is not None and sketch.shape == (512, 512)  # rectified at twice the model's size
    assert iou(sketch < 128, truth_ink(ink, 512, markers=True)) > 0.9
    plain = sketcher_from_profile(None, 256)(frame)  # no profile: the uncalibrated centre crop
    assert plain is not None and plain.shape == (256, 256)


def test_worker_hands_on_changed_sketches_only(tmp_path: Path) -> None:
    frames: LatestSlot[CameraFrame] = LatestSlot()
    out: LatestSlot[tuple[float, np.ndarray]] = LatestSlot()
    stop = threading.Event()
    to_sketch = sketcher_from_profile(load_profile(profile_with_paper(tmp_path)), 256)
    w = PaperSketchWorker(frames, out, stop, to_sketch, 256)
    w.start()
    frame, _, _ = paper_scene(6, markers=True)
    try:
        frames.put(CameraFrame(1, 1.0, frame))
        first = out.take(timeout=10)
        assert first is not None and first[1].shape == (256, 256) and first[0] == 1.0
        frames.put(CameraFrame(2, 2.0, frame.copy()))  # the same still sheet
        assert out.take(timeout=1.0) is None
        blank = np.full_like(frame, 90)  # the sheet taken away: forgotten after a few frames without it
        deadline, i = time.monotonic() + 20, 0
        while w.no_paper == 0 and time.monotonic() < deadline:  # a camera keeps delivering frames
            i += 1
            frames.put(CameraFrame(3 + i, 3.0 + i, blank))
            time.sleep(0.03)
        assert w.unchanged >= 1 and w.no_paper >= 1
    finally:
        stop.set()
        w.join(5)
    assert w.error is None


def test_show_runs_on_a_camera_with_a_calibrated_paper(tmp_path: Path, sandbox: list[str]) -> None:
    frame, _, _ = paper_scene(6, markers=True)
    video = tmp_path / "desk.avi"
    vw = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30, (640, 480))
    for _ in range(20):
        vw.write(frame)
    vw.release()
    cfg = load_config(
        None,
        [
            *sandbox,
            'input.source="camera"',
            f'input.camera="{video}"',
            f'calibration.profile="{profile_with_paper(tmp_path)}"',
            "display.width=480",
            "display.height=270",
            "osc.enabled=false",
        ],
    )
    m = run_headless(cfg, 6.0, None)
    assert m["frames"] > 10 and m["ai_updates"] >= 1
    assert m["inference_calls"] <= 3  # a still sheet is inferred once, not at camera rate
