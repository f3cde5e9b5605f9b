"""Issue 16, the CLIP's data side: richer captions, drawings rendered as steering draws, the stronger configs."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from installation.core.errors import UserError
from models.clip.captions import SYNONYMS, enrich, plural, singular
from models.clip.config import MEDIUM, MEDIUM_JUDGE, preset
from models.clip.data import plain_caption, random_caption
from models.clip.stroke_views import POINTS, render_strokes, strokes_of
from models.clip.train import Batches

ITEM = {"id": "animals/birds/x.svg", "title": "bird", "name": "bird", "keywords": "bird, animal, wing",
        "category": "animals/birds", "split": "train"}  # fmt: skip


@pytest.mark.parametrize(
    ("one", "many"),
    [("bird", "birds"), ("bus", "buses"), ("fly", "flies"), ("leaf", "leaves"), ("man", "men"), ("box", "boxes")],
)
def test_plural_and_singular_are_inverse(one: str, many: str) -> None:
    assert plural(one) == many and singular(many) == one
    assert singular(one) == one  # already singular
    assert singular("glass") == "glass"


def test_enrich_varies_the_thing_and_keeps_the_keywords() -> None:
    rng = random.Random(0)
    outs = {enrich("a drawing of a car, red, wheel", rng) for _ in range(200)}
    assert all(o.endswith(", red, wheel") for o in outs)
    heads = {o.split(", ")[0] for o in outs}
    assert "a drawing of cars" in heads and any(s in h for h in heads for s in SYNONYMS["car"])
    assert any(not h.startswith("a drawing of") for h in heads)  # other phrasings
    assert "a drawing of an automobile" in heads or "a drawing of an auto" in heads  # the article follows the noun
    plain = [plain_caption(ITEM, random.Random(3)) for _ in range(5)]
    assert [random_caption(ITEM, random.Random(3), enrich_p=0.0) for _ in range(5)] == plain


def _drawing() -> np.ndarray:
    img = np.full((128, 128, 3), 255, np.uint8)
    cv2.circle(img, (64, 64), 40, (0, 0, 0), 2)
    cv2.line(img, (20, 110), (110, 110), (0, 0, 0), 2)
    return img


def test_a_drawing_becomes_short_grey_strokes_drawn_as_steering_draws() -> None:
    lines = strokes_of(_drawing(), 96, max_stroke=0.3)
    assert len(lines) >= 4 and all(ln.shape == (POINTS, 2) for ln in lines)
    lengths = [float(np.linalg.norm(np.diff(ln, axis=0), axis=1).sum()) for ln in lines]
    assert max(lengths) <= 0.3 + 1e-6 and min(lengths) > 0.0
    out = render_strokes(lines, 96, np.random.default_rng(0))
    assert out.shape == (96, 96, 3) and out.dtype == np.uint8
    assert out[0:5, 0:5].min() >= 250  # white paper
    assert (out[:, :, 0] == out[:, :, 1]).all()  # grey ink
    ink = out.min(axis=2) < 200
    assert 0.005 < ink.mean() < 0.3
    a, b = render_strokes(lines, 96, np.random.default_rng(1)), render_strokes(lines, 96, np.random.default_rng(2))
    assert not np.array_equal(a, b)  # widths, inks and missing strokes vary


def test_batches_mix_in_stroke_views() -> None:
    images = np.stack([_drawing(), _drawing()])
    marker = np.zeros((128, 128, 3), np.uint8)  # an unmistakable "stroke view"
    b = Batches(images, [ITEM, ITEM], [0, 1], 32, 2, 0, strokes={0: marker, 1: marker}, stroke_p=1.0)
    x, texts = b.next()
    assert x.shape == (2, 3, 32, 32) and len(texts) == 2
    assert float(x.mean()) < 0.4  # the dark marker, not the white drawing (augment jitters brightness)
    b0 = Batches(images, [ITEM, ITEM], [0, 1], 32, 2, 0, strokes={0: marker, 1: marker}, stroke_p=0.0)
    assert float(b0.next()[0].mean()) > 0.6


def test_the_stronger_pair_configs() -> None:
    assert MEDIUM.image_size == 96 and MEDIUM.widths[-1] == 256
    assert MEDIUM_JUDGE.widths != MEDIUM.widths and MEDIUM_JUDGE.image_size == MEDIUM.image_size
    assert preset("medium") is MEDIUM
    with pytest.raises(UserError, match="huge"):
        preset("huge")
