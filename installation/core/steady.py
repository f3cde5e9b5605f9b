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

import cv2
import numpy as np

INK_LEVEL = 128  # a pixel darker than this is ink
SETTLED_LEVEL = 1.0  # grey levels: a shown image this close to the answer everywhere is the answer


@dataclass(frozen=True, slots=True)
class Steadiness:
    settle_s: float = 1.0  # time constant of the far field's glide; 0: off (every answer shown as it is)
    near_px: float = 24.0  # at 256²: within this distance of changed ink the answer is taken at once
    feather_px: float = 16.0  # at 256²: the soft edge beyond near_px

    @property
    def on(self) -> bool:
        return self.settle_s > 0


def changed_ink(before: np.ndarray | None, after: np.ndarray) -> np.ndarray:
    """(S, S) bool: where ink was added or taken away between two sketches ((S, S) uint8); all if no before."""
    if before is None or before.shape != after.shape:
        return np.ones(after.shape[:2], dtype=bool)
    return (before < INK_LEVEL) != (after < INK_LEVEL)


def is_blank(sketch: np.ndarray) -> bool:
    """No ink at all (a cleared page): its answer is shown at once, so no ghost of the last portrait lingers."""
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


def step(shown: np.ndarray | None, answer: np.ndarray, weight: np.ndarray | None, alpha: float) -> np.ndarray:
    """The next shown image (S, S, 3) float32: `shown` moved towards `answer` ((S, S, 3) uint8) by
    max(weight, alpha) per pixel (weight None: alpha everywhere). No shown image yet, or one of another size:
    the answer itself."""
    target = answer.astype(np.float32)
    if shown is None or shown.shape != target.shape:
        return target
    if weight is None:
        return shown + np.float32(alpha) * (target - shown)
    a = np.maximum(weight, np.float32(alpha))[..., None]  # (S, S, 1)
    return shown + a * (target - shown)


def glide(shown: np.ndarray, target: np.ndarray, dt: float, steady: Steadiness) -> np.ndarray:
    """`shown` after dt seconds of gliding towards `target` (the answer it was last given)."""
    return step(shown, target, None, far_alpha(dt, steady))


def arrive(shown: np.ndarray | None, answer: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A new answer arrives: taken at once where weight is 1 (near the change), not yet elsewhere."""
    return step(shown, answer, weight, 0.0)


def settled(shown: np.ndarray, answer: np.ndarray) -> bool:
    """True when the shown image is within SETTLED_LEVEL grey levels of the answer everywhere."""
    return shown.shape == answer.shape and float(np.abs(shown - answer.astype(np.float32)).max()) <= SETTLED_LEVEL


def to_uint8(shown: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(shown), 0, 255).astype(np.uint8)
