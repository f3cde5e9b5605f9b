"""The optimisation loop: one generator, one CLIP, a prompt that can change between steps.

`set_prompt` may be called from any thread (OSC, keyboard): it parses at once (a malformed prompt raises
UserError in the caller) and puts the parsed prompt in a one-slot latest-value slot; the loop takes it before
its next step and retargets the running optimisation (same parameters, same optimiser state, no restart).
`run` yields a Frame every `every` steps and at the end; a stop event ends it between steps. The generator's
schedule sees the fraction of `planned` steps done (set by the first `run`, or by the caller; the live worker
leaves it unset, so an open-ended run has no schedule).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from installation.core.prompts import WeightedPrompt, format_prompts, parse_prompts
from installation.core.slots import LatestSlot
from models.steer.base import SteerGenerator
from models.steer.cutouts import CutoutParams, cutouts
from models.steer.loss import Target, encode_target, steer_loss

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    step: int
    image: np.ndarray  # (H, W, 3) uint8 RGB
    loss: float
    prompt: str
    seconds: float  # since the run started


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [0, 1] → (H, W, 3) uint8."""
    return (img.detach().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).contiguous().numpy()


class Steerer:
    def __init__(
        self,
        clip: torch.nn.Module,
        generator: SteerGenerator,
        prompt: str | tuple[WeightedPrompt, ...],
        cut: CutoutParams | None = None,
        seed: int = 0,
    ) -> None:
        self.clip = clip.eval()
        for p in self.clip.parameters():
            p.requires_grad_(False)
        self.generator = generator
        self.cut = cut or CutoutParams()
        self.gen = torch.Generator().manual_seed(seed)
        self.opt = torch.optim.Adam(generator.param_groups())
        self._pending: LatestSlot[tuple[WeightedPrompt, ...] | tuple[Target, str]] = LatestSlot()
        self.prompts: tuple[WeightedPrompt, ...] = ()
        self.target: Target | None = None
        self.step_count = 0
        self.last_loss = float("nan")  # the loss of the newest step (nan before the first)
        self.planned: int | None = None  # steps of the whole run, for the generator's schedule (None: no schedule)
        self.retargets = 0
        self.set_prompt(prompt)

    def set_prompt(self, prompt: str | tuple[WeightedPrompt, ...]) -> None:
        """Thread-safe: the loop picks the newest prompt up before its next step."""
        parsed = parse_prompts(prompt) if isinstance(prompt, str) else prompt
        self._pending.put(parsed)

    def set_target(self, target: Target, label: str) -> None:
        """Thread-safe: steer towards given embeddings (e.g. an image's) instead of text, from the next step."""
        self._pending.put((target, label))

    @property
    def prompt_text(self) -> str:
        return format_prompts(self.prompts)

    def _retarget(self) -> None:
        new = self._pending.take(timeout=0)
        if new is None or new == self.prompts:
            return
        if self.target is not None:
            self.retargets += 1
        if len(new) == 2 and isinstance(new[0], Target):
            target, label = new
            self.prompts, self.target = (WeightedPrompt(str(label)),), target
        else:
            prompts = tuple(p for p in new if isinstance(p, WeightedPrompt))
            self.prompts = prompts
            self.target = encode_target(self.clip, [p.text for p in prompts], [p.weight for p in prompts])
        log.info("steering towards %r", self.prompt_text)

    def step(self) -> tuple[float, torch.Tensor]:
        """One optimiser step; returns the loss and the image it was computed on ((3, H, W), detached)."""
        self._retarget()
        assert self.target is not None
        self.opt.zero_grad(set_to_none=True)
        self.generator.schedule(1.0 if not self.planned else self.step_count / self.planned)
        img = self.generator()  # (3, H, W)
        # views larger than CLIP's side: encode_image then shrinks them antialiased, so thin strokes survive
        side = min(round(self.cut.side_factor * int(self.clip.image_size)), max(self.generator.size))
        views = cutouts(img, side, self.cut, self.gen)  # (C, 3, S, S)
        emb = self.clip.encode_image(views)  # type: ignore[operator]  # (C, D)
        loss = steer_loss(emb, self.target) + self.generator.penalty()
        loss.backward()
        self.opt.step()
        self.generator.constrain()
        self.step_count += 1
        self.last_loss = float(loss.detach())
        return self.last_loss, img.detach()

    @torch.no_grad()
    def render(self) -> np.ndarray:
        return to_uint8(self.generator())

    def run(self, steps: int, every: int = 10, stop: threading.Event | None = None) -> Iterator[Frame]:
        """Optimise for `steps` steps, yielding a Frame every `every` steps and one of the final state."""
        t0 = time.perf_counter()
        loss = self.last_loss  # a run of 0 steps (all spent in the restarts' trial) reports the trial's
        if self.planned is None:
            self.planned = self.step_count + steps
        for i in range(steps):
            if stop is not None and stop.is_set():
                break
            loss, img = self.step()
            if every > 0 and self.step_count % every == 0 and i + 1 < steps:
                yield Frame(self.step_count, to_uint8(img), loss, self.prompt_text, time.perf_counter() - t0)
        yield Frame(self.step_count, self.render(), loss, self.prompt_text, time.perf_counter() - t0)
