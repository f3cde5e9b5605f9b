"""Far-field steadiness (issue 14): what the visitor sees moves at once where the pen changed the drawing and
glides everywhere else.

The model answers every canvas state afresh, so a stroke on the chin can shift the colour of the hair between
two answers. The shown image therefore takes each new answer fully within `near_px` of the ink that changed
(feathered over `feather_px`). Elsewhere it holds while the ink keeps changing and for `hold_s` after the last
change, then moves towards the newest answer by 1 - exp(-dt / settle_s) after dt seconds of rest: while the pen
draws, only the portrait under the pen morphs; the drift the model makes far from the pen (which partly cancels
from stroke to stroke) is shown once, as a glide of about `settle_s`, when the pen rests. In time: a new answer
replaces the target (`glide` up to its arrival over the rested part of the interval, `rested_s`, then
`arrive`). Distances are at 256² and scale with the image side.
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
    hold_s: float  # the far field holds this long after the ink last changed before it glides

    @property
    def on(self) -> bool:
        return self.settle_s > 0


OFF = Steadiness(0.0, 0.0, 0.0, 0.0)


def from_display(display: Any, settle_s: float | None = None, hold_s: float | None = None) -> Steadiness:
    """The steadiness a DisplayConfig asks for (`settle_s` / `hold_s` given: those instead)."""
    settle = display.steady_s if settle_s is None else settle_s
    hold = display.steady_hold_s if hold_s is None else hold_s
    return Steadiness(settle, display.steady_near_px, display.steady_feather_px, hold)


def rested_s(t0: float, t1: float, changed_t: float, steady: Steadiness) -> float:
    """Of the interval t0..t1, the seconds in which the far field glides: those more than hold_s after the ink
    last changed (at changed_t)."""
    return max(0.0, t1 - max(t0, changed_t + steady.hold_s))


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
