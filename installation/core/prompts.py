"""Weighted text prompts: `a face:1 | scribble:-0.5` → (("a face", 1.0), ("scribble", -0.5)) as WeightedPrompts.

Parts are separated by `|`. A part may end in `:WEIGHT` (a number; default 1). A negative weight pushes the image
away from that text. At least one part must have a positive weight, or there is nothing to steer towards.
A malformed part raises UserError naming the part and what to write instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from installation.core.errors import UserError

MAX_TEXT = 200  # characters per part; CLIP tokenisers truncate far below this anyway


@dataclass(frozen=True)
class WeightedPrompt:
    text: str
    weight: float = 1.0


def _parse_part(part: str, whole: str) -> WeightedPrompt:
    raw = part.strip()
    if not raw:
        raise UserError(f"prompt {whole!r} has an empty part between '|': write e.g. 'a face:1 | scribble:-0.5'")
    text, weight = raw, 1.0
    if ":" in raw:
        text, _, w = raw.rpartition(":")
        text = text.strip()
        try:
            weight = float(w.strip())
        except ValueError:
            raise UserError(
                f"prompt part {raw!r}: the weight after ':' must be a number, got {w.strip()!r} "
                "(write 'text:0.5', or leave out the ':')"
            ) from None
        if not math.isfinite(weight):
            raise UserError(f"prompt part {raw!r}: the weight must be a finite number")
        if weight == 0:
            raise UserError(f"prompt part {raw!r}: a weight of 0 does nothing; drop the part or give it a weight")
    if not text:
        raise UserError(f"prompt part {raw!r} has a weight but no text: write 'some text:{weight:g}'")
    if len(text) > MAX_TEXT:
        raise UserError(f"prompt part {text[:30]!r}… is {len(text)} characters long: keep each part under {MAX_TEXT}")
    return WeightedPrompt(text, weight)


def parse_prompts(spec: str) -> tuple[WeightedPrompt, ...]:
    """The parts of a prompt string, in order; raises UserError for a malformed string."""
    if not isinstance(spec, str) or not spec.strip():
        raise UserError("the prompt is empty: give some text, e.g. --prompt 'a cat' or 'a face:1 | scribble:-0.5'")
    prompts = tuple(_parse_part(p, spec) for p in spec.split("|"))
    if not any(p.weight > 0 for p in prompts):
        raise UserError(f"prompt {spec!r} has only negative weights: give at least one part a positive weight")
    return prompts


def format_prompts(prompts: tuple[WeightedPrompt, ...]) -> str:
    """The canonical string form (parse_prompts(format_prompts(p)) == p)."""
    return " | ".join(f"{p.text}:{p.weight:g}" for p in prompts)
