"""Several restarts, the best chosen by the steering CLIP only.

Each candidate (another seed of the same generator) is steered for a short trial; all are then scored on the same
fresh, strongly augmented views by the steering CLIP itself (the loss without regularisers), and the best one goes
on for the rest of the run. A bad start (strokes in a heap, a blot) is dropped early instead of polished. The
independent judge is never consulted here: it only evaluates, afterwards, in benchmarks/steer_bench.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from installation.core.prompts import WeightedPrompt
from models.steer.base import SteerGenerator
from models.steer.cutouts import CutoutParams, cutouts
from models.steer.loss import steer_loss
from models.steer.steerer import Steerer

log = logging.getLogger(__name__)
SCORE_VIEWS = CutoutParams(count=24, scale=(0.4, 1.0), rotate_deg=12.0, perspective=0.3, noise=0.05)
SCORE_SEED = 90_001  # the scoring views are the same for every candidate


@dataclass
class Choice:
    steerer: Steerer
    chosen: int
    trial_steps: int
    scores: list[float] = field(default_factory=list)  # steering-CLIP loss of each candidate (lower is better)


@torch.no_grad()
def clip_score(st: Steerer, views: CutoutParams = SCORE_VIEWS) -> float:
    """The steering loss of the current image on fixed fresh views (no regularisers): lower is better."""
    assert st.target is not None
    img = st.generator()
    side = min(round(views.side_factor * int(st.clip.image_size)), max(st.generator.size))
    v = cutouts(img, side, views, torch.Generator().manual_seed(SCORE_SEED))
    return float(steer_loss(st.clip.encode_image(v), st.target))  # type: ignore[operator]


def best_of(
    clip: torch.nn.Module,
    make: Callable[[int], SteerGenerator],  # seed → a fresh generator
    prompt: str | tuple[WeightedPrompt, ...],
    steps: int,
    restarts: int = 3,
    cut: CutoutParams | None = None,
    seed: int = 0,
    trial_fraction: float = 0.15,
) -> Choice:
    """Trial `restarts` candidates for trial_fraction·steps steps each; the best, ready to run the remaining steps
    (its `planned` is `steps`, so its schedule goes on where the trial left it)."""
    if restarts <= 1:
        st = Steerer(clip, make(seed), prompt, cut, seed=seed)
        st.planned = steps
        return Choice(st, 0, 0)
    trial = max(1, min(steps - 1, round(trial_fraction * steps)))
    best: Choice | None = None
    scores: list[float] = []
    for k in range(restarts):
        s = seed + 1000 * k
        st = Steerer(clip, make(s), prompt, cut, seed=s)
        st.planned = steps
        for _ in range(trial):
            st.step()
        scores.append(clip_score(st))
        log.info("restart %d/%d: steering-CLIP loss %.4f after %d steps", k + 1, restarts, scores[-1], trial)
        if best is None or scores[-1] < scores[best.chosen]:
            best = Choice(st, k, trial)
    assert best is not None
    best.scores = scores
    return best
