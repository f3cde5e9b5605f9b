import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from installation.runtime.archive import Archive
from installation.verbs.archive import _label

ROOT = Path(__file__).resolve().parents[3]


def _png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def test_sheet_shows_sitter_works_with_their_own_images(tmp_path: Path) -> None:
    a = Archive(tmp_path / "arch")
    red = np.zeros((64, 64, 3), np.uint8)
    red[:, :, 2] = 220
    a.save("drawing", {"sketch.png": _png(red), "ai.png": _png(red)}, {"reason": "clear", "finished_at": "x"})
    drawing = np.full((297, 210, 3), 255, np.uint8)  # a sitter's drawing: the whole A4 sheet, dark lines
    drawing[40:260, 30:180] = (20, 20, 20)
    portrait = np.zeros((256, 256, 3), np.uint8)
    portrait[:, :, 1] = 200  # green
    a.save("sitter", {"drawing.png": _png(drawing), "portrait.png": _png(portrait)}, {"strokes_drawn": 3})
    out = tmp_path / "sheet.png"
    cmd = [sys.executable, str(ROOT / "run.py"), "archive", "sheet", "--root", str(tmp_path / "arch")]
    cmd += ["--out", str(out), "--thumb", "100", "--cols", "2"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-1500:]
    sheet = cv2.imread(str(out))
    cell_w, thumb = 2 * 100 + 12, 100
    x_sitter = 8 + cell_w  # second tile: the sitter work (oldest first)
    left = sheet[8 : 8 + thumb, x_sitter : x_sitter + thumb]
    right = sheet[8 : 8 + thumb, x_sitter + thumb + 2 : x_sitter + 2 * thumb + 2]
    assert (left < 60).all(axis=2).mean() > 0.3  # the drawing's dark lines, not a grey "missing" tile
    assert (left[:, :10] == 255).all()  # its A4 proportions kept: paper-white bands left and right
    assert right[:, :, 1].mean() > 180 and right[:, :, 2].mean() < 30  # the portrait
    show_tile = sheet[8 : 8 + thumb, 8 : 8 + thumb]
    assert show_tile[:, :, 2].mean() > 200  # show works still use sketch.png / ai.png
    labels = sheet[8 + thumb : 8 + thumb + 44, x_sitter : x_sitter + 2 * thumb + 2]
    rows_with_text = np.flatnonzero((labels < 120).any(axis=(1, 2)))
    assert rows_with_text.max() - rows_with_text.min() > 18  # two lines: the time, then the full id


def test_a_long_label_is_made_to_fit_not_cut() -> None:
    sheet = np.full((40, 400, 3), 245, np.uint8)
    _label(sheet, "20261201-071926-285231-sitter-1", (0, 20), 150)
    cols = np.flatnonzero((sheet < 120).any(axis=(0, 2)))
    assert cols.max() < 152 and cols.max() > 120  # shrunk to the tile's width, and all of it drawn


def test_a_sheet_of_an_empty_archive_is_refused_in_one_line(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    root.mkdir()
    out = tmp_path / "sheet.png"
    cmd = [sys.executable, "run.py", "archive", "sheet", "--root", str(root), "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and "holds no finished works" in r.stderr.strip().splitlines()[-1], r.stderr[-500:]
    assert not out.exists()
