"""`run.py clip-eval`: held-out zero-shot retrieval of a CLIP (JSON) and a sheet of held-out drawings with
their top-3 predicted categories (PNG)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import cv2
import numpy as np
import torch

from installation.core.files import check_writable

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="clip.npz from `run.py build-data clip`")
    parser.add_argument("--clip", type=Path, help="a CLIP file (default: the embedded small CLIP)")
    parser.add_argument("--clip-arch", help="open_clip architecture of --clip (default: inferred)")
    parser.add_argument("--judge", action="store_true", help="evaluate the judge CLIP instead")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--sheet", type=Path, help="PNG of held-out drawings with their top-3 categories")
    parser.add_argument("--threads", type=int, default=2)


def main(args: argparse.Namespace) -> int:
    from models.clip.api import load_clip, load_judge
    from models.clip.data import category_prompt, evaluated_categories, load_pack, top_category
    from models.clip.metrics import embed_images, embed_texts, held_out, zero_shot

    check_writable(args.json, "--json")
    check_writable(args.sheet, "--sheet")
    torch.set_num_threads(args.threads)
    model = load_judge() if args.judge else load_clip(args.clip, arch=args.clip_arch)
    images, items = load_pack(args.data)
    cats = evaluated_categories(items)
    val_images, val_items = held_out(images, items)
    result = {"model": "judge" if args.judge else str(args.clip or "embedded default"), "data": str(args.data)}
    result.update(zero_shot(model, val_images, val_items, cats))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(
        f"held-out {result['images']} drawings: captions top-1 {result['caption_top1']:.3f} / top-5 "
        f"{result['caption_top5']:.3f} (of {result['captions']}); categories top-1 {result['category_top1']:.3f} / "
        f"top-5 {result['category_top5']:.3f} (of {len(cats)}) → {args.json}"
    )
    if args.sheet:
        pick = [i for i, it in enumerate(val_items) if top_category(it) in cats]
        pick = pick[:: max(1, len(pick) // 24)][:24]
        img = embed_images(model, val_images[pick])
        sim = img @ embed_texts(model, [category_prompt(c) for c in cats]).T  # (24, C)
        top = sim.topk(min(3, len(cats)), dim=1).indices.tolist()
        labels = [(top_category(val_items[i]), [cats[j] for j in t]) for i, t in zip(pick, top, strict=True)]
        write_sheet(args.sheet, val_images[pick], labels)
        print(f"sheet {args.sheet}")
    return 0


def write_sheet(path: Path, images: np.ndarray, labels: list[tuple[str, list[str]]], cols: int = 6) -> None:
    """Tiles: the drawing (upscaled to 160²), its true category, then the top-3 predictions (green if right)."""
    tile, text_h = 160, 62
    rows = (len(images) + cols - 1) // cols
    sheet = np.full((rows * (tile + text_h), cols * tile, 3), 255, np.uint8)
    for n, (img, (truth, preds)) in enumerate(zip(images, labels, strict=True)):
        y, x = (n // cols) * (tile + text_h), (n % cols) * tile
        sheet[y : y + tile, x : x + tile] = cv2.resize(img, (tile, tile), interpolation=cv2.INTER_NEAREST)
        cv2.putText(sheet, f"true: {truth}", (x + 3, y + tile + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 0), 1)
        for k, p in enumerate(preds):
            colour = (0, 140, 0) if p == truth else (170, 0, 0)
            org = (x + 3, y + tile + 26 + 12 * k)
            cv2.putText(sheet, f"{k + 1}. {p}", org, cv2.FONT_HERSHEY_SIMPLEX, 0.36, colour, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), sheet[:, :, ::-1])
