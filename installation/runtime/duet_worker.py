"""Duet mode's strokes worker: owns torch and the CLIP; one AI turn in, a few new strokes out.

A TurnRequest carries the sheet as it is (both inks), the artist's ink alone and the artist's strokes; the worker
starts the duet strokes generator (models/steer/duet.py) from them, steers it towards the prompt for at most
`think_s` seconds (or `steps` steps), cuts what still crosses the artist's ink (installation/core/duet_ink.py)
and hands back the strokes in canvas pixels with the share of their length that lies over the artist's ink.
The CLIP is loaded once when the worker starts, so a turn pays only for its steps.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from installation.core import duet_ink
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)
REACH = 0.14  # a new stroke starts about this long (of the page side)


@dataclass(frozen=True)
class TurnRequest:
    turn: int
    prompt: str
    strokes: int
    sheet: np.ndarray  # (R, R) uint8, 255 paper: both inks
    artist: np.ndarray  # (R, R) uint8, 255 paper: the artist's ink alone
    artist_lines: tuple[np.ndarray, ...]  # the artist's strokes, canvas pixels, oldest first
    canvas: int  # canvas side in canvas pixels
    think_s: float
    steps: int
    max_crossing: float
    version: int = 0  # the sheet's version it answers (a newer sheet makes it out of date)
    seed: int = 0


@dataclass(frozen=True)
class TurnResult:
    turn: int
    paths: list[np.ndarray]  # canvas pixels, drawing order not yet decided
    crossing: float  # share of the paths' length over the artist's ink (at the raster's resolution)
    crossing_before_cut: float
    steps: int
    think_s: float
    error: str = ""
    version: int = 0


class DuetWorker(threading.Thread):
    def __init__(
        self,
        clip_path: Path | None,
        size: int,
        cutouts: int,
        threads: int,
        requests: LatestSlot[TurnRequest],
        results: LatestSlot[TurnResult],
        stop: threading.Event,
    ) -> None:
        super().__init__(name="duet-strokes", daemon=True)
        self.clip_path, self.size, self.cutouts, self.threads = clip_path, size, cutouts, threads
        self.requests, self.results, self.stop = requests, results, stop
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.turns = 0
        self.busy = False
        self.wanted = -1  # the sheet version whose answer is wanted (set by the main thread); others are abandoned
        self.warm_prompt = "a drawing"  # encoded once before `ready`: the first turn pays no start-up cost

    def run(self) -> None:
        try:
            import torch

            torch.set_num_threads(self.threads)
            from models.clip.api import load_clip

            clip = load_clip(self.clip_path)
            self._warm(clip)
            self.ready.set()
            while not self.stop.is_set():
                req = self.requests.take(timeout=0.05)
                if req is None:
                    continue
                self.busy = True
                try:
                    self.results.put(self._turn(req, clip))
                except Exception as e:  # a failed turn hands the turn back; the show goes on
                    log.exception("duet turn %d failed", req.turn)
                    err = f"the AI's turn failed: {e}"
                    self.results.put(TurnResult(req.turn, [], 0.0, 0.0, 0, 0.0, err, version=req.version))
                finally:
                    self.busy = False
                self.turns += 1
        except BaseException as e:  # surfaced by the main loop
            log.exception("duet strokes worker failed")
            self.error = e
            self.ready.set()

    def _warm(self, clip: Any) -> None:
        """Two steps on a blank sheet: the text encoder, the rasteriser and autograd pay their first-call costs."""
        import torch

        from models.steer.cutouts import CutoutParams
        from models.steer.duet import DuetStrokesGenerator
        from models.steer.steerer import Steerer

        s = self.size
        line = np.array([[0.3, 0.3], [0.4, 0.35], [0.5, 0.4], [0.6, 0.5]])
        gen = DuetStrokesGenerator(torch.ones(s, s), torch.zeros(s, s), [line])
        steerer = Steerer(clip, gen, self.warm_prompt, CutoutParams(count=self.cutouts))
        for _ in range(2):
            steerer.step()

    def _turn(self, req: TurnRequest, clip: Any) -> TurnResult:
        import torch

        from models.steer.cutouts import CutoutParams
        from models.steer.duet import DuetStrokesGenerator
        from models.steer.steerer import Steerer

        t0 = time.perf_counter()
        s, r = self.size, req.sheet.shape[0]
        sheet = cv2.resize(req.sheet, (s, s), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        small_ink = cv2.resize(req.artist, (s, s), interpolation=cv2.INTER_AREA) < 200
        avoid = cv2.dilate(small_ink.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
        k = s / req.canvas
        rng = np.random.default_rng(req.seed + req.turn)
        lines = [np.asarray(p, float) * k for p in req.artist_lines]
        starts = duet_ink.seeds(lines, small_ink, req.strokes, rng, REACH * s)
        if not starts:
            t = time.perf_counter() - t0
            return TurnResult(req.turn, [], 0.0, 0.0, 0, t, "no room left on the sheet", version=req.version)
        gen = DuetStrokesGenerator(
            torch.from_numpy(sheet), torch.from_numpy(avoid), [p / s for p in starts], width_px=max(1.0, s / 96)
        )
        steerer = Steerer(clip, gen, req.prompt, CutoutParams(count=self.cutouts), seed=req.seed + req.turn)
        steps = 0
        while steps < req.steps and time.perf_counter() - t0 < req.think_s and not self.stop.is_set():
            if req.version != self.wanted:  # out of date (the artist drew on, a skip): stop early
                break
            steerer.step()
            steps += 1
        raw = [p * (r / s) for p in gen.paths()]  # raster pixels
        mask = duet_ink.ink_mask(req.artist)
        before = duet_ink.crossing(raw, mask).fraction
        cut = duet_ink.cut_over_ink(raw, mask, join_px=1.0, min_px=0.03 * r)
        cut = sorted(cut, key=duet_ink.length, reverse=True)[: req.strokes]  # a stroke cut in two is still bounded
        cut = duet_ink.join_budget(cut, mask, req.max_crossing)
        after = duet_ink.crossing(cut, mask).fraction
        paths = [p * (req.canvas / r) for p in cut]
        think = time.perf_counter() - t0
        log.info(
            "duet turn %d: %d steps in %.2f s, %d strokes (asked %d), crossing %.1f %% (before the cut %.1f %%)",
            req.turn, steps, think, len(paths), req.strokes, 100 * after, 100 * before,
        )  # fmt: skip
        return TurnResult(req.turn, paths, after, before, steps, think, version=req.version)
