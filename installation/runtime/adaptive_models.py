"""Adaptive quality in the running show: the ladder of models, and the swap when the core logic says so.

Levels, best first: the model the show chose (fp32 or int8, installation/runtime/precision.py), the int8 copy
when it is cheaper here and its quality is within the goals, then the files of `model.adaptive_levels`
(e.g. a smaller or lower-resolution export; a level whose input size differs from the canvas's is fed a
resized sketch and its answer is resized back). Every level is opened and timed at start, so a switch costs
nothing mid-show. The decisions (budget, hysteresis) are installation/core/adaptive.py's; each change is said
once in the log, and counted in metrics.json (`adaptive`).
"""

from __future__ import annotations

import logging
from typing import Any

import cv2
import numpy as np

from installation.core.adaptive import AdaptiveLadder, AdaptivePolicy
from installation.runtime.precision import time_models

log = logging.getLogger(__name__)


class Resized:
    """A model of another input size behind the canvas's: sketch resized in, answer resized out."""

    def __init__(self, model: Any, size: int) -> None:
        self.inner, self.size = model, size
        self.name, self.provider, self.path = f"{model.name}@{model.input_size}", model.provider, model.path
        self.input_size, self.metadata, self.tier = size, model.metadata, getattr(model, "tier", "cpu")
        self.sha256 = getattr(model, "sha256", "")

    def run(self, sketch: np.ndarray) -> np.ndarray:
        s = self.inner.input_size
        small = cv2.resize(sketch, (s, s), interpolation=cv2.INTER_AREA)
        return cv2.resize(self.inner.run(small), (self.size, self.size), interpolation=cv2.INTER_LINEAR)


class AdaptiveModels:
    def __init__(self, levels: list[Any], target_hz: float, costs: list[float] | None = None) -> None:
        self.levels = levels
        self.names = [m.name for m in levels]
        if costs is None or len(costs) != len(levels):  # timed here unless the caller just timed them
            costs = time_models(levels) if len(levels) > 1 else [1.0]
        self.costs = costs
        self.ladder = AdaptiveLadder(costs, AdaptivePolicy(target_hz=target_hz))
        self.steps_down = self.steps_up = 0
        if len(levels) > 1:
            ladder = ", ".join(f"{n} {c:.1f} ms" for n, c in zip(self.names, costs, strict=True))
            log.info("adaptive quality at %.0f AI updates/s: %s", target_hz, ladder)
        else:
            log.info("adaptive quality: one level only (%s): nothing cheaper to step down to", self.names[0])

    @property
    def current(self) -> Any:
        return self.levels[self.ladder.level]

    def on_answer(self, inference_ms: float) -> Any | None:
        """One answer's inference time; the model to swap in when the level changes, else None."""
        step = self.ladder.observe(inference_ms)
        if step is None:
            return None
        log.warning("adaptive quality: %s", step.describe(self.names))
        if step.direction == "stuck":
            return None
        if step.direction == "down":
            self.steps_down += 1
        else:
            self.steps_up += 1
        return self.levels[step.level]

    def summary(self) -> dict[str, object]:
        return {
            "levels": self.names,
            "start_costs_ms": self.costs,
            "level": self.ladder.level,
            "model": self.names[self.ladder.level],
            "steps_down": self.steps_down,
            "steps_up": self.steps_up,
        }


def build(
    chosen: Any, cheaper: list[Any], extra: list[Any], target_hz: float, costs: list[float] | None = None
) -> AdaptiveModels:
    """costs: start costs of [chosen, *cheaper] when already measured (the precision choice times both)."""
    size = chosen.input_size
    fitted = [m if m.input_size == size else Resized(m, size) for m in extra]
    known = costs if costs is not None and not extra else None
    return AdaptiveModels([chosen, *cheaper, *fitted], target_hz, known)
