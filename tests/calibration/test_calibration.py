import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from calibration.accuracy import chessboard_accuracy, default_chessboard_glob, iou, paper_accuracy, truth_ink
from calibration.camera import calibrate_views, parse_pattern
from calibration.markers import detect_paper_corners, marker_sheet
from calibration.paper import PaperRectifier, order_corners
from calibration.synth import chessboard_views, paper_scene
from installation.core.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


def test_synthetic_views_recover_known_intrinsics() -> None:
    views, k, dist = chessboard_views(10, seed=2)
    intr = calibrate_views(views, (9, 6))
    got = np.asarray(intr.camera_matrix)
    assert intr.rms < 0.3
    assert abs(got[0, 0] - k[0, 0]) / k[0, 0] < 0.01 and abs(got[1, 1] - k[1, 1]) / k[1, 1] < 0.01
    assert abs(got[0, 2] - k[0, 2]) < 3 and abs(got[1, 2] - k[1, 2]) < 3
    assert abs(intr.dist_coeffs[0] - dist[0]) < 0.05  # the dominant radial term


def test_bad_views_are_reported_and_too_few_is_an_error() -> None:
    views, _, _ = chessboard_views(6, seed=3)
    views["blank.png"] = np.full((480, 640), 200, np.uint8)
    intr = calibrate_views(views, (9, 6))
    reasons = {r["view"]: r["reason"] for r in intr.views_rejected}
    assert "no 9x6 chessboard found" in reasons["blank.png"] and "blank.png" not in intr.views_used
    assert len(intr.views_used) >= 4 and len(intr.views_used) + len(reasons) == 7
    with pytest.raises(UserError, match="at least 3 are needed"):
        calibrate_views({"a.png": views["blank.png"]}, (9, 6))
    with pytest.raises(UserError, match="COLSxROWS"):
        parse_pattern("nine")


def test_paper_corners_found_without_markers() -> None:
    for seed in range(4):
        frame, truth, _ = paper_scene(seed)
        r = PaperRectifier(canvas=256)
        sketch = r.sketch(frame)
        assert sketch is not None and sketch.shape == (256, 256)
        assert np.abs(r.corners - truth).max() < 1.0


def test_rectified_image_is_still_while_the_camera_is_still() -> None:
    frame, _, _ = paper_scene(5)
    r = PaperRectifier(canvas=256)
    first = r.sketch(frame)
    rng = np.random.default_rng(0)
    for _ in range(5):
        noisy = np.clip(frame.astype(np.int16) + rng.integers(-2, 3, frame.shape), 0, 255).astype(np.uint8)
        r.sketch(noisy)
    assert np.array_equal(r.sketch(frame), first)


def test_marker_sheet_round_trip() -> None:
    sheet = marker_sheet((210.0, 297.0), dpi=60)
    gray = cv2.cvtColor(sheet, cv2.COLOR_BGR2GRAY)
    framed = cv2.copyMakeBorder(gray, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=90)
    h, w = gray.shape
    corners = detect_paper_corners(framed, (w, h))
    assert corners is not None
    assert np.abs(order_corners(corners) - (np.array([[0, 0], [w, 0], [w, h], [0, h]]) + 40)).max() < 1.0


def test_camera_cli_writes_the_agreed_json(tmp_path: Path) -> None:
    views, _, _ = chessboard_views(6, seed=4)
    for name, img in views.items():
        cv2.imwrite(str(tmp_path / name), img)
    out = tmp_path / "cam.json"
    cmd = [
        sys.executable,
        str(ROOT / "run.py"),
        "calibrate",
        "camera",
        "--images",
        str(tmp_path / "*.png"),
        "--pattern",
        "9x6",
        "--json",
        str(out),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-1500:]
    data = json.loads(out.read_text())
    assert {"rms", "camera_matrix", "dist_coeffs", "views_used", "views_rejected"} <= set(data)
    r = subprocess.run(
        [*cmd[:5], str(tmp_path / "nothing*.png"), "--json", str(out)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and "no images match" in r.stderr


def test_paper_accuracy_targets_on_synthetic_scenes() -> None:
    """The issue's targets, on scenes with lens distortion, uneven light and noise: corners ≤ 0.5 px, IoU ≥ 0.9."""
    for markers in (False, True):
        r = paper_accuracy(4, markers=markers, lens=True)
        assert r["missed"] == 0
        assert r["corner_error_px_max"] < 0.5, r
        assert r["ink_iou_min"] >= 0.9, r


def test_the_drawing_hand_is_not_ink() -> None:
    frame, _, ink = paper_scene(3, hand=True)
    clean, _, _ = paper_scene(3)
    r = PaperRectifier(canvas=512)
    r.sketch(clean)  # the sheet seen before the hand came in
    with_hand = r.sketch(frame)
    assert with_hand is not None
    assert iou(with_hand < 128, truth_ink(ink, 512, markers=False)) > 0.97  # without masking: 0.90


def test_real_chessboard_photos_match_opencvs_own_calibration() -> None:
    images = default_chessboard_glob()
    assert images is not None, "tests/fixtures/chessboard holds OpenCV's sample photographs"
    r = chessboard_accuracy(images)
    assert r["ours_views_used"] >= 10
    assert r["ours_rms"] <= 1.1 * r["opencv_rms"], r
