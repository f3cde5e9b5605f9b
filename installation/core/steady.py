"""Far-field steadiness (issue 14): what the visitor sees moves at once where the pen changed the drawing and
glides everywhere else.

The model answers every canvas state afresh, so a stroke on the chin can shift the colour of the hair between
two answers. The shown image therefore takes each new answer fully within `near_px` of the ink that changed
(feathered over `feather_px`), and elsewhere moves towards it by 1 - exp(-dt / settle_s) after dt seconds: a
jump far from the pen becomes a glide of about `settle_s`, a one-answer excursion is damped, and when the pen
rests the whole image settles onto the model's answer. In time: the far field always glides towards the newest
answer; a new answer replaces the target (`glide` up to its arrival, then `arrive`). Distances are at 256² and
scale with the image side.
Pure numpy and OpenCV; the inference worker owns the state (installation/runtime/pipeline.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

INK_LEVEL = 128  # a pixel darker than this is ink
SETTLED_LEVEL = 1.0  # grey levels: a shown image this close to the answer everywhere is the answer


@dataclass(frozen=True, slots=True)
class Steadiness:
    """The packaged values are the config's `display.steady_*` (`from_display`)."""

    settle_s: float  # time constant of the far field's glide; 0: off (every answer shown as it is)
    near_px: float  # at 256²: within this distance of changed ink the answer is taken at once
    feather_px: float  # at 256²: the soft edge beyond near_px

    @property
    def on(self) -> bool:
        return self.settle_s > 0


OFF = Steadiness(0.0, 0.0, 0.0)


def from_display(display: Any, settle_s: float | None = None) -> Steadiness:
    """The steadiness a DisplayConfig asks for (`settle_s` given: that time constant instead)."""
    settle = display.steady_s if settle_s is None else settle_s
    return Steadiness(settle, display.steady_near_px, display.steady_feather_px)


def changed_ink(before: np.ndarray | None, after: np.ndarray) -> np.ndarray:
    """(S, S) bool: where ink was added or taken away between two sketches ((S, S) uint8). Everything when there
    is no before (of this size), and when `after` is blank: a cleared page shows its answer at once, with no ghost
    of the last portrait."""
    if before is None or before.shape != after.shape or is_blank(after):
        return np.ones(after.shape[:2], dtype=bool)
    return (before < INK_LEVEL) != (after < INK_LEVEL)


def is_blank(sketch: np.ndarray) -> bool:
    """No ink at all (a cleared page)."""
    return not bool((sketch < INK_LEVEL).any())


def near_weight(changed: np.ndarray, steady: Steadiness) -> np.ndarray:
    """(S, S) float32 in 0..1: 1 within near_px of changed ink, falling to 0 across the feather."""
    if not changed.any():
        return np.zeros(changed.shape, dtype=np.float32)
    scale = changed.shape[0] / 256.0
    dist = cv2.distanceTransform((~changed).astype(np.uint8), cv2.DIST_L2, 3)  # px to the nearest change
    feather = max(steady.feather_px * scale, 1e-6)
    return np.clip(1.0 - (dist - steady.near_px * scale) / feather, 0.0, 1.0).astype(np.float32)


def far_alpha(dt: float, steady: Steadiness) -> float:
    """How far (0..1) the far field moves towards the newest answer in dt seconds."""
    if not steady.on:
        return 1.0
    return 1.0 - math.exp(-max(dt, 0.0) / steady.settle_s)


def glide(shown: np.ndarray, target: np.ndarray, dt: float, steady: Steadiness) -> np.ndarray:
    """`shown` ((S, S, 3) float32) after dt seconds of gliding towards `target` ((S, S, 3) uint8, the answer it
    was last given); of another size: the target itself."""
    t = target.astype(np.float32)
    if shown.shape != t.shape:
        return t
    return shown + np.float32(far_alpha(dt, steady)) * (t - shown)


def arrive(shown: np.ndarray | None, answer: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A new answer ((S, S, 3) uint8) arrives: taken at once where weight ((S, S), 0..1) is 1, near the change,
    and not yet where it is 0. No shown image yet, or one of another size: the answer itself."""
    t = answer.astype(np.float32)
    if shown is None or shown.shape != t.shape:
        return t
    return shown + weight[..., None] * (t - shown)  # (S, S, 1) weights


def settled(shown: np.ndarray, answer: np.ndarray) -> bool:
    """True when the shown image is within SETTLED_LEVEL grey levels of the answer everywhere."""
    return shown.shape == answer.shape and float(np.abs(shown - answer.astype(np.float32)).max()) <= SETTLED_LEVEL


def to_uint8(shown: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(shown), 0, 255).astype(np.uint8)
