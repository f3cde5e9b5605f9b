"""`run.py build-data clip`: openclipart drawings rendered to small RGB squares, with their captions.

Each SVG is rendered (resvg, through models/data/svg.py) at 2× and cropped to its visible extent, centred on a
white square of `--resolution` pixels. Captions come from the drawing's title, keywords and folder. The split is
fixed by a hash of the file's relative path (models.data.svg.split_of), so a drawing is never on both sides.
Output: OUT/clip.npz (images (N, S, S, 3) uint8, JSON metadata per item) and OUT/manifest.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
from collections import Counter, defaultdict
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from installation.core.errors import UserError

log = logging.getLogger(__name__)
BUILDER_VERSION = 1
SKIP_CATEGORIES = ("unsorted", "special")  # not things a prompt names: kept for captions, not as categories
COLLECTION = 20  # a title shared by this many drawings names a collection, not the drawing
MIN_CATEGORY = 20  # top-level folders with fewer held-out-able items are not evaluated as categories


def add_arguments(sub: Any) -> None:
    p = sub.add_parser("clip", help="SVG clipart → small RGB renders + captions for the small CLIP")
    p.add_argument("--source", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--resolution", type=int, default=80)
    p.add_argument("--limit", type=int, help="process at most this many SVGs")
    p.add_argument("--workers", type=int, default=2)


def build(args: argparse.Namespace) -> int:
    from models.data.svg import read_meta, split_of

    root: Path = args.source
    if not root.is_dir():
        raise UserError(f"source folder {root} does not exist: install openclipart-svg or give a folder of SVGs")
    files = sorted(root.rglob("*.svg"))
    if args.limit:
        files = sorted(files, key=lambda f: hash_key(str(f.relative_to(root))))[: args.limit]
    jobs = [(str(f), args.resolution) for f in files]
    images: list[np.ndarray] = []
    items: list[dict[str, str]] = []
    skips: dict[str, list[str]] = defaultdict(list)
    with Pool(max(1, args.workers)) as pool:
        for f, out in tqdm(zip(files, pool.imap(_render_job, jobs, chunksize=8), strict=True), total=len(files)):
            rel = str(f.relative_to(root))
            if isinstance(out, str):
                skips[out].append(rel)
                continue
            meta = read_meta(f, root)
            images.append(out)
            items.append({"id": rel, "split": split_of(rel), **meta})
    if items and not any(it["split"] == "val" for it in items):  # a small folder: hold out its last drawing
        max(items, key=lambda it: it["id"])["split"] = "val"
    if sum(it["split"] == "train" for it in items) < 4:
        raise UserError(f"too few drawings could be rendered from {root} ({len(items)}): add more SVGs")
    args.out.mkdir(parents=True, exist_ok=True)
    pack = args.out / "clip.npz"
    tmp = pack.with_name("clip.tmp.npz")
    np.savez_compressed(tmp, images=np.stack(images), meta=np.array([json.dumps(it) for it in items]))
    tmp.replace(pack)
    counts = Counter(it["split"] for it in items)
    manifest = {
        "builder_version": BUILDER_VERSION,
        "source": str(root),
        "resolution": args.resolution,
        "seen": len(files),
        "used": len(items),
        "train": counts["train"],
        "val": counts["val"],
        "categories": dict(sorted(Counter(top_category(it) for it in items).items())),
        "skipped": {r: {"count": len(n), "first": n[:5]} for r, n in sorted(skips.items())},
        "pack_bytes": pack.stat().st_size,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    print(f"pack {pack}: {len(items)} drawings ({counts['train']} train / {counts['val']} held out), skipped "
          f"{sum(len(v) for v in skips.values())}; manifest {args.out / 'manifest.json'}")  # fmt: skip
    return 0


def hash_key(rel: str) -> bytes:
    import hashlib

    return hashlib.sha1(rel.encode()).digest()


def _render_job(job: tuple[str, int]) -> np.ndarray | str:
    """One SVG → (S, S, 3) uint8 RGB on white, or the reason it was skipped."""
    from models.data.svg import MARGIN, MAX_BYTES, SvgSkip, _render_rgba

    path, size = Path(job[0]), job[1]
    try:
        if path.stat().st_size > MAX_BYTES:
            return "too large"
        rgba = _render_rgba(path, size * 2)
    except SvgSkip as e:
        return str(e)
    except (OSError, ValueError, MemoryError) as e:
        return f"failed ({type(e).__name__})"
    ys, xs = np.nonzero(rgba[:, :, 3] > 8)
    if len(xs) < 20:
        return "empty render"
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    k = size * (1 - 2 * MARGIN) / max(x1 - x0, y1 - y0)
    m = np.array([[k, 0, size / 2 - k * (x0 + x1) / 2], [0, k, size / 2 - k * (y0 + y1) / 2]], np.float32)
    warped = cv2.warpAffine(rgba, m, (size, size), flags=cv2.INTER_AREA, borderValue=(0, 0, 0, 0))
    a = warped[:, :, 3:4].astype(np.float32) / 255.0
    rgb = warped[:, :, 2::-1].astype(np.float32) * a + 255.0 * (1 - a)  # BGRA → RGB over white
    out = rgb.round().clip(0, 255).astype(np.uint8)
    if float((out < 250).any(axis=2).mean()) < 0.005:
        return "nearly blank"
    return out


# -- captions ---------------------------------------------------------------------------------------------------
def top_category(item: dict[str, str]) -> str:
    return item["category"].split("/")[0] if item["category"] else ""


def category_words(item: dict[str, str]) -> str:
    return " ".join(p.replace("_", " ").replace("-", " ") for p in item["category"].split("/") if p)


def category_prompt(category: str) -> str:
    return f"a drawing of {category.replace('_', ' ')}"


def canonical_caption(item: dict[str, str]) -> str:
    """The held-out evaluation caption: name plus the first keywords."""
    kws = [k for k in item["keywords"].split(", ") if k][:3]
    return f"a drawing of {item['name']}" + (f", {', '.join(kws)}" if kws else "")


def name_items(items: list[dict[str, str]]) -> None:
    """Each item's 'name': its title, or its file name's words when the title names a whole collection
    (e.g. 1,375 drawings titled "gramastar", 598 "Part of the Flat Icon Collection (…)")."""
    counts = Counter(it["title"] for it in items)
    for it in items:
        if counts[it["title"]] >= COLLECTION:
            stem = re.sub(r"[_-]?\d+$", "", Path(it["id"]).stem)
            it["name"] = re.sub(r"[_\-]+", " ", stem).strip() or it["title"]
        else:
            it["name"] = it["title"]


def random_caption(item: dict[str, str], rng: random.Random, enrich_p: float = 0.5) -> str:
    """A training caption: `plain_caption`, half the time varied by models.clip.captions.enrich (synonyms,
    plural/singular, other phrasings of "a drawing of")."""
    from models.clip.captions import enrich

    text = plain_caption(item, rng)
    return enrich(text, rng) if rng.random() < enrich_p else text


def plain_caption(item: dict[str, str], rng: random.Random) -> str:
    """A training caption: title, a shuffled subset of keywords and the folder, in one of a few forms."""
    kws = [k for k in item["keywords"].split(", ") if k]
    rng.shuffle(kws)
    kws = kws[: rng.randint(0, 4)]
    folder = category_words(item)
    form = rng.random()
    if form < 0.35:
        return canonical_caption(item)
    if form < 0.55 and kws:
        return ", ".join(kws)
    if form < 0.7:
        return f"a drawing of {folder}"
    parts = [f"a drawing of {item['name']}", *kws]
    if rng.random() < 0.5:
        parts.append(folder)
    return ", ".join(parts)


def evaluated_categories(items: list[dict[str, str]]) -> list[str]:
    """Top-level folders with enough drawings; every named folder when fewer than two qualify (small packs)."""
    counts = Counter(top_category(it) for it in items)
    cats = sorted(c for c, n in counts.items() if c and n >= MIN_CATEGORY and c not in SKIP_CATEGORIES)
    return cats if len(cats) >= 2 else sorted(c for c in counts if c)


def load_pack(path: Path) -> tuple[np.ndarray, list[dict[str, str]]]:
    if not path.is_file():
        raise UserError(f"CLIP data {path} does not exist: build it with `python run.py build-data clip "
                        "--source /usr/share/openclipart/svg --out data/clip`")  # fmt: skip
    z = np.load(path, allow_pickle=False)
    items = [json.loads(s) for s in z["meta"]]
    name_items(items)
    return z["images"], items
