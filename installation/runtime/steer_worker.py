"""The steering worker: owns torch, the CLIP and the steered generator; the display never waits for it.

In: a LatestSlot[SteerRequest] the main thread fills when the generator, the prompt or the drawing changes.
Out: a LatestSlot[AIFrame] of progressive frames (every `every` steps). Between steps the worker takes the newest
request: a new prompt retargets the running optimisation (same parameters, no restart); a new drawing updates
the portrait's sketch in place; another generator (or a cleared canvas) starts a fresh one from the drawing.
After `steps` steps the image rests until something changes. One stop event ends it; torch is imported here,
on this thread, so the show loads it only when a steered generator is first chosen.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.config import SteerConfig
from installation.core.frames import AIFrame
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SteerRequest:
    generator: str  # strokes, portrait or pixels
    prompt: str
    sketch: np.ndarray  # (S, S) uint8, 255 paper, 0 ink: the model-input raster
    lines: tuple[np.ndarray, ...]  # the visitor's strokes as polylines in [0, 1] coordinates
    seq: int  # canvas version
    pen_t: float
    restart: bool = False  # start the generator afresh (cleared canvas, generator key pressed again)


class SteerWorker(threading.Thread):
    def __init__(
        self,
        settings: SteerConfig,
        clip_path: Path | None,
        requests: LatestSlot[SteerRequest],
        frames: LatestSlot[AIFrame],
        stop: threading.Event,
    ) -> None:
        super().__init__(name="steer", daemon=True)
        self.settings = settings
        self.clip_path = clip_path
        self.requests = requests
        self.frames = frames
        self.stop = stop
        self.error: BaseException | None = None
        self.steps = 0  # optimiser steps taken
        self.frames_out = 0
        self.retargets = 0
        self.restarts = 0
        self.ready = threading.Event()  # set once the CLIP is loaded
        self._steerer: Any = None
        self._req: SteerRequest | None = None
        self._left = 0

    def run(self) -> None:
        try:
            import torch

            torch.set_num_threads(self.settings.threads)
            from models.clip.api import load_clip

            clip = load_clip(self.clip_path)
            self.ready.set()
            while not self.stop.is_set():
                req = self.requests.take(timeout=0 if self._left > 0 else 0.05)
                if req is not None:
                    self._apply(req, clip)
                if self._steerer is None or self._left <= 0:
                    continue
                self._step()
        except BaseException as e:  # surfaced by the main loop, which decides what to do
            log.exception("steering worker failed")
            self.error = e
            self.ready.set()

    def _apply(self, req: SteerRequest, clip: Any) -> None:
        old, self._req = self._req, req
        if self._steerer is None or old is None or req.restart or req.generator != old.generator:
            self._steerer = self._build(req, clip)
            self.restarts += 1
        else:
            if req.prompt != old.prompt:
                self._steerer.set_prompt(req.prompt)
                self.retargets += 1
            if req.seq != old.seq and req.generator == "portrait":
                import torch

                sketch = torch.from_numpy(req.sketch).float() / 255.0  # (S, S)
                self._steerer.generator.set_sketch(sketch)
        self._left = self.settings.steps

    def _build(self, req: SteerRequest, clip: Any) -> Any:
        import torch

        from models.steer.cutouts import CutoutParams
        from models.steer.steerer import Steerer

        s = self.settings
        if req.generator == "strokes":
            from models.steer.strokes import StrokesGenerator

            gen: Any = StrokesGenerator(size=s.size, n_strokes=s.strokes, init_paths=list(req.lines))
        elif req.generator == "pixels":
            from models.steer.pixels import PixelsGenerator

            img = torch.from_numpy(req.sketch).float().div(255.0)[None].expand(3, -1, -1)  # (3, S, S)
            gen = PixelsGenerator(size=s.size, init_image=img if req.lines else None)
        else:
            from models.steer.portrait import PortraitGenerator, load_portrait_generator

            g, res = load_portrait_generator()
            sketch = torch.from_numpy(req.sketch).float() / 255.0  # (S, S)
            if sketch.shape[0] != res:
                sketch = torch.nn.functional.interpolate(sketch[None, None], size=(res, res), mode="area")[0, 0]
            gen = PortraitGenerator(sketch, g, n_strokes=min(s.strokes, 32))
        log.info("steering %s towards %r", req.generator, req.prompt)
        return Steerer(clip, gen, req.prompt, CutoutParams(count=s.cutouts))

    def _step(self) -> None:
        from models.steer.steerer import to_uint8

        assert self._req is not None
        t0 = time.perf_counter()
        _, img = self._steerer.step()
        ms = (time.perf_counter() - t0) * 1000.0
        self.steps += 1
        self._left -= 1
        if self._steerer.step_count % self.settings.every == 0 or self._left == 0:
            self.frames.put(AIFrame(self._req.seq, self._req.pen_t, to_uint8(img), ms, time.monotonic()))
            self.frames_out += 1
