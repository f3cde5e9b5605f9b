"""The quality benchmark on a tiny fixture split with tiny models, through the real CLI and ONNX Runtime."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from models.pix2pix.checkpoint import save_checkpoint
from models.pix2pix.config import Pix2PixConfig
from models.pix2pix.metrics import far_flicker, lattice_peak, sharpness
from models.pix2pix.networks import UnetGenerator, init_weights

ROOT = Path(__file__).resolve().parents[3]
FIX = ROOT / "tests" / "fixtures" / "svg"


def test_lattice_peak_separates_a_checkerboard_from_a_drawing() -> None:
    drawing = np.full((256, 256, 3), 255, np.uint8)
    cv2.circle(drawing, (128, 128), 80, (200, 120, 40), -1, cv2.LINE_AA)
    cv2.circle(drawing, (100, 110), 10, (20, 20, 20), 2, cv2.LINE_AA)
    grain = drawing.astype(np.float64)
    grain[::2, ::2] -= 6  # a faint period-2 checker, the strided up-convolution signature
    grain[1::2, 1::2] -= 6
    assert lattice_peak(drawing) < 10
    assert lattice_peak(grain.clip(0, 255).astype(np.uint8)) > 100
    with pytest.raises(ValueError, match="square"):
        lattice_peak(np.zeros((100, 60), np.uint8))


def test_sharpness_and_far_flicker() -> None:
    img = np.full((256, 256, 3), 255, np.uint8)
    cv2.rectangle(img, (60, 60), (190, 190), (0, 0, 0), 2)
    soft = cv2.GaussianBlur(img, (0, 0), 3)
    assert sharpness(img, img) == pytest.approx(1.0) and sharpness(soft, img) < 0.3
    ink = np.zeros((256, 256), bool)
    ink[10:14, 10:60] = True  # the newest stroke, top left
    after = img.copy()
    after[5:20, 5:70] = 0  # changed only next to it
    assert far_flicker(img, after, ink) == 0.0
    after[200:220, 200:220] = 0  # and now far away too
    assert far_flicker(img, after, ink) > 0
    assert far_flicker(img, after, np.zeros((256, 256), bool)) is None


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qpack")
    cmd = [sys.executable, str(ROOT / "run.py"), "build-data", "clipart", "--source", str(FIX), "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return out / "pack.npz"


def _tiny(path: Path, upsample: str) -> Path:
    torch.manual_seed(0)
    cfg = Pix2PixConfig(ngf=4, ndf=4, upsample=upsample)
    g = UnetGenerator(cfg)
    init_weights(g)
    save_checkpoint(path, g.eval(), cfg)
    return path


@pytest.mark.slow
def test_quality_command_compares_models_in_one_run(pack: Path, tmp_path: Path) -> None:
    a, b = _tiny(tmp_path / "a.pt", "transpose"), _tiny(tmp_path / "b.pt", "resize")
    out, sheet = tmp_path / "q.json", tmp_path / "q.png"
    cmd = [sys.executable, str(ROOT / "run.py"), "quality", "--data", str(pack), "--json", str(out)]
    cmd += ["--sheet", str(sheet), "--model", f"old={a}", "--model", f"new={b}", "--flicker-drawings", "2"]
    cmd += ["--cost-calls", "3", "--rows", "2"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads(out.read_text())
    old, new = rep["models"]
    assert [old["name"], new["name"]] == ["old", "new"] and rep["val_items"] >= 1
    for row in (old, new):
        for key in ("l1", "ssim", "sharpness", "lattice_peak_max", "flicker_sessions", "flicker_val", "cost_p50_ms"):
            assert np.isfinite(row[key]), key
        assert 0 <= row["flicker_sessions_shown"] <= row["flicker_sessions"] + 1e-6  # steadied: never more
    assert old["cost_vs_baseline"] == 1.0 and new["cost_vs_baseline"] > 0
    # the untrained transposed-convolution network already prints its lattice; the resize one does not
    assert old["lattice_peak_median"] > 10 * new["lattice_peak_median"]
    img = cv2.imread(str(sheet))
    assert img is not None and img.shape[1] > 4 * 256  # sketch | old | new | target


def test_quality_command_bad_model_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "pack.npz"  # the models are checked before the data
    cmd = [sys.executable, str(ROOT / "run.py"), "quality", "--data", str(data), "--json", str(tmp_path / "q.json")]
    r = subprocess.run([*cmd, "--model", "x"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "NAME=PATH" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([*cmd, "--model", f"x={tmp_path / 'none.onnx'}"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr


def _restless() -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Four states, a short stroke each, and answers whose far field jumps 180 levels at every state."""
    sketches, ink, answers = [], [], []
    img = np.full((256, 256), 255, np.uint8)
    for k in range(4):
        new = np.zeros((256, 256), bool)
        new[30 + 10 * k : 33 + 10 * k, 30:80] = True
        img = img.copy()
        img[new] = 0
        sketches.append(img)
        ink.append(new)
        a = np.full((256, 256, 3), 40 if k % 2 else 220, np.uint8)
        a[img < 128] = 0
        answers.append(a)
    return sketches, ink, answers


def test_shown_sequence_glides_far_from_the_stroke_and_takes_the_answer_near_it() -> None:
    from installation.core.steady import Steadiness
    from installation.verbs.quality import Sequence, shown_sequence

    sketches, ink, answers = _restless()
    seq = Sequence("restless", sketches, ink, [0.0, 0.5, 1.0, 1.5], [0.0, 0.5, 1.0, 1.5])
    shown = shown_sequence(seq, answers, Steadiness(2.0, 24.0, 16.0, 0.0))
    far = [int(s[220, 220, 0]) for s in shown]
    assert far[0] == 220 and all(abs(b - a) < 0.3 * 180 for a, b in zip(far, far[1:], strict=False))
    for s, a, new in zip(shown, answers, ink, strict=True):
        assert np.array_equal(s[new], a[new])  # the newest ink as answered
    assert shown_sequence(seq, answers, Steadiness(0.0, 24.0, 16.0, 0.0)) == answers  # off: the answers themselves


def test_shown_sequence_holds_while_strokes_are_drawn_and_the_rest_is_counted_once() -> None:
    from installation.core.steady import Steadiness
    from installation.verbs.quality import Sequence, _far_changes, _with_rest, shown_sequence

    sketches, ink, answers = _restless()
    times = [0.0, 1.0, 2.0, 3.0]
    s = Steadiness(0.5, 24.0, 16.0, 0.3)
    busy = shown_sequence(Sequence("busy", sketches, ink, times, [0.0, 0.2, 1.2, 2.2]), answers, s)
    assert {int(x[220, 220, 0]) for x in busy} == {220}  # pen down 0.2 s after each pen-up: always holding
    paused = shown_sequence(Sequence("paused", sketches, ink, times, [0.0, 0.9, 1.9, 2.9]), answers, s)
    assert int(paused[2][220, 220, 0]) < 220  # 0.6 s of rest before stroke 2: glided towards answer 1
    seq = Sequence("busy", sketches, ink, times, [0.0, 0.2, 1.2, 2.2])
    images, inks = _with_rest(seq, busy, answers[-1], s)
    assert len(images) == 5 and np.array_equal(images[-1], answers[-1]) and inks[-1] is ink[-1]
    changes = _far_changes(images, inks)
    raw = _far_changes(answers, ink)  # the restless far field: 180 levels at every answer
    assert max(changes[:3]) < 0.25 * min(raw)  # held while drawing (what moves is the feather near the pen)
    assert changes[3] > 0.5 * min(raw)  # and the held change is owed once, when the pen rests
    assert _with_rest(seq, answers, answers[-1], Steadiness(0.0, 24.0, 16.0, 0.0))[0] == answers
