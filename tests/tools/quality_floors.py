"""Quality floors of the shipped models on committed held-out inputs (tests/fixtures/quality/).

    python -m tests.tools.quality_floors            # measure the shipped models, compare with floors.json
    python -m tests.tools.quality_floors --write    # measure and (re)write floors.json: after a model is replaced

The inputs were drawn once from the data builders' held-out split and committed (never trained on by the
shipped models); they are remade only on purpose, with the pack they come from:

    python -m tests.tools.quality_floors --make-pix2pix data/clipart_all/pack.npz
    python -m tests.tools.quality_floors --make-clip data/clip_900/clip.npz   # build-data clip ... --limit 900

pix2pix: mean L1 (on [-1, 1]) and SSIM of the model's answers against the clipart targets, the units of the
model card, and sharpness (models.pix2pix.metrics; a blurred answer keeps L1 and SSIM but loses sharpness).
CLIP: image → caption retrieval among the fixture's captions, top-1 and top-5, for the live ONNX encoders and
for the judge. A floor is the measured value less a margin (L1: plus; sharpness: half kept), and `--write`
refuses floors that a trivial answer (blank, grey, the sketch itself, random embeddings) would meet.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "quality"
FLOORS = FIXTURES / "floors.json"
PIX2PIX_MODEL = ROOT / "installation" / "assets" / "models" / "pix2pix_default.onnx"
CLIP_MODELS = ROOT / "installation" / "assets" / "models"
JUDGE = ROOT / "models" / "clip" / "trained" / "clip_judge.pt"
# room for a retrained model of equal quality; sharpness (Laplacian energy over the target's) is a fraction kept
MARGIN = {"l1": 0.015, "ssim": 0.02, "sharpness_kept": 0.5, "top1": 0.1, "top5": 0.1}

log = logging.getLogger("quality_floors")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- pix2pix -------------------------------------------------------------------------------------------------
def pix2pix_pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The committed (id, sketch (S, S) uint8, target (S, S, 3) RGB uint8) pairs."""
    index = json.loads((FIXTURES / "pix2pix" / "index.json").read_text())
    out = []
    for it in index["items"]:
        sketch = cv2.imread(str(FIXTURES / "pix2pix" / it["sketch"]), cv2.IMREAD_GRAYSCALE)
        target = cv2.imread(str(FIXTURES / "pix2pix" / it["target"]), cv2.IMREAD_COLOR)
        if sketch is None or target is None:
            raise FileNotFoundError(f"fixture {it['sketch']} / {it['target']} is missing or unreadable")
        out.append((it["id"], sketch, np.ascontiguousarray(target[:, :, ::-1])))
    return out


def pix2pix_scores(answer: Any, pairs: list[tuple[str, np.ndarray, np.ndarray]]) -> dict[str, float]:
    """answer(sketch) → RGB uint8; mean L1 and SSIM over the pairs (the model card's units)."""
    import torch

    from models.data.dataset import to_tensor_rgb
    from models.pix2pix.metrics import l1, sharpness, ssim

    answers = [answer(sketch) for _, sketch, _ in pairs]
    y = torch.stack([to_tensor_rgb(a) for a in answers])
    t = torch.stack([to_tensor_rgb(target) for _, _, target in pairs])
    crisp = float(np.mean([sharpness(a, target) for a, (_, _, target) in zip(answers, pairs, strict=True)]))
    return {"l1": round(l1(y, t), 4), "ssim": round(ssim(y, t), 4), "sharpness": round(crisp, 4)}


def pix2pix_trivial(pairs: list[tuple[str, np.ndarray, np.ndarray]]) -> dict[str, dict[str, float]]:
    """What answers that know nothing score: white paper, mid grey, the sketch itself in grey."""
    side = pairs[0][1].shape[0]
    return {
        "white": pix2pix_scores(lambda s: np.full((side, side, 3), 255, np.uint8), pairs),
        "grey": pix2pix_scores(lambda s: np.full((side, side, 3), 128, np.uint8), pairs),
        "sketch": pix2pix_scores(lambda s: np.repeat(s[:, :, None], 3, axis=2), pairs),
    }


def open_pix2pix(path: Path = PIX2PIX_MODEL) -> Any:
    from installation.runtime.inference import RuntimeSettings, open_model

    return open_model(path, None, RuntimeSettings(providers=("cpu",), warmup_runs=0))


def make_pix2pix(pack: Path, n: int = 12) -> None:
    from models.data.dataset import rasterize_val_sketches

    folder = FIXTURES / "pix2pix"
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for k, (item_id, sketch, target) in enumerate(rasterize_val_sketches(pack, n)):
        names = {"sketch": f"{k:02d}_sketch.png", "target": f"{k:02d}_target.png"}
        cv2.imwrite(str(folder / names["sketch"]), sketch)
        cv2.imwrite(str(folder / names["target"]), target[:, :, ::-1])
        items.append({"id": item_id, **names})
    manifest = (
        json.loads((pack.parent / "manifest.json").read_text()) if (pack.parent / "manifest.json").is_file() else {}
    )
    index = {
        "made_by": f"python -m tests.tools.quality_floors --make-pix2pix {pack}",
        "source": "models.data.dataset.rasterize_val_sketches(pack, 12): held-out split, people first, seed 0",
        "pack_content_sha256": manifest.get("content_sha256", ""),
        "items": items,
    }
    (folder / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    log.info("wrote %d pairs to %s", len(items), folder)


# -- CLIP ----------------------------------------------------------------------------------------------------
def clip_items() -> tuple[np.ndarray, list[str], list[str]]:
    """The committed held-out drawings (N, S, S, 3) RGB uint8, their canonical captions and ids."""
    index = json.loads((FIXTURES / "clip" / "index.json").read_text())
    images = []
    for it in index["items"]:
        img = cv2.imread(str(FIXTURES / "clip" / it["image"]), cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f"fixture {it['image']} is missing or unreadable")
        images.append(img[:, :, ::-1])
    return np.stack(images), [it["caption"] for it in index["items"]], [it["id"] for it in index["items"]]


def retrieval(image_emb: np.ndarray, text_emb: np.ndarray) -> dict[str, float]:
    """Image i's own caption is text i: fraction ranked first, and among the first five."""
    sim = image_emb @ text_emb.T  # (N, N)
    rank = (sim > np.diag(sim)[:, None]).sum(axis=1)  # captions scored above the right one
    return {"top1": round(float((rank == 0).mean()), 4), "top5": round(float((rank < 5).mean()), 4)}


def clip_onnx_scores(folder: Path = CLIP_MODELS) -> dict[str, float]:
    from installation.runtime.clip_score import ClipScorer

    images, captions, _ = clip_items()
    scorer = ClipScorer(folder)
    return retrieval(scorer.image_embeddings(images), scorer.text_embeddings(captions))


def clip_torch_scores(path: Path = JUDGE) -> dict[str, float]:
    import torch

    from models.clip.api import load_clip

    images, captions, _ = clip_items()
    model = load_clip(path)
    with torch.no_grad():
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
        return retrieval(model.encode_image(x).float().numpy(), model.encode_text(captions).float().numpy())


def clip_trivial(n: int) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(0)
    random = retrieval(rng.normal(size=(n, 16)), rng.normal(size=(n, 16)))
    return {"random_embeddings": random, "chance": {"top1": round(1 / n, 4), "top5": round(min(1.0, 5 / n), 4)}}


def make_clip(pack: Path, n: int = 48) -> None:
    """n held-out drawings with distinct canonical captions, spread over the split (every k-th)."""
    from models.clip.data import canonical_caption, load_pack
    from models.clip.metrics import held_out

    images, items = load_pack(pack)
    val_images, val_items = held_out(images, items)
    seen: set[str] = set()
    picks = []
    for i, it in enumerate(val_items):
        cap = canonical_caption(it)
        if cap not in seen:
            seen.add(cap)
            picks.append(i)
    picks = picks[:: max(1, len(picks) // n)][:n]
    folder = FIXTURES / "clip"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k, i in enumerate(picks):
        name = f"{k:02d}.png"
        cv2.imwrite(str(folder / name), val_images[i][:, :, ::-1])
        out.append({"id": val_items[i]["id"], "image": name, "caption": canonical_caption(val_items[i])})
    manifest = (
        json.loads((pack.parent / "manifest.json").read_text()) if (pack.parent / "manifest.json").is_file() else {}
    )
    index = {
        "made_by": f"python -m tests.tools.quality_floors --make-clip {pack}",
        "pack_made_by": manifest.get("command", ""),
        "pack_content_sha256": manifest.get("content_sha256", ""),
        "source": "held-out split of `run.py build-data clip` (models.clip.metrics.held_out), distinct canonical "
        "captions, every k-th",
        "items": out,
    }
    (folder / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    log.info("wrote %d drawings to %s", len(out), folder)


# -- floors --------------------------------------------------------------------------------------------------
def measure() -> dict[str, Any]:
    pairs = pix2pix_pairs()
    model = open_pix2pix()
    n_clip = len(clip_items()[1])
    return {
        "pix2pix": {
            "model": str(PIX2PIX_MODEL.relative_to(ROOT)),
            "sha256": sha256(PIX2PIX_MODEL),
            "pairs": len(pairs),
            "measured": pix2pix_scores(model.run, pairs),
            "trivial": pix2pix_trivial(pairs),
        },
        "clip_onnx": {
            "model": str((CLIP_MODELS / "clip_image.onnx").relative_to(ROOT)) + " + clip_text.onnx",
            "sha256": sha256(CLIP_MODELS / "clip_image.onnx")[:16] + "/" + sha256(CLIP_MODELS / "clip_text.onnx")[:16],
            "drawings": n_clip,
            "measured": clip_onnx_scores(),
            "trivial": clip_trivial(n_clip),
        },
        "clip_judge": {
            "model": str(JUDGE.relative_to(ROOT)),
            "sha256": sha256(JUDGE),
            "drawings": n_clip,
            "measured": clip_torch_scores(),
            "trivial": clip_trivial(n_clip),
        },
    }


def floors_from(measured: dict[str, Any]) -> dict[str, Any]:
    """Each measured figure less its margin; refused if a trivial answer would meet it."""
    out: dict[str, Any] = {}
    for name, m in measured.items():
        got = m["measured"]
        if name == "pix2pix":
            floor = {
                "l1_max": round(got["l1"] + MARGIN["l1"], 4),
                "ssim_min": round(got["ssim"] - MARGIN["ssim"], 4),
                "sharpness_min": round(got["sharpness"] * MARGIN["sharpness_kept"], 4),
            }
        else:
            floor = {
                "top1_min": round(got["top1"] - MARGIN["top1"], 4),
                "top5_min": round(got["top5"] - MARGIN["top5"], 4),
            }
        for trivial, scores in m["trivial"].items():
            if not failures({"floors": floor}, scores):
                raise SystemExit(f"{name}: the {trivial} answer {scores} would meet the floors {floor}: not written")
        out[name] = {**{k: v for k, v in m.items() if k != "trivial"}, "floors": floor, "trivial": m["trivial"]}
    return out


def failures(entry: dict[str, Any], scores: dict[str, float]) -> list[str]:
    """The floors these scores miss (empty: all met)."""
    f, bad = entry["floors"], []
    if "l1_max" in f and not scores["l1"] <= f["l1_max"]:
        bad.append(f"L1 {scores['l1']} > {f['l1_max']}")
    if "ssim_min" in f and not scores["ssim"] >= f["ssim_min"]:
        bad.append(f"SSIM {scores['ssim']} < {f['ssim_min']}")
    if "sharpness_min" in f and not scores["sharpness"] >= f["sharpness_min"]:
        bad.append(f"sharpness {scores['sharpness']} < {f['sharpness_min']}")
    for k in ("top1", "top5"):
        if f"{k}_min" in f and not scores[k] >= f[f"{k}_min"]:
            bad.append(f"{k} {scores[k]} < {f[f'{k}_min']}")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.tools.quality_floors", description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help=f"write the measured floors to {FLOORS.relative_to(ROOT)}")
    ap.add_argument("--make-pix2pix", type=Path, metavar="PACK", help="remake the pix2pix pairs from a clipart pack")
    ap.add_argument("--make-clip", type=Path, metavar="PACK", help="remake the CLIP drawings from a clip pack")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.make_pix2pix:
        make_pix2pix(args.make_pix2pix)
    if args.make_clip:
        make_clip(args.make_clip)
    if args.make_pix2pix or args.make_clip:
        return 0
    measured = measure()
    if args.write:
        about = {
            "about": "floors of the shipped models on tests/fixtures/quality/; re-measure after replacing a model: "
            "python -m tests.tools.quality_floors --write",
            "margins": MARGIN,
        }
        FLOORS.write_text(json.dumps({**about, **floors_from(measured)}, indent=2) + "\n")
        log.info("wrote %s", FLOORS)
    recorded = json.loads(FLOORS.read_text()) if FLOORS.is_file() else {}
    worst = 0
    for name, m in measured.items():
        bad = failures(recorded[name], m["measured"]) if name in recorded else ["no floors recorded"]
        log.info("%s: %s → %s", name, m["measured"], "; ".join(bad) or "meets its floors")
        worst = worst or (1 if bad else 0)
    return worst


if __name__ == "__main__":
    sys.exit(main())
