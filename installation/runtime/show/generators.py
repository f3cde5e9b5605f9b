"""Which generator answers the drawing: pix2pix (sketch slot → inference worker) or a steered generator (steering
worker), the prompt, the camera's paper sketches, and the CLIP score of the image shown."""

from __future__ import annotations

import logging
import time

import numpy as np

from installation.core.errors import UserError
from installation.core.frames import AIFrame, SketchFrame
from installation.core.slots import LatestSlot
from installation.runtime.steer_worker import SteerRequest, SteerWorker

log = logging.getLogger(__name__)


class GeneratorsMixin:
    """Hand the drawing to whichever generator answers now; pick up its images and their CLIP score."""

    def _sketch_changed(self, now: float, restart: bool = False) -> None:
        """The drawing changed: to the pix2pix worker, or to the steering worker (whichever answers now)."""
        if self.generator == "pix2pix":
            self.sketches.put(SketchFrame(self.canvas.version, now, self.canvas.raster()))
        else:
            self._request_steer(restart=restart)

    def _set_prompt(self, text: str) -> None:
        from installation.core.prompts import parse_prompts

        try:
            parse_prompts(text)
        except UserError as e:  # the show goes on with the prompt it had
            self.last_error = f"/prompt: {e}"
            return
        self.prompt = text
        if self.generator != "pix2pix":
            self._request_steer()

    def _set_generator(self, name: str, restart: bool) -> None:
        if name == self.generator and not restart:
            return
        log.info("generator %s → %s", self.generator, name)
        self.generator = name
        if name == "pix2pix":
            self.sketches.put(SketchFrame(self.canvas.version, time.monotonic(), self.canvas.raster()))
        else:
            self._request_steer(restart=True)

    def _request_steer(self, restart: bool = False) -> None:
        """Hand the newest generator, prompt and drawing to the steering worker (started on first use)."""
        if self.steer_worker is None:
            clip = self.cfg.resolve(self.cfg.steer.clip) if self.cfg.steer.clip else None
            self.steer_worker = SteerWorker(self.cfg.steer, clip, self.steer_requests, self.steer_frames, self.stop)
            self.steer_worker.start()
        side = float(self.cfg.canvas.size)
        lines = tuple(np.array([(p.x, p.y) for p in s.points], float) / side for s in self.canvas.all_strokes())
        self.steer_requests.put(
            SteerRequest(
                self.generator,
                self.prompt,
                self.canvas.raster(),
                tuple(ln for ln in lines if len(ln) >= 2),
                self.canvas.version,
                self.canvas.last_pen_t or time.monotonic(),
                restart,
            )
        )

    def _steer_failed(self) -> None:
        """A failed steering worker (bad CLIP file, ...): report it and go back to pix2pix; the show goes on."""
        assert self.steer_worker is not None
        err = self.steer_worker.error
        self.last_error = f"steering stopped: {err}"
        log.error("%s; back to pix2pix", self.last_error)
        self.steer_worker = None
        self.generator = "pix2pix"
        self.sketches.put(SketchFrame(self.canvas.version, time.monotonic(), self.canvas.raster()))

    def _camera_to_sketch(self, renderer) -> None:  # noqa: ANN001
        """A new sketch from the paper worker (only sent when it changed) → inference and the sketch panel."""
        got = self.paper_sketches.take(timeout=0)
        if got is None:
            return
        t, sketch = got
        self.canvas.version += 1
        self.sketches.put(SketchFrame(self.canvas.version, t, sketch))
        renderer.set_sketch(sketch)

    def _start_clip(self):  # noqa: ANN202 - ClipScoreWorker | None
        if not self.cfg.clip.enabled:
            return None
        from installation.runtime.clip_worker import ClipScoreWorker

        c = self.cfg.clip
        clip = ClipScoreWorker(self.cfg.resolve(c.models), c.hz, c.threads, self.stop, c.int8)
        clip.start()
        return clip

    def _ai_source(self) -> LatestSlot[AIFrame]:
        """Where the shown AI image comes from: pix2pix's answers, or the steered generator's frames."""
        return self.answers if self.generator == "pix2pix" else self.steer_frames

    def _clip_step(self, clip, hud) -> None:  # noqa: ANN001
        """Offer the shown AI image and the prompt to the CLIP worker; pick up its newest score (no waiting)."""
        ai = self._ai_source().peek()  # the image shown
        if ai is not None:
            clip.offer(ai.image, self.prompt)
        score = clip.latest.take(timeout=0)
        if score is not None:
            self.clip_score = score
            hud.clip = score.hud_line() if score.prompt else ""
        if clip.error and not self.last_error:
            self.last_error = f"CLIP scoring is off: {clip.error}"
