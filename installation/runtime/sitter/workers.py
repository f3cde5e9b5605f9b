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
    plan: Plan | None
    sketch_s: float  # sketcher + ordering wall time
    error: str = ""


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
    """A face crop → an ordered plan of plotter paths, once the robot answers."""

    def __init__(
        self,
        cfg: AppConfig,
        jobs: LatestSlot[SketchJob],
        out: LatestSlot[SketchResult],
        stop: threading.Event,
        robot: tuple[str, int],
    ) -> None:
        super().__init__(name="sketcher", daemon=True)
        self.cfg, self.jobs, self.out, self.stop, self.robot = cfg, jobs, out, stop, robot
        self.busy = False

    def run(self) -> None:
        from installation.adapters.plotter_link import probe_robot

        _lower_priority(5)  # the display thread comes first; a portrait may take a few frames longer
        while not self.stop.is_set():
            job = self.jobs.take(timeout=0.05)
            if job is None:
                continue
            self.busy = True
            t0 = time.perf_counter()
            try:
                s, p = self.cfg.sitter, self.cfg.plotter
                mapping = PaperMapping(self.cfg.canvas.size, paper_size(p.paper), p.margin_mm)
                plan = sketch_for_time(
                    job.crop,
                    STYLES[s.style],
                    self.cfg.canvas.size,
                    mapping,
                    s.stroke_budget,
                    s.target_minutes * 60,
                    s.robot_speed_mm_s,
                    seed=job.job,
                )
                sketch_s = time.perf_counter() - t0
                if probe_robot(self.robot, timeout_s=2.0) is None:
                    msg = f"the robot at {self.robot[0]}:{self.robot[1]} does not answer: start a bridge"
                    self.out.put(SketchResult(job.job, None, sketch_s, msg))
                else:
                    self.out.put(SketchResult(job.job, plan, sketch_s))
            except Exception as e:  # a bad picture must not end the show: the machine aborts and resets
                log.exception("sketching failed")
                self.out.put(SketchResult(job.job, None, time.perf_counter() - t0, f"sketching failed: {e}"))
            finally:
                self.busy = False


def _lower_priority(nice: int) -> None:
    """Raise this thread's nice value (Linux: per thread); elsewhere nothing happens."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError) as e:
        log.debug("cannot lower the sketcher's priority: %s", e)


class SimulatorThread(threading.Thread):
    """The robot simulator (bridges/simulator.py) in this process, on an ephemeral loopback port."""

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
