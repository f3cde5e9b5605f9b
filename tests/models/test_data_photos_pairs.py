import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.core.errors import UserError
from installation.core.xdog import sketch_photo
from models.data.pairs import PairItem, Skip, iter_aligned_pairs

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "tests" / "fixtures" / "photos" / "astronaut.png"


def test_sketcher_gives_plausible_line_density_on_edges() -> None:
    rgb = cv2.imread(str(PHOTO))[:, :, ::-1]
    sk = sketch_photo(rgb, 256)
    assert sk.shape == (256, 256) and set(np.unique(sk)) <= {0, 255}
    ink = sk < 128
    assert 0.04 < ink.mean() < 0.3
    # most ink lies on or near the photo's edges (or in hatched dark tone)
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    edges = cv2.dilate(cv2.Canny(gray, 50, 150), np.ones((7, 7), np.uint8)) > 0
    dark = cv2.GaussianBlur(gray, (0, 0), 3) < 0.3 * 255
    assert (ink & (edges | dark)).sum() / ink.sum() > 0.7
    assert np.array_equal(sk, sketch_photo(rgb, 256))  # deterministic


def test_sketcher_input_forms() -> None:
    rgb = cv2.imread(str(PHOTO))[:, :, ::-1]
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([rgb, np.full(gray.shape, 255, np.uint8)])
    assert np.array_equal(sketch_photo(gray, 128), sketch_photo(rgb, 128))
    assert sketch_photo(rgba, 128).shape == (128, 128)
    with pytest.raises(UserError, match="smaller than 16"):
        sketch_photo(np.zeros((4, 4, 3), np.uint8), 64)


def _pairs_ab(folder: Path) -> None:
    (folder / "A").mkdir(parents=True)
    (folder / "B").mkdir()
    for i in range(6):
        a = np.full((64, 64), 255, np.uint8)
        cv2.circle(a, (32, 32), 10 + i, 0, 1)
        b = np.full((64, 64, 3), 255, np.uint8)
        cv2.circle(b, (32, 32), 10 + i, (40, 90, 200), -1)
        cv2.imwrite(str(folder / "A" / f"p{i}.png"), a)
        cv2.imwrite(str(folder / "B" / f"p{i}.png"), b)
    cv2.imwrite(str(folder / "A" / "lonely.png"), a)  # no B
    (folder / "B" / "p0.png").write_bytes(b"not a png")  # unreadable


def test_ab_folders_pair_by_name_and_skip_with_reasons(tmp_path: Path) -> None:
    _pairs_ab(tmp_path)
    out = list(iter_aligned_pairs(tmp_path, 32))
    items = [o for o in out if isinstance(o, PairItem)]
    skips = {o.id: o.reason for o in out if isinstance(o, Skip)}
    assert len(items) == 5 and skips == {"lonely": "no B image of that name", "p0": "unreadable image"}
    assert items[0].sketch.shape == (32, 32) and items[0].target.shape == (32, 32, 3)
    assert items[0].target[16, 16, 2] < 100 and items[0].target[16, 16, 0] > 150  # BGR read → RGB out


def test_side_by_side_and_wrong_aspect(tmp_path: Path) -> None:
    img = np.full((40, 80, 3), 255, np.uint8)
    img[:, 40:] = (0, 0, 255)
    cv2.imwrite(str(tmp_path / "ok.png"), img)
    cv2.imwrite(str(tmp_path / "square.png"), img[:, :40])
    out = {o.id: o for o in iter_aligned_pairs(tmp_path, 16)}
    assert isinstance(out["ok"], PairItem) and out["ok"].target[8, 8, 0] > 200
    assert isinstance(out["square"], Skip) and "twice the height" in out["square"].reason
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="holds no images"):
        list(iter_aligned_pairs(empty, 16))


def test_builder_on_pairs_and_photos(tmp_path: Path) -> None:
    _pairs_ab(tmp_path / "pairs")
    run = [sys.executable, str(ROOT / "run.py"), "build-data"]
    r = subprocess.run(
        [*run, "pairs", "--source", str(tmp_path / "pairs"), "--out", str(tmp_path / "o1"), "--resolution", "64"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-1500:]
    m = json.loads((tmp_path / "o1" / "manifest.json").read_text())
    assert m["used"] == 5 and sum(v["count"] for v in m["skipped"].values()) == 2
    photos = tmp_path / "photos"
    photos.mkdir()
    src = cv2.imread(str(PHOTO))
    for i in range(6):
        cv2.imwrite(str(photos / f"ph{i}.png"), np.roll(src, 9 * i, axis=1))
    r = subprocess.run(
        [*run, "photos", "--source", str(photos), "--out", str(tmp_path / "o2"), "--resolution", "64"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-1500:]
    assert json.loads((tmp_path / "o2" / "manifest.json").read_text())["used"] == 6
