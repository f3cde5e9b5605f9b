"""`run.py train-clip`: train the small CLIP contrastively on the clipart pack, within a wall-time budget.

Symmetric InfoNCE over a batch of (augmented drawing, random caption) pairs with a learnable temperature.
The learning rate follows the elapsed fraction of the time budget (warm-up, then cosine), so a short budget
still ends annealed. `--init` continues from a checkpoint's weights (its own config; a fresh optimiser and schedule,
a warm restart); the lineage is kept in every checkpoint and the summary. The held-out split is scored every
`--eval-every` steps; OUT/best.pt (fp16 weights, config inside) keeps the best caption+category top-1, OUT/last.pt
the latest; OUT/metrics.jsonl one line per score.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from installation.core.errors import UserError
from installation.core.files import check_writable

if TYPE_CHECKING:
    from models.clip.networks import SmallClip

log = logging.getLogger(__name__)
PER_NAME = 40  # drawings of one name per epoch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="clip.npz from `run.py build-data clip`")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--time-budget-min", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=0, help="weights initialisation")
    parser.add_argument("--order-seed", type=int, default=0, help="data order, augmentations and captions")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 avoids spin-waits on a busy CPU)")
    parser.add_argument("--eval-every", type=int, default=300, help="steps between held-out scores")
    parser.add_argument("--tiny", action="store_true", help="the tiny test config (for smoke runs)")
    parser.add_argument(
        "--config", default="small", help="small, small-judge, medium, medium-judge or tiny (models/clip/config.py)"
    )
    parser.add_argument("--stroke-views", type=Path, help="renders from models.clip.stroke_views (steering's look)")
    parser.add_argument("--stroke-p", type=float, default=0.3, help="share of a batch drawn from --stroke-views")
    parser.add_argument("--enrich-p", type=float, default=0.5, help="share of captions varied (synonyms, plurals)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument(
        "--init", type=Path, help="continue from this small-CLIP checkpoint (its config; new optimiser and schedule)"
    )


def main(args: argparse.Namespace) -> int:
    from models.clip.checkpoint import save_checkpoint
    from models.clip.config import TINY
    from models.clip.data import evaluated_categories, load_pack
    from models.clip.metrics import held_out, zero_shot
    from models.clip.networks import SmallClip

    check_writable(args.out, "--out", folder=True)
    torch.set_num_threads(args.threads)
    start = initial_model(args.init) if args.init is not None else None  # a wrong path fails before the pack loads
    images, items = load_pack(args.data)
    train_idx = [i for i, it in enumerate(items) if it["split"] == "train"]
    if len(train_idx) < args.batch:
        raise UserError(f"{args.data} has {len(train_idx)} training drawings, fewer than --batch {args.batch}")
    val_images, val_items = held_out(images, items)
    cats = evaluated_categories(items)
    torch.manual_seed(args.seed)
    from models.clip.config import preset

    cfg = TINY if args.tiny else preset(args.config)
    dev = torch.device(args.device)
    model, lineage = start if start is not None else (SmallClip(cfg), [])
    cfg = model.cfg
    model = model.to(dev, memory_format=torch.channels_last).train()  # channels_last: faster CPU convolutions
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and n != "text.pos"]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and n != "text.pos")]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}], args.lr, fused=True
    )
    strokes = load_stroke_views(args.stroke_views, len(images)) if args.stroke_views else None
    batches = Batches(images, items, train_idx, cfg.image_size, args.batch, args.order_seed, strokes, args.stroke_p)
    batches.enrich_p = args.enrich_p
    args.out.mkdir(parents=True, exist_ok=True)
    budget = args.time_budget_min * 60.0
    t0, step, best = time.monotonic(), 0, -1.0
    losses: list[float] = []
    name = lineage[-1]["preset"] if lineage else (args.config if not args.tiny else "tiny")
    record = {"seed": args.seed, "order_seed": args.order_seed, "data": str(args.data), "train": len(train_idx),
              "preset": name, "stroke_views": str(args.stroke_views or ""),
              "stroke_p": args.stroke_p if args.stroke_views else 0.0, "enrich_p": args.enrich_p,
              "lr": args.lr, "lineage": lineage}  # fmt: skip
    with (args.out / "metrics.jsonl").open("a") as mlog:
        while True:
            frac = (time.monotonic() - t0) / budget
            done = frac >= 1.0
            if step and (step % args.eval_every == 0 or done):
                model.eval()
                m = zero_shot(model, val_images, val_items, cats)
                model.train()
                m.update(step=step, wall_s=round(time.monotonic() - t0, 1), loss=round(float(np.mean(losses)), 4))
                losses.clear()
                mlog.write(json.dumps({k: v for k, v in m.items() if k != "category_top1_per_category"}) + "\n")
                mlog.flush()
                log.info(
                    "step %d loss %.3f caption top1 %.3f/top5 %.3f, category top1 %.3f/top5 %.3f",
                    step,
                    m["loss"],
                    m["caption_top1"],
                    m["caption_top5"],
                    m["category_top1"],
                    m["category_top5"],
                )
                extra = {**record, "step": step, "wall_s": m["wall_s"], "metrics": m}
                save_checkpoint(args.out / "last.pt", model, half=True, **extra)
                score = m["caption_top1"] + m["category_top1"]
                if score > best:
                    best = score
                    save_checkpoint(args.out / "best.pt", model, half=True, **extra)
            if done:
                break
            for g in opt.param_groups:
                g["lr"] = args.lr * min(1.0, frac / 0.05) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
            x, texts = batches.next()
            x = x.to(dev).contiguous(memory_format=torch.channels_last)
            loss = clip_loss(model, x, model.tokenize(texts))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100))
            losses.append(float(loss.detach()))
            step += 1
            if step % 50 == 0:
                log.debug("step %d loss %.3f frac %.2f", step, losses[-1], frac)
    summary = {**record, "steps": step, "wall_s": round(time.monotonic() - t0, 1), "best_score": round(best, 4)}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"trained {step} steps in {summary['wall_s']} s; best {args.out / 'best.pt'}")
    return 0


def initial_model(path: Path) -> tuple[SmallClip, list[dict]]:
    """The checkpoint's model in float32 and its lineage: the runs before it, oldest first, then itself."""
    from models.clip.checkpoint import load_state, meta_of, model_from_state

    state = load_state(path)
    meta = meta_of(state)
    own = {k: meta.get(k) for k in ("seed", "order_seed", "preset", "step", "wall_s", "lr")}
    own["path"] = str(path)
    return model_from_state(state, path), [*meta.get("lineage", []), own]


def clip_loss(model, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
    """Symmetric InfoNCE: x (B, 3, S, S) in [0, 1], ids (B, L) → scalar."""
    img = model.encode_image(x)  # (B, D)
    txt = model.encode_tokens(ids)  # (B, D)
    logits = model.logit_scale.exp() * img @ txt.T  # (B, B)
    target = torch.arange(len(x), device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


class Batches:
    """Epochs of the training indices in a seeded order; augmented images and a random caption per drawing."""

    def __init__(self, images, items, idx, size, batch, seed, strokes=None, stroke_p=0.0) -> None:  # noqa: ANN001
        self.images, self.items, self.idx, self.size, self.batch = images, items, list(idx), size, batch
        self.rng, self.np_rng = random.Random(seed), np.random.default_rng(seed)
        self.order: list[int] = []
        self.strokes = strokes  # {pack index: (S, S, 3) render as steering draws} or None
        self.stroke_p = stroke_p
        self.enrich_p = 0.5

    def _epoch(self) -> list[int]:
        """A shuffled epoch with at most PER_NAME drawings of one name (a few collections would dominate)."""
        groups: dict[str, list[int]] = {}
        for i in self.idx:
            groups.setdefault(self.items[i]["name"], []).append(i)
        order = [i for g in groups.values() for i in (self.rng.sample(g, PER_NAME) if len(g) > PER_NAME else g)]
        self.rng.shuffle(order)
        return order

    def next(self) -> tuple[torch.Tensor, list[str]]:
        from models.clip.augment import augment
        from models.clip.data import random_caption

        if len(self.order) < self.batch:
            self.order = self._epoch()
        pick, self.order = self.order[: self.batch], self.order[self.batch :]
        x = np.stack([augment(self._image(i), self.size, self.np_rng) for i in pick])  # (B, S, S, 3) uint8
        texts = [random_caption(self.items[i], self.rng, self.enrich_p) for i in pick]
        return torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255.0, texts

    def _image(self, i: int) -> np.ndarray:
        if self.strokes is not None and i in self.strokes and self.rng.random() < self.stroke_p:
            return self.strokes[i]
        return self.images[i]


def load_stroke_views(path: Path, n_items: int) -> dict[int, np.ndarray]:
    """models.clip.stroke_views output → {pack index: render}; one line naming the file if it does not fit."""
    if not path.is_file():
        raise UserError(f"stroke views {path} do not exist: make them with `python -m models.clip.stroke_views`")
    z = np.load(path, allow_pickle=False)
    index = z["index"]
    if len(index) and int(index.max()) >= n_items:
        raise UserError(f"stroke views {path} index drawings beyond the pack's {n_items}: remake them for this pack")
    return {int(i): img for i, img in zip(index, z["images"], strict=True)}
