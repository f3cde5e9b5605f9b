"""The calibrate verb end to end, as a user runs it: real files, a real subprocess, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from calibration.synth import paper_scene

ROOT = Path(__file__).resolve().parents[2]


def calibrate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "calibrate", *args], capture_output=True, text=True, timeout=120
    )


def test_paper_tablet_and_plotter_steps_build_one_profile(tmp_path: Path) -> None:
    frame, _, _ = paper_scene(2, paper_px=(420, 594), markers=True)
    photo, profile, preview = tmp_path / "photo.png", tmp_path / "venue.json", tmp_path / "sketch.png"
    cv2.imwrite(str(photo), frame)
    r = calibrate("paper", "--image", str(photo), "--paper", "a4", "--profile", str(profile), "--preview", str(preview))
    assert r.returncode == 0, r.stderr[-1500:]
    sketch = cv2.imread(str(preview), cv2.IMREAD_GRAYSCALE)
    assert sketch.shape == (1024, 1024) and 0.005 < (sketch < 128).mean() < 0.2
    r = calibrate("tablet", "--area", "0.1,0.05,0.9,0.95", "--rotation", "180", "--profile", str(profile))
    assert r.returncode == 0, r.stderr[-1500:]
    r = calibrate("plotter", "--corners", "12,10 222,11 221,307 11,306", "--profile", str(profile))
    assert r.returncode == 0, r.stderr[-1500:]
    assert "residual" in r.stdout
    data = json.loads(profile.read_text())
    assert {"paper", "tablet", "plotter"} <= set(data)
    assert data["tablet"]["rotation"] == 180 and data["plotter"]["kind"] == "homography"
    assert data["plotter"]["max_residual_mm"] < 1.0  # four near-rectangular readings fit well


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    profile = tmp_path / "venue.json"
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((480, 640, 3), 90, np.uint8))
    cases = [
        (("paper", "--image", str(blank), "--profile", str(profile)), "no paper found"),
        (("paper", "--image", str(tmp_path / "nope.png")), "cannot read image"),
        (("tablet", "--area", "0.9,0,0.1,1", "--profile", str(profile)), "x0 < x1"),
        (("plotter", "--corners", "1,2 3,4", "--profile", str(profile)), "four"),
        (("plotter", "--points", "0,0=1,1;5,5=2,2;9,9=3,3", "--profile", str(profile)), "one line"),
        (("camera", "--images", str(tmp_path / "*.png")), "--json OUT and/or --profile"),
    ]
    for args, words in cases:
        r = calibrate(*args)
        assert r.returncode == 2, (args, r.stderr[-800:])
        assert words in r.stderr and "Traceback" not in r.stderr, (args, r.stderr[-800:])
    assert not profile.exists()  # nothing half-written by the failed steps


def test_accuracy_step_writes_the_benchmark_json(tmp_path: Path) -> None:
    out = tmp_path / "acc.json"
    r = calibrate("accuracy", "--scenes", "2", "--json", str(out))
    assert r.returncode == 0, r.stderr[-1500:]
    data = json.loads(out.read_text())
    assert len(data["paper"]) == 4 and data["chessboard"]["opencv_rms"] > 0


def test_plot_places_paths_through_the_registration(tmp_path: Path) -> None:
    from installation.core.svg_paths import read_svg_paths

    profile = tmp_path / "venue.json"
    # the sheet sits shifted by (40, 25) mm and turned a little on the plotter's bed
    corners = "40,25 250,30 245,327 35,322"
    assert calibrate("plotter", "--corners", corners, "--paper", "a4", "--profile", str(profile)).returncode == 0
    session = ROOT / "installation" / "assets" / "sessions" / "face_01.jsonl"
    svg = tmp_path / "out.svg"
    r = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "plot", str(session), "--svg", str(svg), "--profile", str(profile)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-1500:]
    lines, _ = read_svg_paths(svg)
    pts = np.concatenate(lines) / (96 / 25.4)  # svgelements reads CSS pixels; the file is in mm
    quad = np.array([[40, 25], [250, 30], [245, 327], [35, 322]], np.float32)
    inside = [cv2.pointPolygonTest(quad, (float(x), float(y)), False) >= 0 for x, y in pts]
    assert all(inside)
    assert pts[:, 0].min() > 50 and pts[:, 1].min() > 40  # inside the sheet's margins, not the plain fit
