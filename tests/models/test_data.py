import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from installation.core.errors import UserError
from models.data.dataset import open_pairs, rasterize_val_sketches
from models.data.degrade import degrade
from models.data.pack import Pack
from models.data.svg import SvgSkip, is_person, load_drawing, read_meta, split_of

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "svg"


def _build(out: Path) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        str(ROOT / "run.py"),
        "build-data",
        "clipart",
        "--source",
        str(FIX),
        "--out",
        str(out),
        "--resolution",
        "128",
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pack")
    r = _build(out)
    assert r.returncode == 0, r.stderr
    return out


@pytest.mark.slow
def test_builder_counts_skips_and_manifest(built: Path) -> None:
    m = json.loads((built / "manifest.json").read_text())
    assert m["seen"] == 7 and m["used"] == 6 and m["people"] == 3
    reasons = m["skipped"]
    assert sum(v["count"] for v in reasons.values()) == 1
    assert any("broken.svg" in v["first"][0] for v in reasons.values())
    assert m["train"] + m["val"] == 6 and m["val"] >= 1
    assert len(m["content_sha256"]) == 64


def test_rebuild_is_resumable_and_hash_stable(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / "again"
    shutil.copytree(built, copy)
    cached = sorted(p.name for p in (copy / "cache").iterdir())
    r = _build(copy)
    assert r.returncode == 0
    assert sorted(p.name for p in (copy / "cache").iterdir()) == cached  # nothing re-processed
    a = json.loads((built / "manifest.json").read_text())["content_sha256"]
    b = json.loads((copy / "manifest.json").read_text())["content_sha256"]
    assert a == b


def test_outlines_line_up_with_the_render() -> None:
    d = load_drawing(FIX / "people" / "smiley009.svg", 128)
    ink = (d.target < 200).any(axis=2)
    dist_ok = 0
    pts = np.concatenate(d.outlines)
    for x, y in pts[:: max(1, len(pts) // 200)]:
        xi, yi = int(round(x)), int(round(y))
        win = ink[max(0, yi - 2) : yi + 3, max(0, xi - 2) : xi + 3]
        dist_ok += bool(win.size and win.any())
    assert dist_ok / len(pts[:: max(1, len(pts) // 200)]) > 0.9  # outline points sit on drawn edges


def test_bad_svg_is_a_skip_with_a_reason() -> None:
    with pytest.raises(SvgSkip, match="unparsable"):
        load_drawing(FIX / "shapes" / "broken.svg", 64)


def test_metadata_and_person_detection() -> None:
    meta = read_meta(FIX / "people" / "buddy01.svg", FIX)
    assert meta["category"] == "people" and meta["title"]
    assert is_person(meta, FIX / "people" / "buddy01.svg")
    assert not is_person(read_meta(FIX / "shapes" / "fc24.svg", FIX), FIX / "shapes" / "fc24.svg")
    assert split_of("a/b.svg") == split_of("a/b.svg") and {split_of(f"x{i}") for i in range(200)} == {"train", "val"}


def test_degrade_is_deterministic_and_plausible() -> None:
    d = load_drawing(FIX / "people" / "buddy01.svg", 256)
    a = degrade(d.outlines, 256, np.random.default_rng(1))
    b = degrade(d.outlines, 256, np.random.default_rng(1))
    c = degrade(d.outlines, 256, np.random.default_rng(2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    ink = (a < 128).mean()
    assert 0.005 < ink < 0.25


def test_dataset_items_and_split_by_source(built: Path) -> None:
    train = open_pairs(built, "train", 128, augment=True, seed=0)
    val = open_pairs(built, "val", 128, augment=False, seed=0)
    it = train[0]
    assert it["sketch"].shape == (1, 128, 128) and it["target"].shape == (3, 128, 128)
    assert float(it["sketch"].min()) >= -1 and float(it["target"].max()) <= 1
    ids_t = {train.pack.ids[i] for i in train.index}
    ids_v = {val.pack.ids[i] for i in val.index}
    assert ids_t and ids_v and not ids_t & ids_v
    assert max(train.sample_weights) > min(train.sample_weights)  # people oversampled
    v1, v2 = val[0], val[0]
    assert (v1["sketch"] == v2["sketch"]).all()  # validation is deterministic
    sheets = rasterize_val_sketches(built, 2)
    assert sheets and sheets[0][1].shape == (128, 128) and sheets[0][2].shape == (128, 128, 3)


def test_pack_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        Pack(tmp_path / "none.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(UserError, match="not a data pack"):
        Pack(tmp_path / "other.npz")


def test_too_few_items_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(FIX / "people" / "buddy01.svg", src)
    cmd = [
        sys.executable,
        str(ROOT / "run.py"),
        "build-data",
        "clipart",
        "--source",
        str(src),
        "--out",
        str(tmp_path / "o"),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "error: only" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_train_command_runs_end_to_end(built: Path, tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        str(ROOT / "run.py"),
        "train",
        "--data",
        str(built),
        "--out",
        str(tmp_path / "run"),
        "--resolution",
        "128",
        "--ngf",
        "4",
        "--ndf",
        "8",
        "--batch-size",
        "2",
        "--epochs",
        "1",
        "--epochs-decay",
        "1",
        "--workers",
        "0",
        "--val-items",
        "2",
        "--lambda-lattice",
        "10",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    run = tmp_path / "run"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and rows[-1]["lr"] < rows[0]["lr"]
    assert all(r["g_lat"] >= 0 for r in rows)  # the lattice term is computed and logged
    assert (run / "best.pt").is_file() and (run / "last.pt").is_file() and (run / "losses.png").is_file()
    assert list((run / "samples").glob("*.png"))
    # resume continues from the saved epoch
    r2 = subprocess.run(
        [*cmd, "--resume", str(run / "last.pt"), "--epochs-decay", "2"], capture_output=True, text=True, timeout=300
    )
    assert r2.returncode == 0, r2.stderr[-2000:]
    assert json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["epoch"] == 3


def test_partial_sketch_is_a_prefix_in_drawing_order() -> None:
    from models.data.degrade import hand_strokes, partial_sketch, render

    d = load_drawing(FIX / "people" / "buddy01.svg", 256)
    strokes = hand_strokes(d.outlines, 256, np.random.default_rng(5))
    assert len(strokes) >= 4
    # every prefix's ink contains the previous prefix's ink: strokes are only ever added, in order
    prev = render(strokes[:1], 256) < 128
    for k in range(2, len(strokes) + 1):
        now = render(strokes[:k], 256) < 128
        assert (now | ~prev).all()
        prev = now
    seen_partial = False
    for seed in range(12):
        ps = partial_sketch(d.outlines, 256, np.random.default_rng(seed), p_partial=0.7)
        assert 1 <= ps.k <= ps.n
        same = hand_strokes(d.outlines, 256, np.random.default_rng(seed))
        # `before` is the first k-1 strokes of the same hand, `after` adds stroke k; stray marks only in both
        ink_after, ink_before = ps.after < 128, ps.before < 128
        assert (ink_after | ~ink_before).all()
        newest = render(same[ps.k - 1 : ps.k], 256) < 128
        assert (ink_after[newest]).all()
        assert not ps.far[newest].any() and ps.far.any()
        seen_partial |= ps.k < ps.n
    assert seen_partial


def test_partial_dataset_items_carry_before_and_far(built: Path) -> None:
    ds = open_pairs(built, "train", 128, augment=True, seed=0, partial=0.5)
    it = ds[0]
    assert it["sketch"].shape == it["before"].shape == it["far"].shape == (1, 128, 128)
    far = it["far"][0].bool()
    # the sketch and the sketch less its newest stroke agree wherever the stroke is far away
    assert far.any() and torch.equal(it["sketch"][0][far] < 0, it["before"][0][far] < 0)


def test_pack_split_into_parts_reads_as_the_same_pack(built: Path, tmp_path: Path) -> None:
    from models.data.pack import split_pack

    whole = Pack(built)
    parts = split_pack(built / "pack.npz", tmp_path / "parts", max_mb=0.03)
    assert len(parts) >= 2 and all(p.stat().st_size < 0.05 * 2**20 for p in parts)
    merged = Pack(tmp_path / "parts")
    assert merged.ids == whole.ids and merged.splits == whole.splits and list(merged.person) == list(whole.person)
    for i in range(len(whole)):
        assert np.array_equal(merged.target(i), whole.target(i))
        a, b = merged.outlines(i), whole.outlines(i)
        assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.slow
def test_train_distils_a_teacher_into_a_smaller_student(built: Path, tmp_path: Path) -> None:
    import torch

    from models.pix2pix.checkpoint import read_checkpoint, save_checkpoint
    from models.pix2pix.config import Pix2PixConfig
    from models.pix2pix.networks import UnetGenerator

    tcfg = Pix2PixConfig(ngf=8, resolution=128, upsample="resize")
    save_checkpoint(tmp_path / "teacher.pt", UnetGenerator(tcfg), tcfg)
    cmd = [sys.executable, str(ROOT / "run.py"), "train", "--data", str(built), "--out", str(tmp_path / "s")]
    cmd += ["--resolution", "128", "--ngf", "4", "--ndf", "4", "--batch-size", "2", "--epochs", "1"]
    cmd += ["--epochs-decay", "0", "--workers", "0", "--val-items", "2", "--teacher", str(tmp_path / "teacher.pt")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    state = read_checkpoint(tmp_path / "s" / "last.pt")
    maps = state["feature_maps"]
    # one 1×1 map per inner block, from the student's channels to the teacher's
    weights = [v for k, v in maps.items() if k.endswith("weight")]
    assert len(weights) == tcfg.depth - 1 and all(w.shape[-2:] == (1, 1) for w in weights)
    assert weights[0].shape[:2] == torch.Size([16, 8])  # outermost inner block: teacher 2·8, student 2·4
    bad = subprocess.run([*cmd[:-1], str(tmp_path / "none.pt")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr
