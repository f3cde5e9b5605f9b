"""The live steps in a real (dummy-driver) pygame window, fed by a recorded video through the CameraWorker."""

from pathlib import Path

import cv2
import numpy as np
import pygame
import pytest

from calibration.interactive import live_camera, live_paper, live_tablet, view_descriptor
from calibration.profile import PaperSection
from calibration.synth import chessboard_views, paper_scene
from installation.core.errors import UserError


def write_video(path: Path, frames: list[np.ndarray], repeat: int) -> str:
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (w, h))
    for f in frames:
        bgr = f if f.ndim == 3 else cv2.cvtColor(f, cv2.COLOR_GRAY2BGR)
        for _ in range(repeat):
            out.write(bgr)
    out.release()
    return str(path)


@pytest.fixture(autouse=True)
def _fresh_pygame():
    yield
    pygame.quit()


def test_live_camera_collects_distinct_views_and_calibrates(tmp_path: Path) -> None:
    views, k, _ = chessboard_views(12, seed=7)
    video = write_video(tmp_path / "board.avi", list(views.values()), repeat=8)
    intr = live_camera(video, (9, 6), 1.0, want=8, timeout_s=90)
    assert len(intr.views_used) + len(intr.views_rejected) == 8  # repeats of a view were not taken again
    assert abs(intr.camera_matrix[0][0] - k[0, 0]) / k[0, 0] < 0.03


def test_similar_views_have_close_descriptors() -> None:
    views, _, _ = chessboard_views(2, seed=1)
    from calibration.camera import find_corners

    a, b = (find_corners(v, (9, 6)) for v in views.values())
    assert a is not None and b is not None
    assert np.abs(view_descriptor(a, (640, 480)) - view_descriptor(a + 0.5, (640, 480))).max() < 0.01
    assert np.abs(view_descriptor(a, (640, 480)) - view_descriptor(b, (640, 480))).max() > 0.06


def test_live_paper_confirms_once_the_sheet_is_seen(tmp_path: Path) -> None:
    frame, _, _ = paper_scene(4, markers=True)
    video = write_video(tmp_path / "paper.avi", [frame], repeat=30)
    assert live_paper(video, PaperSection([512.0, 512.0], True), None, auto_confirm_frames=3)


def test_live_tablet_takes_two_touches_and_rejects_a_reversed_pair() -> None:
    pygame.init()
    pygame.display.set_mode((800, 500))
    for pos in [(80, 50), (720, 450)]:
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
    assert live_tablet(timeout_s=10) == pytest.approx([0.1, 0.1, 0.9, 0.9])
    for pos in [(720, 450), (80, 50)]:
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
    with pytest.raises(UserError, match="below and right"):
        live_tablet(timeout_s=10)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE))
    assert live_tablet(timeout_s=10) is None
