"""Sitter mode's worker threads: face finding on camera frames, the sketcher, and an in-process robot simulator.

Each owns its work and hands results over through one-slot latest-value slots; one stop event ends them all.
The main thread (pygame, the state machine) never waits on any of them, so the display keeps its frame rate
while a portrait is sketched.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.adapters.faces import Box, FaceDetector, Verdict, judge
from installation.core.config import AppConfig
from installation.core.face_sketch import STYLES, Plan, sketch_for_time
from installation.core.frames import CameraFrame
from installation.core.plotpaths import PaperMapping, paper_size
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)
DETECT_HZ = 10.0  # faces are looked for at most this often: enough for a countdown, cheap for two cores


@dataclass(frozen=True)
class Seen:
    frame: CameraFrame
    verdict: Verdict


@dataclass(frozen=True)
class SketchJob:
    job: int
    crop: np.ndarray  # (S, S) uint8 grey face crop


@dataclass(frozen=True)
class SketchResult:
    job: int
    plan: Plan | None  # the first answering robot's plan
    sketch_s: float  # sketcher + ordering wall time (every style)
    error: str = ""
    plans: tuple[Plan | None, ...] = ()  # per robot, in the order of the robots; None: that robot did not answer


class VisionWorker(threading.Thread):
    """Camera frames → a verdict per frame (faces, the chosen one, why it is not usable)."""

    def __init__(self, cfg: AppConfig, frames: LatestSlot[CameraFrame], out: LatestSlot[Seen], stop: threading.Event):
        super().__init__(name="vision", daemon=True)
        self.cfg = cfg.sitter
        self.frames, self.out, self.stop = frames, out, stop
        self.detector = FaceDetector()
        self.frames_judged = 0
        self.follow: Box | None = None

    def run(self) -> None:
        next_t = 0.0
        while not self.stop.is_set():
            wait = next_t - time.monotonic()
            if wait > 0 and self.stop.wait(wait):
                break
            frame = self.frames.take(timeout=0.05)
            if frame is None:
                continue
            next_t = time.monotonic() + 1.0 / DETECT_HZ
            c = self.cfg
            try:
                verdict = judge(self.detector, frame.image, frame.t, c.choose, c.min_face, c.dark_below, self.follow)
            except cv2.error as e:  # an odd frame (size, depth) from a camera: skip it, keep watching
                log.warning("face detection failed on a frame %s: %s", getattr(frame.image, "shape", "?"), e)
                continue
            self.follow = verdict.box  # keep drawing the same sitter while others come and go
            self.frames_judged += 1
            self.out.put(Seen(frame, verdict))


class SketchWorker(threading.Thread):
    """A face crop → an ordered plan of plotter paths per robot (each in its robot's style), once they answer."""

    def __init__(
        self,
        cfg: AppConfig,
        jobs: LatestSlot[SketchJob],
        out: LatestSlot[SketchResult],
        stop: threading.Event,
        robots: list[tuple[str, int]],
        styles: list[str],
    ) -> None:
        super().__init__(name="sketcher", daemon=True)
        self.cfg, self.jobs, self.out, self.stop = cfg, jobs, out, stop
        self.robots, self.styles = robots, styles
        self.busy = False

    def run(self) -> None:
        _lower_priority(5)  # the display thread comes first; a portrait may take a few frames longer
        while not self.stop.is_set():
            job = self.jobs.take(timeout=0.05)
            if job is None:
                continue
            self.busy = True
            t0 = time.perf_counter()
            try:
                self.out.put(self._sketch(job, t0))
            except Exception as e:  # a bad picture must not end the show: the machine aborts and resets
                log.exception("sketching failed")
                self.out.put(SketchResult(job.job, None, time.perf_counter() - t0, f"sketching failed: {e}"))
            finally:
                self.busy = False

    def _sketch(self, job: SketchJob, t0: float) -> SketchResult:
        s, p = self.cfg.sitter, self.cfg.plotter
        mapping = PaperMapping(self.cfg.canvas.size, paper_size(p.paper), p.margin_mm)
        plans: dict[str, Plan] = {}
        for style in dict.fromkeys(self.styles):  # each style once, in the robots' order
            plans[style] = sketch_for_time(
                job.crop,
                STYLES[style],
                self.cfg.canvas.size,
                mapping,
                s.stroke_budget,
                s.target_minutes * 60,
                s.robot_speed_mm_s,
                seed=job.job,
            )
        sketch_s = time.perf_counter() - t0
        answers = _probe_all(self.robots)
        if not any(answers):
            if len(self.robots) == 1:
                msg = f"the robot at {self.robots[0][0]}:{self.robots[0][1]} does not answer: start a bridge"
            else:
                names = ", ".join(f"{h}:{port}" for h, port in self.robots)
                msg = f"none of the robots ({names}) answers: start their bridges"
            return SketchResult(job.job, None, sketch_s, msg)
        for (h, port), ok in zip(self.robots, answers, strict=True):
            if not ok:
                log.warning("sitter: the robot at %s:%d does not answer: the others draw this sitter", h, port)
        per_robot = tuple(plans[st] if ok else None for st, ok in zip(self.styles, answers, strict=True))
        first = next(pl for pl in per_robot if pl is not None)
        return SketchResult(job.job, first, sketch_s, plans=per_robot)


def _probe_all(robots: list[tuple[str, int]]) -> list[bool]:
    """Which robots answer a hello within 2 s, asked all at once."""
    from installation.adapters.plotter_link import probe_robot

    answers = [False] * len(robots)

    def ask(i: int) -> None:
        answers[i] = probe_robot(robots[i], timeout_s=2.0) is not None

    threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(len(robots))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(5.0)
    return answers


def _lower_priority(nice: int) -> None:
    """Raise this thread's nice value (Linux: per thread); elsewhere nothing happens."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError) as e:
        log.debug("cannot lower the sketcher's priority: %s", e)


class SimulatorThread(threading.Thread):
    """The robot simulator (bridges/simulator.py) in this process, on an ephemeral loopback port (one per robot
    with `plotter.robots`)."""

    def __init__(self, out: Path, paper: str, speed_mm_s: float, stop: threading.Event) -> None:
        super().__init__(name="robot-sim", daemon=True)
        from installation.bridges.simulator import Simulator

        self.sim = Simulator("127.0.0.1", 0, out, paper_size(paper), speed_mm_s)
        self.stop = stop

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.sim.port)

    def run(self) -> None:
        last_save = time.monotonic()
        try:
            while not self.stop.is_set():
                self.sim.step()
                if time.monotonic() - last_save > 3.0:
                    self.sim.save()
                    last_save = time.monotonic()
        finally:
            self.sim.close()
