"""The live CLIP scorer: real ONNX Runtime sessions on encoders exported from a tiny random small CLIP."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from installation.core.errors import UserError
from installation.runtime.clip_score import ClipScorer
from models.clip.api import tiny_clip
from models.clip.checkpoint import save_checkpoint
from models.clip.export import export_clip


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("clip")
    save_checkpoint(root / "tiny.pt", tiny_clip(seed=4))
    export_clip(root / "tiny.pt", root / "onnx")
    return root / "tiny.pt", root / "onnx"


def _drawing(size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 255, np.uint8)
    for _ in range(6):
        y, x = rng.integers(0, size - 8, 2)
        img[y : y + 6, x : x + rng.integers(2, 8)] = rng.integers(0, 200, 3)
    return img


def test_scorer_matches_torch_and_caches_prompts(exported: tuple[Path, Path]) -> None:
    ckpt, folder = exported
    scorer = ClipScorer(folder)
    model = tiny_clip(seed=4)
    assert (scorer.image_size, scorer.embed_dim, scorer.context_length) == (32, 16, 16)
    prompts = ["a drawing of a cat", "a house", "a drawing of a cat"]
    imgs = np.stack([_drawing(32, s) for s in range(3)])  # native size: no resize on either side
    got = np.stack([scorer.score(im, prompts) for im in imgs])  # (3, P)
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255.0
    want = model.score(x, prompts)
    assert np.abs(got - want).max() < 1e-4 and got[:, 0] == pytest.approx(got[:, 2])
    assert set(scorer._cache) == {"a drawing of a cat", "a house"}
    ranked = scorer.rank(imgs, "a house")
    assert np.allclose(ranked, got[:, 1], atol=1e-6)
    big = scorer.score(np.kron(imgs[0], np.ones((3, 3, 1), np.uint8)), prompts)  # 96² → resized inside
    assert np.abs(big - got[0]).max() < 0.05


def test_missing_or_mismatched_encoders_are_refused(exported: tuple[Path, Path], tmp_path: Path) -> None:
    ckpt, folder = exported
    with pytest.raises(UserError, match="clip_image.onnx is missing.*export --kind clip"):
        ClipScorer(tmp_path)
    other = tmp_path / "other"
    save_checkpoint(tmp_path / "b.pt", tiny_clip(seed=5))
    export_clip(tmp_path / "b.pt", other)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(folder / "clip_image.onnx", mixed)
    shutil.copy(other / "clip_text.onnx", mixed)
    with pytest.raises(UserError, match="different CLIP checkpoints"):
        ClipScorer(mixed)
    report = json.loads((folder / "clip.parity.json").read_text())
    assert set(report["files"]) == {"clip_image.onnx", "clip_text.onnx"}
    (mixed / "clip_text.onnx").write_bytes(b"truncated")
    with pytest.raises(UserError, match="not a readable ONNX file"):
        ClipScorer(mixed)


def test_worker_scores_the_newest_offer_and_reports_a_missing_export(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    import threading

    from installation.runtime.clip_worker import ClipScoreWorker

    _, folder = exported
    stop = threading.Event()
    worker = ClipScoreWorker(folder, hz=50.0, threads=1, stop=stop)
    worker.start()
    img = _drawing(32, 9)
    worker.offer(img, "a drawing of a cat")
    worker.offer(img, "a drawing of a cat")  # unchanged: not offered again
    first = worker.latest.take(timeout=10)
    worker.offer(img, "")
    blank = worker.latest.take(timeout=10)
    stop.set()
    worker.join(timeout=5)
    assert first is not None and blank is not None and not worker.is_alive()
    want = float(ClipScorer(folder).score(img, ["a drawing of a cat"])[0])
    assert first.prompt == "a drawing of a cat" and first.cosine == pytest.approx(want, abs=1e-5)
    assert blank.cosine == 0.0 and worker.calls == 2 and worker.inbox.dropped == 0
    assert "CLIP" in first.hud_line() and '"a drawing of a cat"' in first.hud_line()
    broken = ClipScoreWorker(tmp_path, hz=2.0, threads=1, stop=threading.Event())
    broken.start()
    broken.join(timeout=10)
    assert not broken.is_alive() and "clip_image.onnx is missing" in broken.error
