"""Zero-shot retrieval on the held-out split: image → caption and image → category, top-1/top-5.

Captions: each held-out drawing's canonical caption (title + first keywords); identical captions are merged, so
retrieving the right text counts whichever drawing it came from. Categories: the top-level openclipart folders
with enough drawings (models.clip.data.evaluated_categories), as prompts "a drawing of {category}".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from models.clip.base import ClipModel
from models.clip.data import canonical_caption, category_prompt, evaluated_categories, top_category


@torch.no_grad()
def embed_images(model: ClipModel, images: np.ndarray, batch: int = 256) -> torch.Tensor:
    """(N, S, S, 3) uint8 → (N, D) normalised embeddings."""
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i : i + batch]).permute(0, 3, 1, 2).float() / 255.0  # (B, 3, S, S) in [0, 1]
        out.append(model.encode_image(x.to(model.mean.device)).float().cpu())
    return torch.cat(out)


@torch.no_grad()
def embed_texts(model: ClipModel, texts: list[str], batch: int = 512) -> torch.Tensor:
    return torch.cat([model.encode_text(texts[i : i + batch]).float().cpu() for i in range(0, len(texts), batch)])


def topk_hits(sim: torch.Tensor, truth: torch.Tensor, k: int) -> float:
    """sim (N, M), truth (N,) index of the right column → fraction with the truth among the top k."""
    top = sim.topk(min(k, sim.shape[1]), dim=1).indices  # (N, k)
    return float((top == truth[:, None]).any(dim=1).float().mean())


def zero_shot(
    model: ClipModel, images: np.ndarray, items: list[dict[str, str]], cats: list[str] | None = None
) -> dict[str, Any]:
    """Retrieval figures on the given (held-out) drawings, with chance levels; `cats` from the whole pack."""
    img = embed_images(model, images)  # (N, D)
    captions = [canonical_caption(it) for it in items]
    unique = sorted(set(captions))
    cap_emb = embed_texts(model, unique)  # (M, D)
    truth = torch.tensor([unique.index(c) for c in captions])
    sim = img @ cap_emb.T  # (N, M)
    cats = cats or evaluated_categories(items) or ["drawing"]
    keep = [i for i, it in enumerate(items) if top_category(it) in cats]
    cat_emb = embed_texts(model, [category_prompt(c) for c in cats])  # (C, D)
    cat_truth = torch.tensor([cats.index(top_category(items[i])) for i in keep])
    cat_sim = img[keep] @ cat_emb.T  # (K, C)
    if not keep:  # no held-out drawing in an evaluated category
        cat_sim, cat_truth = torch.zeros(1, len(cats)), torch.tensor([-1])
    per_cat = {
        c: round(float((cat_sim[cat_truth == j].argmax(1) == j).float().mean()), 4)
        for j, c in enumerate(cats)
        if (cat_truth == j).any()
    }
    return {
        "images": len(items),
        "captions": len(unique),
        "caption_top1": round(topk_hits(sim, truth, 1), 4),
        "caption_top5": round(topk_hits(sim, truth, 5), 4),
        "caption_chance_top1": round(1 / len(unique), 4),
        "categories": cats,
        "category_images": len(keep),
        "category_top1": round(topk_hits(cat_sim, cat_truth, 1), 4),
        "category_top5": round(topk_hits(cat_sim, cat_truth, 5), 4),
        "category_chance_top1": round(1 / len(cats), 4),
        "category_top1_balanced": round(float(np.mean(list(per_cat.values()))), 4) if per_cat else 0.0,
        "category_majority_top1": _majority(cat_truth, 1),
        "category_majority_top5": _majority(cat_truth, 5),
        "category_top1_per_category": per_cat,
    }


def _majority(truth: torch.Tensor, k: int) -> float:
    """What always answering the k most frequent held-out categories would score (a constant guess)."""
    counts = torch.bincount(truth[truth >= 0]) if (truth >= 0).any() else torch.zeros(1)
    return round(float(counts.sort(descending=True).values[:k].sum() / max(1, len(truth))), 4)


def held_out(images: np.ndarray, items: list[dict[str, str]]) -> tuple[np.ndarray, list[dict[str, str]]]:
    idx = [i for i, it in enumerate(items) if it["split"] == "val"]
    return images[idx], [items[i] for i in idx]
