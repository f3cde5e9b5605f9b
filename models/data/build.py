"""`run.py build-data clipart|photos|pairs`: build a data pack with a progress bar, resumably, with a manifest.

Each source item is processed once into OUT/cache/ (so a re-run skips finished items); the pack and
`manifest.json` (counts, skips with reasons and first names, split sizes, the pack's sha256) are then written
from the cache. The split is by source item, so augmented copies of one drawing never straddle it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections import Counter, defaultdict
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from installation.core.errors import UserError
from models.data.pack import PackItem, clean_line, encode_gray, encode_rgb, write_pack

log = logging.getLogger(__name__)
BUILDER_VERSION = 1
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
MIN_ITEMS = 4


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="source_kind", required=True)
    for name, help_text in (
        ("clipart", "SVG clipart (e.g. /usr/share/openclipart/svg): render + hand-like outline sketches"),
        ("photos", "a folder of photos: the algorithmic sketcher makes each input sketch"),
        ("pairs", "an artist's aligned pairs: A/ and B/ folders matched by name, or side-by-side A|B images"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--source", type=Path, required=True)
        p.add_argument("--out", type=Path, required=True)
        p.add_argument("--resolution", type=int, default=256)
        p.add_argument("--limit", type=int, help="process at most this many source items")
        p.add_argument("--max-mb", type=float, default=55.0, help="pack size budget (people are kept first)")
        p.add_argument("--workers", type=int, default=2)
    from models.clip.data import add_arguments as add_clip

    add_clip(sub)


def main(args: argparse.Namespace) -> int:
    if args.source_kind == "clip":
        from models.clip.data import build

        return build(args)
    if not args.source.is_dir():
        raise UserError(f"source folder {args.source} does not exist: give a folder of SVGs, photos or pairs")
    cache = args.out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    if args.source_kind == "clipart":
        items, skips, seen = _clipart(args, cache)
    elif args.source_kind == "photos":
        items, skips, seen = _photos(args)
    else:
        items, skips, seen = _pairs(args)
    items = _fit_budget(items, args.max_mb * 2**20)
    _ensure_val(items)
    counts = Counter(it.split for it in items)
    if counts["train"] < MIN_ITEMS or counts["val"] < 1:
        raise UserError(
            f"only {counts['train']} training and {counts['val']} validation items could be made from "
            f"{args.source} ({sum(len(v) for v in skips.values())} skipped): add more source material"
        )
    pack_path = args.out / "pack.npz"
    manifest: dict[str, Any] = {
        "builder_version": BUILDER_VERSION,
        "source": str(args.source),
        "source_kind": args.source_kind,
        "resolution": args.resolution,
        "command": " ".join(["python", "run.py", "build-data", *sys.argv[2:]]) if len(sys.argv) > 2 else "",
        "seen": seen,
        "used": len(items),
        "people": int(sum(it.person for it in items)),
        "train": counts["train"],
        "val": counts["val"],
        "val_people": int(sum(it.person for it in items if it.split == "val")),
        "skipped": {reason: {"count": len(names), "first": names[:5]} for reason, names in sorted(skips.items())},
    }
    write_pack(pack_path, items, {k: manifest[k] for k in ("source", "source_kind", "resolution", "builder_version")})
    manifest["pack_bytes"] = pack_path.stat().st_size
    manifest["content_sha256"] = content_hash(items)
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    print(
        f"pack {pack_path}: {len(items)} items ({manifest['people']} people; {counts['train']} train / "
        f"{counts['val']} val), {manifest['pack_bytes'] / 2**20:.1f} MB; skipped "
        f"{sum(len(v) for v in skips.values())}; manifest {args.out / 'manifest.json'}"
    )
    return 0


def content_hash(items: list[PackItem]) -> str:
    """sha256 over the items' ids, splits, targets and sketches/outlines: the same data gives the same hash."""
    h = hashlib.sha256()
    for it in sorted(items, key=lambda x: x.id):
        h.update(f"{it.id}|{it.split}|{it.person}".encode())
        h.update(hashlib.sha256(it.target).digest() + hashlib.sha256(it.sketch).digest())
        for ln in it.outlines:
            h.update(clean_line(ln).astype(np.float16).tobytes())
    return h.hexdigest()


# -- clipart ----------------------------------------------------------------------------------------------------
def _clipart(args: argparse.Namespace, cache: Path) -> tuple[list[PackItem], dict[str, list[str]], int]:
    from models.data.svg import is_person, read_meta

    root = args.source
    files = sorted(root.rglob("*.svg"))
    metas: dict[Path, dict[str, str]] = {}
    for f in files:
        try:
            metas[f] = read_meta(f, root)
        except OSError:
            metas[f] = {"title": f.stem, "keywords": "", "category": ""}
    # people first, then the rest in a stable pseudo-random order, so a limit or a budget keeps the faces
    files.sort(key=lambda f: (not is_person(metas[f], f), hashlib.sha1(str(f.relative_to(root)).encode()).digest()))
    if args.limit:
        files = files[: args.limit]
    jobs = [(str(f), str(root), args.resolution, str(cache)) for f in files]
    items: list[PackItem] = []
    skips: dict[str, list[str]] = defaultdict(list)
    with Pool(max(1, args.workers)) as pool:
        results = pool.imap(_clipart_item, jobs, chunksize=4)
        for rel, outcome in tqdm(zip((j[0] for j in jobs), results, strict=True), total=len(jobs), desc="clipart"):
            if isinstance(outcome, str):
                skips[outcome].append(str(Path(rel).relative_to(root)))
            else:
                items.append(outcome)
    return items, skips, len(files)


def _clipart_item(job: tuple[str, str, int, str]) -> PackItem | str:
    """One SVG → a PackItem, or the reason it was skipped (cached either way)."""
    from models.data.pack import decode_rgb  # noqa: F401 - keeps the worker import light
    from models.data.svg import SvgSkip, is_person, load_drawing, read_meta, split_of

    path, root = Path(job[0]), Path(job[1])
    size, cache = job[2], Path(job[3])
    rel = str(path.relative_to(root))
    key = cache / (hashlib.sha1(f"{rel}|{size}".encode()).hexdigest() + ".npz")
    if key.is_file():
        z = np.load(key, allow_pickle=False)
        if "skip" in z.files:
            return str(z["skip"][0])
        meta = json.loads(str(z["meta"][0]))
        lines = [clean_line(ln) for ln in np.split(z["pts"].astype(np.float32), z["cuts"])]
        return PackItem(outlines=lines, target=z["target"].tobytes(), **meta)
    try:
        meta_raw = read_meta(path, root)
        drawing = load_drawing(path, size)
    except SvgSkip as e:
        np.savez(key, skip=np.array([str(e)]))
        return str(e)
    except (OSError, ValueError, MemoryError) as e:
        reason = f"failed ({type(e).__name__})"
        np.savez(key, skip=np.array([reason]))
        return reason
    meta = {
        "id": rel,
        "title": meta_raw["title"],
        "category": meta_raw["category"],
        "kind": "clipart",
        "split": split_of(rel),
        "person": is_person(meta_raw, path),
    }
    target = encode_rgb(drawing.target)
    drawing_lines = [ln for ln in map(clean_line, drawing.outlines) if len(ln) >= 2]
    cuts = np.cumsum([len(p) for p in drawing_lines])[:-1]
    np.savez(
        key,
        meta=np.array([json.dumps(meta)]),
        target=np.frombuffer(target, np.uint8),
        pts=np.concatenate(drawing_lines).astype(np.float16),
        cuts=cuts,
    )
    return PackItem(outlines=drawing_lines, target=target, **meta)


# -- photos and pairs -------------------------------------------------------------------------------------------
def _photos(args: argparse.Namespace) -> tuple[list[PackItem], dict[str, list[str]], int]:
    from installation.core.xdog import sketch_photo
    from models.data.svg import split_of

    files = sorted(p for p in args.source.rglob("*") if p.suffix.lower() in IMAGE_EXT)[: args.limit or None]
    items: list[PackItem] = []
    skips: dict[str, list[str]] = defaultdict(list)
    for f in tqdm(files, desc="photos"):
        rel = str(f.relative_to(args.source))
        bgr = cv2.imread(str(f), cv2.IMREAD_COLOR)
        if bgr is None or min(bgr.shape[:2]) < 32:
            skips["unreadable or too small"].append(rel)
            continue
        rgb = _square(bgr[:, :, ::-1], args.resolution)
        sketch = sketch_photo(rgb, args.resolution)
        items.append(PackItem(rel, f.stem, "", "photo", split_of(rel), False, encode_rgb(rgb), encode_gray(sketch)))
    return items, skips, len(files)


def _pairs(args: argparse.Namespace) -> tuple[list[PackItem], dict[str, list[str]], int]:
    from models.data.pairs import Skip, iter_aligned_pairs
    from models.data.svg import split_of

    items: list[PackItem] = []
    skips: dict[str, list[str]] = defaultdict(list)
    seen = 0
    for out in tqdm(iter_aligned_pairs(args.source, args.resolution), desc="pairs"):
        seen += 1
        if isinstance(out, Skip):
            skips[out.reason].append(out.id)
            continue
        items.append(
            PackItem(
                out.id, out.id, "", "pair", split_of(out.id), False, encode_rgb(out.target), encode_gray(out.sketch)
            )
        )
        if args.limit and seen >= args.limit:
            break
    return items, skips, seen


def _square(rgb: np.ndarray, size: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return cv2.resize(np.ascontiguousarray(rgb[y : y + s, x : x + s]), (size, size), interpolation=cv2.INTER_AREA)


def _fit_budget(items: list[PackItem], budget: float) -> list[PackItem]:
    """People first, then the rest, until the estimated pack size reaches the budget."""
    items = sorted(items, key=lambda it: (not it.person, hashlib.sha1(it.id.encode()).digest()))
    kept, total = [], 0.0
    for it in items:
        size = (len(it.target) + len(it.sketch) + sum(len(ln) for ln in it.outlines) * 4) * 1.06 + 600
        if total + size > budget and kept:
            continue
        kept.append(it)
        total += size
    if len(kept) < len(items):
        log.info("size budget: kept %d of %d items", len(kept), len(items))
    return kept


def _ensure_val(items: list[PackItem], min_val_people: int = 25) -> None:
    """Move whole source items (never copies) into val until it holds enough people, when there are enough."""
    people = [it for it in items if it.person]
    want = min(min_val_people, len(people) // 8)
    have = sum(it.split == "val" for it in people)
    for it in sorted(people, key=lambda x: hashlib.sha1(x.id.encode()).digest()):
        if have >= want:
            break
        if it.split == "train":
            it.split = "val"
            have += 1
    if not any(it.split == "val" for it in items) and len(items) >= 2:
        items[-1].split = "val"
