"""The shipped models on committed held-out inputs, against the floors recorded in tests/fixtures/quality/floors.json.

A pix2pix model that answers blank paper, grey or its own sketch, or a CLIP whose embeddings mean nothing,
fails here. After replacing a shipped model on purpose: `python -m tests.tools.quality_floors --write`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.tools import quality_floors as q

FLOORS = json.loads(q.FLOORS.read_text())


@pytest.fixture(scope="module")
def pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    return q.pix2pix_pairs()


def test_fixtures_are_held_out_and_complete(pairs: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    from models.data.svg import split_of

    _, _, clip_ids = q.clip_items()
    assert len(pairs) == FLOORS["pix2pix"]["pairs"] >= 12 and len(clip_ids) == FLOORS["clip_onnx"]["drawings"]
    assert all(split_of(item_id) == "val" for item_id in [p[0] for p in pairs] + clip_ids)  # never trained on
    assert all(s.shape == t.shape[:2] == (256, 256) and (s < 128).mean() > 0.005 for _, s, t in pairs)


def test_shipped_pix2pix_meets_its_floors(pairs: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    scores = q.pix2pix_scores(q.open_pix2pix().run, pairs)
    assert not q.failures(FLOORS["pix2pix"], scores), (scores, FLOORS["pix2pix"]["floors"], _remeasure())


@pytest.mark.parametrize("answer", ["white", "grey", "sketch"])
def test_pix2pix_floors_refuse_a_model_that_knows_nothing(
    pairs: list[tuple[str, np.ndarray, np.ndarray]], answer: str
) -> None:
    scores = q.pix2pix_trivial(pairs)[answer]  # measured now, not read from the file
    assert q.failures(FLOORS["pix2pix"], scores), (answer, scores)


def test_shipped_clip_encoders_meet_their_floors() -> None:
    scores = q.clip_onnx_scores()
    assert not q.failures(FLOORS["clip_onnx"], scores), (scores, FLOORS["clip_onnx"]["floors"], _remeasure())


def test_shipped_judge_meets_its_floors() -> None:
    scores = q.clip_torch_scores()
    assert not q.failures(FLOORS["clip_judge"], scores), (scores, FLOORS["clip_judge"]["floors"], _remeasure())


@pytest.mark.parametrize("name", ["clip_onnx", "clip_judge"])
def test_clip_floors_refuse_meaningless_embeddings(name: str) -> None:
    n = FLOORS[name]["drawings"]
    for trivial, scores in q.clip_trivial(n).items():
        assert q.failures(FLOORS[name], scores), (trivial, scores)
    rng = np.random.default_rng(1)  # and a shuffled pairing of images with captions
    images, captions = rng.normal(size=(n, 8)), rng.normal(size=(n, 8))
    assert q.failures(FLOORS[name], q.retrieval(images, captions[rng.permutation(n)]))


def test_retrieval_counts_ranks() -> None:
    eye = np.eye(6)
    assert q.retrieval(eye, eye) == {"top1": 1.0, "top5": 1.0}
    assert q.retrieval(eye, eye[::-1]) == {"top1": 0.0, "top5": 1.0}  # each right caption is second
    assert q.retrieval(eye, -eye) == {"top1": 0.0, "top5": 0.0}  # ... or last of six


def _remeasure() -> str:
    return "a shipped model got worse; if it was replaced on purpose: python -m tests.tools.quality_floors --write"
