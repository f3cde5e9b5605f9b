"""Sitter mode: the robot draws the person in front of the camera, the screen morphs the AI's portrait with it.

Wiring: camera (or a file replay) → vision worker (faces) → the pure state machine (installation/core/sitter.py)
on the main thread → sketch worker (face sketcher + ordering, a plan per robot in its style) → a PlotStreamer per
robot (robots.py) → the robot bridges (in-process simulators without hardware). The screen follows the lead
robot's /robot/drawn acknowledgements, not the plan: each acknowledged path is added to the canvas and the
partial drawing goes to the pix2pix worker, so the portrait morphs stroke by stroke as the pen moves. The finished
pair goes to the archive (with several robots, each robot's drawing too); camera frames only when
`sitter.store_camera_frames` is on (and then the headless frame files may show the preview too).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from installation.core.config import SITTER_STYLES, AppConfig, parse_host_port
from installation.core.frames import AIFrame, CameraFrame, SketchFrame
from installation.core.plotpaths import PaperMapping, paper_size
from installation.core.session import PenEvent, apply_event
from installation.core.sitter import CAPTURING, DETECTING, DONE, DRAWING, IDLE, SKETCHING, Action, SitterMachine
from installation.core.sitter_styles import assign_styles
from installation.core.slots import LatestSlot
from installation.core.strokes import Canvas
from installation.runtime.metrics import MetricsRecorder
from installation.runtime.sitter.robots import SitterRobots
from installation.runtime.sitter.workers import Seen, SketchJob, SketchResult, SketchWorker, VisionWorker
from installation.runtime.teardown import close_show_io

log = logging.getLogger(__name__)
CROP = 256  # face crop side handed to the sketcher
PRESSURE = 0.5  # robot lines on the screen canvas: a mid pen width
ARCHIVE_WAIT_S = 3.0  # the longest wait for the AI's answer to the finished drawing before archiving


@dataclass
class SitterOptions:
    headless: bool = False
    seconds: float | None = None
    out_dir: Path | None = None
    source: Path | None = None  # image or video file; None = the camera in input.camera
    present_s: float | None = None  # a file image: seconds the sitter stays (None = all the time)
    simulate: bool = False  # robot simulators in this process (one per plotter.robots entry) instead of the bridges
    sim_speed: float = 1.0  # simulator pen speed as a multiple of sitter.robot_speed_mm_s
    until_done: bool = False  # stop after the first portrait is finished (and shown briefly) or aborted
    give_up_s: float | None = None  # with until_done: stop when no portrait has begun after this long
    write_frames: bool = True  # with out_dir: frames/ (MP4 + PNG snapshots)
    video_fps: float = 15.0
    snapshot_every_s: float = 2.0


@dataclass
class Portrait:
    """One attempt, from the first usable face to done/aborted."""

    face_t: float | None = None
    capture_t: float | None = None
    result_t: float | None = None
    sketch_s: float = 0.0
    plan: object = None  # face_sketch.Plan (the first answering robot's)
    plans: tuple = ()  # a plan per robot (None: that robot did not answer)
    paths_mm: list[np.ndarray] = field(default_factory=list)  # the lead robot's (robots.py), shown on screen
    ack_t: list[float] = field(default_factory=list)
    still: np.ndarray | None = None
    frames_sketching: list[float] = field(default_factory=list)  # flip times while the sketcher ran
    archived: str = ""
    face_box: tuple[int, int, int, int] | None = None
    faces_in_view: int = 0


class SitterShow:
    def __init__(self, cfg: AppConfig, opts: SitterOptions) -> None:
        self.cfg, self.opts = cfg, opts
        self.stop = threading.Event()
        self.frames: LatestSlot[CameraFrame] = LatestSlot()
        self.seen: LatestSlot[Seen] = LatestSlot()
        self.jobs: LatestSlot[SketchJob] = LatestSlot()
        self.results: LatestSlot[SketchResult] = LatestSlot()
        self.sketches: LatestSlot[SketchFrame] = LatestSlot()
        self.answers: LatestSlot[AIFrame] = LatestSlot()
        s = cfg.sitter
        self.machine = SitterMachine(s.hold_s, s.leave_after_s, s.show_result_s)
        self.metrics = MetricsRecorder()
        self.paper = paper_size(cfg.plotter.paper)
        self.mapping = PaperMapping(cfg.canvas.size, self.paper, cfg.plotter.margin_mm)
        self.canvas = self._new_canvas(cfg.model.input_size)
        self.portrait = Portrait()
        self.done: list[dict] = []  # summaries of finished or aborted portraits
        self.morph_log: list[tuple[int, int]] = []  # (paths on the canvas, paths the robot acknowledged)
        self.robots = SitterRobots([("127.0.0.1", 0)], [s.style])  # replaced by the real robots when run() starts
        self.shown = 0  # the lead robot's paths on the canvas
        self.job = 0
        self.last_seen: Seen | None = None
        self.last_error = ""
        self.archive_due: float | None = None
        self.result_shown_t: float | None = None
        self.pending_ai: AIFrame | None = None
        self.camera_on_screen = False

    def _new_canvas(self, raster: int) -> Canvas:
        c = self.cfg.canvas
        return Canvas(c.size, raster, c.min_width, c.max_width)

    # -- start-up -------------------------------------------------------------------------------------------
    def _source(self):  # noqa: ANN202 - a camera thread
        if self.opts.source is not None:
            from installation.adapters.file_camera import FileCamera

            return FileCamera(self.opts.source, self.frames, self.stop, self.opts.present_s)
        from installation.adapters.camera import CameraWorker
        from installation.adapters.ndi import configure

        configure(list(self.cfg.ndi.extra_ips) if self.cfg.input.camera.startswith("ndi:") else [])
        return CameraWorker(self.cfg.input.camera, self.frames, self.stop)

    @property
    def streamer(self):  # noqa: ANN201 - the lead robot's PlotStreamer while a portrait is drawn, or None
        return self.robots.streamer

    def _robots(self):  # noqa: ANN202 - (addresses, styles, simulator threads)
        p, s = self.cfg.plotter, self.cfg.sitter
        names = p.robots or [p.robot]
        styles = assign_styles(names, s.styles, s.style, SITTER_STYLES)
        if self.opts.simulate:  # one simulator per robot: out/robot (the first, as with one robot), robot-2, ...
            from installation.runtime.sitter.workers import SimulatorThread

            root = self.opts.out_dir or Path("out/sitter")
            speed = s.robot_speed_mm_s * self.opts.sim_speed
            sims = [
                SimulatorThread(root / ("robot" if i == 0 else f"robot-{i + 1}"), p.paper, speed, self.stop)
                for i in range(len(names))
            ]
            return [sim.address for sim in sims], styles, sims
        return [parse_host_port(n, "plotter.robots[]" if p.robots else "plotter.robot") for n in names], styles, []

    # -- the loop -------------------------------------------------------------------------------------------
    def run(self) -> dict[str, object]:
        from installation.adapters.display import Renderer
        from installation.runtime.pipeline import InferenceWorker, display_steadiness
        from installation.runtime.show import Show, ShowOptions

        helper = Show.__new__(Show)  # reuse the spine's model and display openers
        helper.cfg, helper.opts = self.cfg, ShowOptions(headless=self.opts.headless)
        model = helper._open_model()
        self.model_name = model.name
        source = self._source()
        robots, styles, sims = self._robots()
        p = self.cfg.plotter
        self.robots = SitterRobots(
            robots, styles, window=p.window, new_sheet=p.new_sheet, give_up_s=self.cfg.sitter.give_up_robot_s
        )
        surface = helper._open_display()
        self.renderer = Renderer(surface, self.cfg.display)
        self.renderer.set_layout("side")
        self.screen_canvas = self._new_canvas(self.renderer.panel_side())
        frames_out = None
        if self.opts.out_dir is not None and self.opts.write_frames:
            from installation.runtime.frames_out import FrameWriter

            frames_out = FrameWriter(self.opts.out_dir, surface.get_size(), self.opts)
        control, state_out = helper._open_osc()
        if control is not None:
            control.start()  # unsupervised here: its own thread
        threads = [
            InferenceWorker(model, self.sketches, self.answers, self.stop, display_steadiness(lambda: self.cfg)),
            VisionWorker(self.cfg, self.frames, self.seen, self.stop),
            SketchWorker(self.cfg, self.jobs, self.results, self.stop, robots, styles),
            source,
            *sims,
        ]
        self.sketcher = threads[2]
        for th in threads:
            th.start()
        log.info(
            "sitter mode: model %s on %s, robots %s",
            model.name,
            model.provider,
            ", ".join(f"{run.name} ({run.style})" for run in self.robots.runs),
        )
        t_start = time.monotonic()
        from installation.adapters.sd_notify import Notifier

        notify = Notifier.from_env()  # under systemd Type=notify: READY=1, WATCHDOG=1 from this loop, STOPPING=1
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                if self.opts.seconds is not None and now - t_start >= self.opts.seconds:
                    break
                if threads[0].error is not None:
                    raise RuntimeError(f"inference failed: {threads[0].error}")
                self._events(now)
                for cmd in control.drain() if control is not None else []:
                    self._command(cmd.address, now, state_out)
                self._step(now)
                if self.opts.until_done and self._finished(now):
                    break
                if self._give_up(now - t_start):
                    log.warning("sitter: no portrait begun in %.0f s: %s", now - t_start, self.machine.guidance(now))
                    break
                self._draw(now)
                import pygame

                pygame.display.flip()
                flip_t = time.monotonic()
                self.metrics.frame(flip_t)
                if not notify.ready_sent:
                    notify.ready("sitter mode")
                notify.watchdog(flip_t)
                if self.pending_ai is not None:  # acknowledgement-to-photon: pen_t is when the path was acked
                    self.metrics.ai_shown(flip_t - self.pending_ai.pen_t, self.pending_ai.inference_ms)
                    self.pending_ai = None
                if self.sketcher.busy or self.machine.state == SKETCHING:
                    self.portrait.frames_sketching.append(flip_t)
                if frames_out is not None:
                    if self._preview_on_screen() and not self.cfg.sitter.store_camera_frames:
                        self._blank_preview(surface)  # camera pixels are not written unless the venue allows
                        self._draw_countdown(now)
                    frames_out.maybe_write(surface, flip_t - t_start)
                if state_out is not None:
                    state_out.publish(self._state(), flip_t)
                remaining = now + 1.0 / self.cfg.display.fps - time.monotonic()
                if remaining > 0:
                    time.sleep(remaining)
        finally:
            notify.stopping()
            self.stop.set()
            self.robots.cancel()
            close_show_io(threads, control, state_out, frames_out, surface)
            notify.close()
        summary = self.metrics.summary(time.monotonic() - t_start)
        summary.update(
            provider=model.provider,
            model=model.name,
            robot=self.robots.runs[0].name + (" (in-process simulator)" if sims else ""),
            robots=[f"{run.name} {run.style}" for run in self.robots.runs],
            portraits=self.done,
            inference_calls=threads[0].calls,
            frames_judged=threads[1].frames_judged,
            morph_log=self.morph_log,
        )
        return summary

    def _give_up(self, elapsed: float) -> bool:
        g = self.opts.give_up_s
        return bool(self.opts.until_done and g is not None and elapsed >= g and not self.done) and (
            self.machine.state == IDLE
        )

    def _finished(self, now: float) -> bool:
        if not self.done:
            return False
        last = self.done[-1]
        if last["outcome"] == "aborted":
            return True
        return self.archive_due is None and now - (self.result_shown_t or now) >= min(
            3.0, self.cfg.sitter.show_result_s
        )

    # -- input ----------------------------------------------------------------------------------------------
    def _events(self, now: float) -> None:
        import pygame

        for ev in pygame.event.get():
            if ev.type == pygame.QUIT:
                self.stop.set()
            elif ev.type == pygame.KEYDOWN:
                if ev.key in (pygame.K_q, pygame.K_ESCAPE):
                    self.stop.set()
                elif ev.key == pygame.K_SPACE:
                    self._act(self.machine.start(now), now)
                elif ev.key == pygame.K_a:
                    self._act(self.machine.abort(now, "stopped at the keyboard"), now)
                elif ev.key == pygame.K_h:
                    self.renderer.hud = not self.renderer.hud
                elif ev.key == pygame.K_n:  # a fresh sheet is on the plotter
                    self.robots.command("paper")

    def _command(self, address: str, now: float, state_out) -> None:  # noqa: ANN001
        if address == "/sitter/start":
            self._act(self.machine.start(now), now)
        elif address == "/sitter/abort":
            self._act(self.machine.abort(now, "aborted by the operator"), now)
        elif address == "/ping" and state_out is not None:
            state_out.pong()
        elif address in ("/plotter/pause", "/plotter/resume", "/plotter/paper"):
            if not self.robots.command(address.rsplit("/", 1)[1]):
                self.last_error = f"{address}: no portrait is being drawn"
        else:
            self.last_error = f"{address} is not available in sitter mode"

    # -- one frame of logic ---------------------------------------------------------------------------------
    def _step(self, now: float) -> None:
        seen = self.seen.take(timeout=0)
        if seen is not None:
            self.last_seen = seen
            was = self.machine.state
            self._act(self.machine.observe(seen.verdict.observation), now)
            if was == IDLE and self.machine.state == DETECTING:
                self.portrait = Portrait(face_t=now)
            if self.machine.state in (IDLE, DETECTING, CAPTURING):
                self._show_preview(seen)
        else:
            self._act(self.machine.tick(now), now)
        result = self.results.take(timeout=0)
        if result is not None and result.job == self.job:
            self._sketched(result, now)
        if self.robots.begun:
            self._follow_robot(now)
        if self.archive_due is not None:
            ai = self.answers.peek()
            if (ai is not None and ai.seq >= self.canvas.version) or now - self.archive_due >= ARCHIVE_WAIT_S:
                self._archive(ai)
        ai = self.answers.take(timeout=0)
        if ai is not None and self.machine.state in (DRAWING, DONE):
            self.renderer.set_ai(ai.image, now)
            if not ai.settling:  # a glide step answers no new stroke
                self.pending_ai = ai

    def _act(self, actions: list[Action], now: float) -> None:
        for a in actions:
            if a.kind == "capture":
                self._act(self._capture(now), now)
            elif a.kind == "stream":
                self._stream(now)
            elif a.kind == "cancel":
                self.robots.cancel()
                self._close_portrait("aborted", a.detail)
            elif a.kind == "archive":
                self.archive_due = now
            elif a.kind == "reset":
                if a.detail:  # a countdown broken off
                    log.info("sitter: %s", a.detail)
                self._reset()

    def _capture(self, now: float) -> list[Action]:
        seen = self.last_seen
        fresh = seen is not None and now - seen.frame.t < self.cfg.sitter.leave_after_s
        if seen is None or not fresh or seen.verdict.box is None or not seen.verdict.observation.usable:
            return self.machine.captured(now, False, "the sitter moved away")
        from installation.adapters.faces import crop_face

        crop = crop_face(seen.frame.image, seen.verdict.box, CROP)
        self.job += 1
        self.portrait.capture_t = now
        self.portrait.face_box, self.portrait.faces_in_view = seen.verdict.box, seen.verdict.observation.faces
        self.portrait.still = seen.frame.image.copy() if self.cfg.sitter.store_camera_frames else None
        self.jobs.put(SketchJob(self.job, crop))
        self._panel(crop, camera=True)  # the still the robot studies, while it studies it
        log.info("sitter: captured face %s (%d in view)", seen.verdict.box, seen.verdict.observation.faces)
        return self.machine.captured(now, True)

    def _sketched(self, result: SketchResult, now: float) -> None:
        p = self.portrait
        p.sketch_s, p.result_t, p.plan = result.sketch_s, now, result.plan
        if result.plan is None:
            self.last_error = result.error
            self._act(self.machine.sketched(now, 0, result.error), now)
            return
        p.plans = result.plans or (result.plan,)
        p.paths_mm = result.plan.paths_mm
        for run, plan in zip(self.robots.runs, p.plans, strict=True):
            if plan is not None and len(self.robots.runs) > 1:
                log.info("sitter: robot %d (%s) draws %s: %d paths", run.n, run.name, run.style, len(plan.paths_mm))
        log.info(
            "sitter: %d paths planned (of %d), pen-down %.0f mm, pen-up %.0f mm, about %.1f min; sketch %.2f s",
            len(p.paths_mm),
            result.plan.candidates,
            result.plan.pen_down_mm,
            result.plan.pen_up_mm,
            result.plan.estimated_s / 60,
            result.sketch_s,
        )
        total = sum(len(pl.paths_mm) for pl in p.plans if pl is not None)
        self._act(self.machine.sketched(now, total), now)

    def _stream(self, now: float) -> None:
        self._clear_drawing(now)
        # a new job per robot (its own id, numbered from 0); an earlier portrait's job still streaming is cancelled
        self.robots.begin(self.portrait.plans)
        self._follow_lead(now)

    def _follow_lead(self, now: float) -> None:
        """The screen shows the lead robot: its plan and acknowledgements are the portrait's."""
        lead = self.robots.lead
        self.portrait.paths_mm, self.portrait.ack_t = lead.paths_mm, lead.ack_t
        self.shown = 0

    def _follow_robot(self, now: float) -> None:
        """Take in every robot's acknowledgements; each path the lead robot acknowledges as drawn is added to the
        canvas and the partial drawing goes to the model. The sitting ends when every robot has finished or has
        been given up (all given up: aborted)."""
        if self.robots.poll(now):  # the lead was given up: the screen starts again from the next robot's paper
            self._clear_drawing(now)
            self._follow_lead(now)
        lead = self.robots.lead
        drawn = len(lead.ack_t)
        if drawn > self.shown:
            inv = 1.0 / self.mapping.scale
            for i in range(self.shown, drawn):
                pts = (lead.paths_mm[i] - self.mapping.offset()) * inv  # mm → canvas pixels
                for c in (self.canvas, self.screen_canvas):
                    apply_event(c, PenEvent("down", 0.0, *pts[0], PRESSURE), now)
                    for x, y in pts[1:]:
                        apply_event(c, PenEvent("move", 0.0, x, y, PRESSURE), now)
                    apply_event(c, PenEvent("up", 0.0), now)
            self.shown = drawn
            self.morph_log.append((len(self.canvas.strokes), lead.streamer.drawn if lead.streamer else drawn))
            self.sketches.put(SketchFrame(self.canvas.version, now, self.canvas.raster()))
            self._panel(self.screen_canvas.raster(), camera=False)
        if self.robots.ended and not self.robots.any_done:
            who = "the robots" if len(self.robots.runs) > 1 else "the robot"
            self._act(self.machine.abort(now, f"{who} stopped answering"), now)
        else:
            self._act(self.machine.progress(now, self.robots.drawn, self.robots.ended), now)

    def _archive(self, ai: AIFrame | None) -> None:
        from installation.runtime.archive import Archive
        from installation.runtime.sitter.record import record_files, record_meta, robot_files

        self.archive_due = None
        p = self.portrait
        summary = self._close_portrait("done", "")
        t0 = p.capture_t or 0.0
        files = record_files(
            p.paths_mm[: len(p.ack_t)],
            [t - t0 for t in p.ack_t],
            self.paper,
            ai.model_image if ai is not None else None,
            p.still,
        )
        settings = {"sitter": vars(self.cfg.sitter).copy(), "plotter": vars(self.cfg.plotter).copy()}
        meta = record_meta(settings, summary["timings"], self.model_name, summary["counts"])
        if len(self.robots.runs) > 1:  # each robot's own drawing, named by its number and style
            for run in self.robots.runs:
                drawn = run.paths_mm[: len(run.ack_t)]
                files.update(robot_files(run.n, run.style, drawn, [t - t0 for t in run.ack_t], self.paper))
            meta["robots"], meta["lead_robot"] = summary["robots"], self.robots.lead.n
        root = self.cfg.resolve(self.cfg.sitter.archive)
        archive = Archive(root, self.cfg.sitter.store_camera_frames)
        p.archived = archive.save("sitter", files, meta)  # never raises: failures are logged and counted
        if p.archived:
            summary["archived"] = str(archive.path(p.archived))
            log.info("sitter: portrait archived as %s", summary["archived"])
        else:  # the show goes on; the drawing is on the robot's paper
            self.last_error = f"could not archive the portrait in {root}: {archive.stats.last_error}"
            log.error(self.last_error)

    def _close_portrait(self, outcome: str, reason: str) -> dict:
        p = self.portrait
        flips = np.asarray(p.frames_sketching)
        sketch_ms = np.diff(flips) * 1000 if len(flips) > 1 else np.zeros(0)
        plan = p.plan
        first = p.ack_t[0] - p.capture_t if p.ack_t and p.capture_t is not None else None
        summary = {
            "outcome": outcome,
            "reason": reason,
            "timings": {
                "hold_s": round(p.capture_t - p.face_t, 3) if p.capture_t and p.face_t else None,
                "face_to_first_stroke_s": round(first, 3) if first is not None else None,
                "sketch_s": round(p.sketch_s, 3),
                "drawing_s": round(p.ack_t[-1] - p.ack_t[0], 2) if p.ack_t else None,
                "fps_while_sketching": round(float((len(flips) - 1) / (flips[-1] - flips[0])), 1)
                if len(flips) > 2
                else None,
                "frame_ms_max_while_sketching": round(float(sketch_ms.max()), 1) if len(sketch_ms) else None,
                "fps_during_countdown": self._fps_between(p.face_t, p.capture_t),
            },
            "counts": {
                "face_box": list(p.face_box) if p.face_box else None,
                "faces_in_view": p.faces_in_view,
                "strokes_planned": len(p.paths_mm),
                "strokes_drawn": len(p.ack_t),
                "candidates": getattr(plan, "candidates", 0),
                "pen_down_mm": round(getattr(plan, "pen_down_mm", 0.0), 1),
                "pen_up_mm": round(getattr(plan, "pen_up_mm", 0.0), 1),
                "estimated_min": round(getattr(plan, "estimated_s", 0.0) / 60, 2),
            },
        }
        if self.robots.begun:
            summary["robots"] = self.robots.summary(p.capture_t)
            last = [r["last_stroke_s"] for r in summary["robots"] if r["outcome"] == "done"]
            summary["timings"]["all_robots_finished_s"] = max(last) if last and self.robots.ended else None
        self.done.append(summary)
        self.result_shown_t = time.monotonic()
        log.info("sitter: portrait %s %s %s", outcome, reason, summary)
        return summary

    def _fps_between(self, t0: float | None, t1: float | None) -> float | None:
        """Display frames per second between two moments (the baseline the sketching figure compares with)."""
        if t0 is None or t1 is None or t1 <= t0:
            return None
        flips = [f for f in self.metrics.flips if t0 <= f <= t1]
        return round((len(flips) - 1) / (flips[-1] - flips[0]), 1) if len(flips) > 2 else None

    def _clear_drawing(self, now: float) -> None:
        for c in (self.canvas, self.screen_canvas):
            apply_event(c, PenEvent("clear", 0.0), now)
        self._panel(self.screen_canvas.raster(), camera=False)  # blank paper until the robot's first stroke
        self.renderer.clear_ai()

    def _reset(self) -> None:
        self.robots.reset()
        self.archive_due = None
        self.renderer.clear_ai()

    # -- the screen -----------------------------------------------------------------------------------------
    def _panel(self, gray: np.ndarray, camera: bool) -> None:
        """Put an image in the sketch panel, remembering whether it shows camera pixels (not to be recorded)."""
        self.renderer.set_sketch(gray)
        self.camera_on_screen = camera

    def _preview_on_screen(self) -> bool:
        return self.camera_on_screen

    def _show_preview(self, seen: Seen) -> None:
        """The camera's view (grey, centre square) with the chosen face framed, in the sketch panel."""
        import cv2

        img = seen.frame.image
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img.copy()
        h, w = gray.shape
        side = min(h, w)
        x0, y0 = (w - side) // 2, (h - side) // 2
        sq = np.ascontiguousarray(gray[y0 : y0 + side, x0 : x0 + side])
        box = seen.verdict.box
        if box is not None:
            colour = 255 if seen.verdict.observation.usable else 90
            cv2.rectangle(sq, (box[0] - x0, box[1] - y0), (box[0] - x0 + box[2], box[1] - y0 + box[3]), colour, 2)
        self._panel(sq, camera=True)

    def _blank_preview(self, surface) -> None:  # noqa: ANN001
        from installation.adapters.display import PAPER_RGB

        rect = self.renderer.panels.sketch
        if rect is not None:
            surface.fill(PAPER_RGB, rect)

    def _draw(self, now: float) -> None:
        from installation.adapters.display import HudInfo

        hud = HudInfo(self.metrics.recent_fps(), 0.0, 0.0, "", self.model_name, f"sitter: {self.machine.state}")
        self.renderer.draw(now, hud, banner=self._guidance(now))
        self._draw_countdown(now)

    def _draw_countdown(self, now: float) -> None:
        n = self.machine.countdown(now)
        if n:
            import pygame

            if not hasattr(self, "_big"):
                self._big = pygame.font.Font(None, 180)
            img = self._big.render(str(n), True, (255, 230, 120))
            x, y, w, h = self.renderer.panels.draw
            self.renderer.surface.blit(img, (x + (w - img.get_width()) // 2, y + (h - img.get_height()) // 2))

    def _guidance(self, now: float) -> str:
        """The screen's line; while several robots draw, each robot's progress."""
        if self.machine.state == DRAWING and len(self.robots.runs) > 1 and self.robots.begun:
            return self.robots.progress_line()
        return self.machine.guidance(now)

    def _state(self) -> dict[str, object]:
        return {
            "fps": round(self.metrics.recent_fps(), 2),
            "mode": f"sitter/{self.machine.state}",
            **self.robots.state(),
            "sitter/state": self.machine.state,
            "sitter/guidance": self._guidance(time.monotonic()),
            "error": self.last_error,
        }


__all__ = ["SitterOptions", "SitterShow", "DONE"]
