"""The CLIP models: tokenizer, the tiny random-weight small CLIP, checkpoints, open_clip files, training, export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from installation.core.clip_tokens import load_tokenizer, tokenize
from installation.core.errors import UserError
from models.clip.api import load_clip, tiny_clip
from models.clip.checkpoint import save_checkpoint
from models.clip.config import TINY, ClipConfig
from models.clip.train import clip_loss

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = [
    "a drawing of a cat",
    "  Hello&amp;  WORLD's café 123 ǅ x",
    "Part of the Flat Icon Collection (Wed Aug 25 23:29:46 2004)",
    "日本語 emoji 🎨!!",
    "",
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen",
]
SHAPES = ["circle", "square", "triangle", "cross", "star", "spiral"]


def shape_image(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, size, 3) uint8: one black line drawing of `kind` on white, jittered."""
    img = np.full((size, size, 3), 255, np.uint8)
    c = (size / 2 + rng.normal(0, size * 0.05, 2)).astype(int)
    r = int(size * rng.uniform(0.25, 0.38))
    t = max(1, size // 24)
    if kind == "circle":
        cv2.circle(img, tuple(c), r, (0, 0, 0), t)
    elif kind == "square":
        cv2.rectangle(img, tuple(c - r), tuple(c + r), (0, 0, 0), t)
    elif kind == "cross":
        cv2.line(img, tuple(c - r), tuple(c + r), (0, 0, 0), t)
        cv2.line(img, (c[0] - r, c[1] + r), (c[0] + r, c[1] - r), (0, 0, 0), t)
    else:
        n = {"triangle": 3, "star": 10, "spiral": 24}[kind]
        a = np.linspace(0, 2 * np.pi * (3 if kind == "spiral" else 1), n, endpoint=kind == "spiral")
        rad = r * (
            np.linspace(0.1, 1, n) if kind == "spiral" else np.where(np.arange(n) % 2, 0.45, 1.0) if n == 10 else 1
        )
        pts = np.stack([c[0] + rad * np.cos(a), c[1] + rad * np.sin(a)], 1).astype(np.int32)
        cv2.polylines(img, [pts], kind != "spiral", (0, 0, 0), t)
    return img


def write_shape_pack(path: Path, n: int = 96, size: int = 40) -> Path:
    """A CLIP data pack of procedural shape drawings (same format as `run.py build-data clip`)."""
    rng = np.random.default_rng(0)
    images, meta = [], []
    for i in range(n):
        kind = SHAPES[i % len(SHAPES)]
        images.append(shape_image(kind, size, rng))
        family = "round" if kind in ("circle", "spiral") else "angular"
        split = "val" if i >= n - 12 else "train"
        meta.append({"id": f"shapes/{kind}/{i}.svg", "split": split, "title": kind, "keywords": f"{kind}, shape",
                     "category": f"{family}/{kind}"})  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, images=np.stack(images), meta=np.array([json.dumps(m) for m in meta]))
    return path


# -- tokenizer ------------------------------------------------------------------------------------------------
def test_tokenizer_matches_open_clip_and_round_trips() -> None:
    from open_clip.tokenizer import SimpleTokenizer

    ref = SimpleTokenizer()
    for length in (8, 32, 77):
        ids = tokenize(PROMPTS, length)
        assert ids.dtype == np.int32 and ids.shape == (len(PROMPTS), length)
        assert (ids == ref(PROMPTS, context_length=length).numpy()).all()
    tok = load_tokenizer()
    ids = tokenize(PROMPTS, 77)
    again = tokenize([tok.decode(list(row)) for row in ids], 77)
    assert (again == ids).all()
    assert tok.decode(list(tokenize(["A Drawing of a CAT!"], 16)[0])) == "a drawing of a cat !"


def test_long_text_is_cut_and_keeps_its_end_token() -> None:
    ids = tokenize([PROMPTS[-1]], 8)[0]
    tok = load_tokenizer()
    assert ids[0] == tok.start_id and ids[-1] == tok.end_id and (ids != 0).all()
    short = tokenize(["cat"], 8)[0]
    assert list(short[:3]) == [tok.start_id, tok.encode("cat")[0], tok.end_id] and not short[3:].any()


# -- the tiny model -------------------------------------------------------------------------------------------
def test_tiny_clip_embeddings_are_normalised_for_any_size_and_differentiable() -> None:
    model = tiny_clip(seed=1)
    assert (model.image_size, model.embed_dim) == (TINY.image_size, TINY.embed_dim)
    x = torch.rand(3, 3, 45, 70, requires_grad=True)
    img = model.encode_image(x)
    txt = model.encode_text(["a cat", "a dog"])
    assert img.shape == (3, TINY.embed_dim) and txt.shape == (2, TINY.embed_dim)
    assert torch.allclose(img.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.allclose(txt.norm(dim=1), torch.ones(2), atol=1e-5)
    (img @ txt.T)[:, 0].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    same = tiny_clip(seed=1).encode_text(["a cat"])
    assert torch.allclose(same, txt[:1]) and not torch.allclose(tiny_clip(seed=2).encode_text(["a cat"]), same)
    with pytest.raises(ValueError, match="B, 3, H, W"):
        model.encode_image(torch.rand(3, 32, 32))


@pytest.mark.slow
def test_training_loss_falls() -> None:
    torch.manual_seed(0)
    model = tiny_clip(seed=0).train()
    rng = np.random.default_rng(1)
    imgs = np.stack([shape_image(SHAPES[i % 6], 32, rng) for i in range(24)])
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255.0  # (24, 3, 32, 32)
    ids = model.tokenize([f"a drawing of a {SHAPES[i % 6]}" for i in range(24)])
    opt = torch.optim.AdamW(model.parameters(), 3e-3)
    losses = []
    for _ in range(40):
        loss = clip_loss(model, x[:6], ids[:6])  # six different shapes: a well-posed contrastive batch
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


# -- checkpoints and files ------------------------------------------------------------------------------------
def test_checkpoint_rebuilds_its_own_model(tmp_path: Path) -> None:
    cfg = ClipConfig(image_size=32, widths=(8, 16), embed_dim=24, context_length=12, token_dim=8, text_width=16,
                     text_layers=2, text_heads=2)  # fmt: skip
    from models.clip.networks import SmallClip

    torch.manual_seed(3)
    model = SmallClip(cfg).eval()
    save_checkpoint(tmp_path / "c.pt", model, step=7)
    save_checkpoint(tmp_path / "h.pt", model, half=True)
    back, half = load_clip(tmp_path / "c.pt"), load_clip(tmp_path / "h.pt")
    assert back.cfg == cfg and back.embed_dim == 24 and back.context_length == 12
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(back.encode_image(x), model.encode_image(x))
        assert torch.equal(back.encode_text(["a cat"]), model.encode_text(["a cat"]))
        assert (half.encode_image(x) - model.encode_image(x)).abs().max() < 2e-2
    assert (tmp_path / "h.pt").stat().st_size < 0.6 * (tmp_path / "c.pt").stat().st_size


def test_missing_or_foreign_files_are_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist: place the checkpoint there"):
        load_clip(tmp_path / "ViT-B-32.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="cannot be read"):
        load_clip(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(UserError, match="no CLIP state dict"):
        load_clip(tmp_path / "other.pt")
    png = tmp_path / "x.png"
    cv2.imwrite(str(png), np.full((20, 20, 3), 255, np.uint8))
    out = subprocess.run(
        [sys.executable, "run.py", "clip-score", "--image", str(png), "--prompts", "a cat", "--clip",
         str(tmp_path / "ViT-B-32.pt"), "--json", str(tmp_path / "s.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "ViT-B-32.pt does not exist" in out.stderr


def test_init_continues_from_a_checkpoint_and_keeps_its_lineage(tmp_path: Path) -> None:
    """--init: the continued run starts from the checkpoint's weights and config (not --config) and says so."""
    from models.clip.train import initial_model

    pack = write_shape_pack(tmp_path / "shapes" / "clip.npz")
    first, second = tmp_path / "first", tmp_path / "second"
    out = _run("train-clip", "--data", str(pack), "--out", str(first), "--tiny", "--time-budget-min", "0.02",
               "--batch", "12", "--eval-every", "5", "--threads", "1", "--seed", "4")  # fmt: skip
    assert out.returncode == 0, out.stderr
    model, lineage = initial_model(first / "last.pt")
    saved = torch.load(first / "last.pt", weights_only=True)
    assert model.cfg == TINY and lineage == [
        {"seed": 4, "order_seed": 0, "preset": "tiny", "step": saved["step"], "wall_s": saved["wall_s"],
         "lr": 2e-3, "path": str(first / "last.pt")}
    ]  # fmt: skip
    for k, v in model.state_dict().items():
        assert torch.equal(v, saved["model"][k].float()), k
    out = _run("train-clip", "--data", str(pack), "--out", str(second), "--init", str(first / "last.pt"),
               "--config", "small", "--time-budget-min", "0.02", "--batch", "12", "--eval-every", "5",
               "--threads", "1", "--lr", "1e-3")  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = json.loads((second / "summary.json").read_text())
    assert summary["preset"] == "tiny" and summary["lr"] == 1e-3 and summary["lineage"] == lineage
    assert load_clip(second / "last.pt").cfg == TINY  # the checkpoint's config, not --config small
    again, chain = initial_model(second / "last.pt")
    assert [c["path"] for c in chain] == [str(first / "last.pt"), str(second / "last.pt")]
    assert any(not torch.equal(v, model.state_dict()[k]) for k, v in again.state_dict().items())  # it trained on
    out = _run("train-clip", "--data", str(pack), "--out", str(tmp_path / "x"), "--init", str(tmp_path / "no.pt"))
    assert out.returncode == 2 and "no.pt does not exist" in out.stderr and "Traceback" not in out.stderr


TINY_OPEN_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 16, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


@pytest.mark.slow
def test_open_clip_state_dict_loads_with_named_or_inferred_architecture(tmp_path: Path) -> None:
    import open_clip

    (tmp_path / "tiny-test-ViT.json").write_text(json.dumps(TINY_OPEN_CLIP))
    open_clip.add_model_config(tmp_path / "tiny-test-ViT.json")
    torch.manual_seed(0)
    ref = open_clip.create_model("tiny-test-ViT", pretrained=None).eval()
    torch.save({"state_dict": {f"module.{k}": v for k, v in ref.state_dict().items()}}, tmp_path / "oc.pt")
    for arch in ("tiny-test-ViT", None):
        model = load_clip(tmp_path / "oc.pt", arch=arch)
        assert model.name == "tiny-test-ViT" and (model.image_size, model.embed_dim) == (32, 16)
        x = torch.rand(2, 3, 32, 32)
        with torch.no_grad():
            mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
            std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
            want = torch.nn.functional.normalize(ref.encode_image((x - mean) / std), dim=-1)
            assert torch.allclose(model.encode_image(x), want, atol=1e-5)
            ids = open_clip.get_tokenizer("tiny-test-ViT")(["a cat"])
            want_t = torch.nn.functional.normalize(ref.encode_text(ids), dim=-1)
            assert torch.allclose(model.encode_text(["a cat"]), want_t, atol=1e-5)
    with pytest.raises(UserError, match="does not fit architecture ViT-B-32: size mismatch"):
        load_clip(tmp_path / "oc.pt", arch="ViT-B-32")


def test_openai_torchscript_archive_loads_as_its_quickgelu_architecture(tmp_path: Path) -> None:
    import open_clip

    for name, quick in (("tiny-test-ViT", False), ("tiny-test-ViT-quickgelu", True)):
        (tmp_path / f"{name}.json").write_text(json.dumps({**TINY_OPEN_CLIP, "quick_gelu": quick}))
        open_clip.add_model_config(tmp_path / f"{name}.json")
    torch.manual_seed(1)
    ref = open_clip.create_model("tiny-test-ViT-quickgelu", pretrained=None).eval().half()  # OpenAI ships fp16
    example = (torch.rand(1, 3, 32, 32).half(), torch.zeros(1, 16, dtype=torch.long))
    torch.jit.trace(ref, example, check_trace=False).save(str(tmp_path / "openai.pt"))
    model = load_clip(tmp_path / "openai.pt")
    assert model.name == "tiny-test-ViT-quickgelu"
    ref = ref.float()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        want = torch.nn.functional.normalize(ref.encode_image((x - model.mean) / model.std), dim=-1)
        assert torch.allclose(model.encode_image(x), want, atol=1e-5)


# -- the commands ---------------------------------------------------------------------------------------------
def _run(*argv: str) -> subprocess.CompletedProcess:
    """run.py's own main, in this process (the verbs' code path without a new interpreter per call)."""
    import contextlib
    import importlib.util
    import io

    spec = importlib.util.spec_from_file_location("run_entry", ROOT / "run.py")
    assert spec is not None and spec.loader is not None
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    out, err = io.StringIO(), io.StringIO()
    threads = torch.get_num_threads()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(list(argv))
    torch.set_num_threads(threads)  # train-clip/clip-eval set their own: leave the rest of the suite as it was
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


@pytest.mark.slow
def test_build_train_eval_export_score(tmp_path: Path) -> None:
    """build-data clip on the SVG fixtures; train-clip, clip-eval, export --kind clip and clip-score on a pack."""
    out = _run(
        "build-data", "clip", "--source", "tests/fixtures/svg", "--out", str(tmp_path / "svg"), "--resolution", "40"
    )
    assert out.returncode == 0, out.stderr
    manifest = json.loads((tmp_path / "svg" / "manifest.json").read_text())
    assert manifest["used"] == 6 and manifest["val"] >= 1 and manifest["skipped"]
    pack = write_shape_pack(tmp_path / "shapes" / "clip.npz")
    run = tmp_path / "run"
    out = _run("train-clip", "--data", str(pack), "--out", str(run), "--tiny", "--time-budget-min", "0.05",
               "--batch", "12", "--eval-every", "5", "--threads", "1")  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = [json.loads(s) for s in (run / "metrics.jsonl").read_text().splitlines()]
    assert lines and {"caption_top1", "category_top5", "loss"} <= set(lines[-1])
    model = load_clip(run / "best.pt")
    assert model.cfg == TINY
    out = _run("clip-eval", "--data", str(pack), "--clip", str(run / "best.pt"), "--json", str(tmp_path / "e.json"),
               "--sheet", str(tmp_path / "sheet.png"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    ev = json.loads((tmp_path / "e.json").read_text())
    assert ev["images"] == 12 and ev["categories"] == ["angular", "round"]
    # the reported category top-1 is what this model scores on the 12 held-out shapes, counted here
    data = np.load(pack)
    held = [i for i, m in enumerate(data["meta"]) if json.loads(str(m))["split"] == "val"]
    truth = [json.loads(str(data["meta"][i]))["category"].split("/")[0] for i in held]
    with torch.no_grad():
        img = model.encode_image(torch.from_numpy(data["images"][held]).permute(0, 3, 1, 2).float() / 255)
        txt = model.encode_text(["a drawing of angular", "a drawing of round"])
    guess = [["angular", "round"][j] for j in (img @ txt.T).argmax(1).tolist()]
    assert ev["category_top1"] == pytest.approx(np.mean([g == t for g, t in zip(guess, truth, strict=True)]), abs=1e-3)
    assert cv2.imread(str(tmp_path / "sheet.png")) is not None
    onnx_dir = tmp_path / "onnx"
    out = _run("export", "--kind", "clip", "--checkpoint", str(run / "best.pt"), "--out", str(onnx_dir),
               "--parity-data", str(pack))  # fmt: skip
    assert out.returncode == 0, out.stderr
    report = json.loads((onnx_dir / "clip.parity.json").read_text())
    assert len(report["files"]) == 2  # both encoders were measured (the torch-vs-ONNX scores below are ours)
    png = tmp_path / "circle.png"
    cv2.imwrite(str(png), shape_image("circle", 32, np.random.default_rng(5)))
    prompts = "a drawing of a circle|a drawing of a square"
    out = _run(
        "clip-score",
        "--image",
        str(png),
        "--prompts",
        prompts,
        "--models",
        str(onnx_dir),
        "--json",
        str(tmp_path / "o.json"),
    )
    assert out.returncode == 0, out.stderr
    out = _run(
        "clip-score",
        "--image",
        str(png),
        "--prompts",
        prompts,
        "--clip",
        str(run / "best.pt"),
        "--json",
        str(tmp_path / "t.json"),
    )
    assert out.returncode == 0, out.stderr
    onnx_scores = [s["cosine"] for s in json.loads((tmp_path / "o.json").read_text())["scores"]]
    torch_scores = [s["cosine"] for s in json.loads((tmp_path / "t.json").read_text())["scores"]]
    assert np.allclose(onnx_scores, torch_scores, atol=1e-4)  # 32² image: no resize on either side
