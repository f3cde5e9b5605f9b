"""benchmarks/steady_sheet.py on the shipped model and an embedded session: five rows; the screen row is the
steadied view of the answers, and the answers themselves with steadiness off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "steady_sheet.py"


def _rows(tmp_path: Path, *extra: str) -> list[np.ndarray]:
    out = tmp_path / "s.png"
    cmd = [sys.executable, str(SCRIPT), "--out", str(out), "--session", "face_02", "--first", "8", "--count", "6"]
    r = subprocess.run([*cmd, *extra], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    img = cv2.imread(str(out))
    assert img is not None and img.shape == (5 * 160, 6 * 160, 3)
    return [img[k * 160 : (k + 1) * 160].astype(np.float64) for k in range(5)]


def test_the_screen_row_is_the_steadied_answers_and_the_answers_when_off(tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    assert rows[0].mean() > rows[1].mean()  # the sketch row is mostly paper, the answers are not
    assert np.abs(rows[2] - rows[1]).mean() > 0.5  # steadied: the screen lags the answers somewhere
    off = _rows(tmp_path, "--steady-s", "0")
    assert np.array_equal(off[2], off[1]) and np.array_equal(off[4], off[3])  # off: the screen is the answers


def test_an_unknown_session_is_one_line(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path / "s.png"), "--session", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "not an embedded session" in r.stderr and "Traceback" not in r.stderr
