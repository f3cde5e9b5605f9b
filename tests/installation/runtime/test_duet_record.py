"""A duet in the archive: duet.json (whose stroke was whose, with times) drawn in two inks on the contact sheet."""

import json
from pathlib import Path

import cv2
import numpy as np

from installation.core import duet_ink
from installation.runtime.archive import Archive
from installation.runtime.duet_record import png, record, sheet_image
from installation.verbs.archive import contact_sheet


def near(img: np.ndarray, bgr: tuple[int, int, int], tol: int = 90) -> int:
    return int((np.abs(img.astype(int) - bgr).sum(-1) < tol).sum())


def test_the_contact_sheet_draws_a_duet_in_two_inks_from_its_strokes(tmp_path: Path) -> None:
    a = Archive(tmp_path / "arch")
    strokes = [
        record("artist", 0, 1.0, 2.0, 0.0, [[100, 200], [900, 200]]),  # top: the artist's line
        record("ai", 1, 4.0, 4.6, 0.0, [[100, 800], [900, 800]]),  # bottom: the AI's
    ]
    grey = np.full((64, 64, 3), 128, np.uint8)  # duet.png deliberately grey: the sheet must come from duet.json
    files = {"duet.json": json.dumps({"canvas": 1024, "strokes": strokes}).encode(), "duet.png": png(grey)}
    files["ai.png"] = png(grey)
    wid = a.save("duet", files, {"reason": "duet"})
    assert wid
    out = tmp_path / "sheet.png"
    assert contact_sheet(a, a.list(), out, 1, 200) == 1
    tile = cv2.imread(str(out))[8:208, 8:208]
    top, bottom = tile[30:50], tile[146:166]  # the artist's line at y 39, the AI's at 156 (of 200)
    assert near(top, duet_ink.HUMAN_BGR) > 100 and near(top, duet_ink.AI_BGR) == 0
    assert near(bottom, duet_ink.AI_BGR) > 100 and near(bottom, duet_ink.HUMAN_BGR) == 0
    doc = json.loads(a.path(wid, "duet.json").read_text())
    assert [s["who"] for s in doc["strokes"]] == ["artist", "ai"] and doc["strokes"][1]["t_end"] == 4.6


def test_an_unreadable_duet_json_falls_back_and_never_raises() -> None:
    assert sheet_image(b"{not json", 64) is None
    assert sheet_image(json.dumps({"canvas": 1e12, "strokes": []}).encode(), 64) is None
    img = sheet_image(json.dumps({"canvas": 100, "strokes": [{"who": "ai", "points": [[1, "x"]]}]}).encode(), 64)
    assert img is None or img.shape == (64, 64, 3)
