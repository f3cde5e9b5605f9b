"""Duet mode: the artist and the robot draw on one sheet, taking turns.

Wiring: the artist's pen (the mouse/tablet in the window, or a recorded session replayed turn by turn,
installation/core/duet_replay.py) → the pure turn-taking machine (installation/core/duet.py) on the main
thread → on the AI's turn, the strokes worker (duet_worker.py: CLIP-steered strokes added to the sheet as it is,
cut off the artist's ink) → a robot job through the plotter calibration (PaperMapping, or the venue's
registration) → the robot bridge (an in-process simulator without hardware). The screen adds an AI stroke only
when the robot acknowledges it; the left panel is the sheet in two inks, the right the pix2pix answer to it.
The finished duet goes to the archive with whose stroke was whose and when.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from installation.adapters.plotter_link import RobotLink
from installation.core import duet_ink
from installation.core.config import AppConfig
from installation.core.duet import ARTIST, DRAWING, Action, DuetMachine
from installation.core.duet_replay import ArtistReplay
from installation.core.errors import UserError
from installation.core.frames import AIFrame, SketchFrame
from installation.core.plotpaths import PaperMapping, paper_size
from installation.core.prompts import parse_prompts
from installation.core.session import PenEvent, Session, apply_event, read_session
from installation.core.slots import LatestSlot
from installation.core.strokes import Canvas
from installation.runtime.duet_record import png, record
from installation.runtime.duet_worker import DuetWorker, TurnRequest, TurnResult
from installation.runtime.metrics import MetricsRecorder
from installation.runtime.teardown import close_show_io

log = logging.getLogger(__name__)
AI_PRESSURE = 0.3  # the robot's strokes on the screen canvas: a thin pen
LOST_S = 5.0  # the robot silent this long during the AI's turn: the turn fails and goes back to the artist


@dataclass
class DuetOptions:
    headless: bool = False
    seconds: float | None = None
    out_dir: Path | None = None
    session: Path | None = None  # a recorded artist; None = the pen in the window
    simulate: bool = False  # the robot simulator in this process instead of plotter.robot
    turns: int | None = None  # stop once this many AI turns have ended (and archive the duet)
    replay_speed: float = 1.0
    write_frames: bool = True
    video_fps: float = 15.0
    snapshot_every_s: float = 2.0


@dataclass
class AiJob:
    turn: int
    paths_px: list[np.ndarray]  # canvas pixels, in drawing order
    sent_t: float
    result: TurnResult
    ack_t: list[float] = field(default_factory=list)


class DuetShow:
    def __init__(self, cfg: AppConfig, opts: DuetOptions) -> None:
        self.cfg, self.opts = cfg, opts
        d = cfg.duet
        self.stop = threading.Event()
        self.machine = DuetMachine(d.pause_s, d.strokes_per_turn)
        self.prompt = d.prompt or cfg.steer.prompts[0]
        self.metrics = MetricsRecorder()
        c = cfg.canvas
        self.artist = Canvas(c.size, cfg.model.input_size, c.min_width, c.max_width)  # the artist's ink alone
        self.sheet = Canvas(c.size, cfg.model.input_size, c.min_width, c.max_width)  # both inks: the model's input
        self.records: list[dict[str, Any]] = []  # every finished stroke: who, turn, times, points
        self._down_t: float | None = None
        self.paper = paper_size(cfg.plotter.paper)
        self.mapping = _mapping(cfg)
        self.requests: LatestSlot[TurnRequest] = LatestSlot()
        self.results: LatestSlot[TurnResult] = LatestSlot()
        self.sketches: LatestSlot[SketchFrame] = LatestSlot()
        self.answers: LatestSlot[AIFrame] = LatestSlot()
        self.job: AiJob | None = None
        self.jobs: list[AiJob] = []
        self.link = RobotLink(("127.0.0.1", 0))
        self.last_error = ""
        self.replay = self._replay()
        self.t0 = time.monotonic()
        self.ai_image: np.ndarray | None = None
        self.archived = ""
        self._dirty = True
        self.ink = duet_ink.InkSheet(8, c.size)  # the screen's two-ink sheet, made at panel size in run()
        self._pending: TurnResult | None = None  # the answer of the turn about to be streamed
        self.draft: TurnResult | None = None  # an answer made while the artist paused, for the coming turn
        self.asked_version = -1  # the sheet version the worker was last asked to answer
        self.waiting_turn: int | None = None  # the AI's turn waiting for the worker's answer
        self._lost_since: float | None = None
        self.answer_was: dict[int, str] = {}  # per turn: draft ready, draft in progress, asked at the turn
        self.model_name = ""

    def _replay(self) -> ArtistReplay | None:
        if self.opts.session is None:
            return None
        s = read_session(self.opts.session)
        if s.canvas != self.cfg.canvas.size:
            k = self.cfg.canvas.size / s.canvas
            s = Session(
                self.cfg.canvas.size, tuple(PenEvent(e.kind, e.t, e.x * k, e.y * k, e.pressure) for e in s.events)
            )
        gap = min(0.5, 0.5 * self.cfg.duet.pause_s)
        return ArtistReplay(s, self.opts.replay_speed, self.cfg.duet.replay_strokes, gap)

    # -- start-up -------------------------------------------------------------------------------------------
    def _robot(self):  # noqa: ANN202 - (address, simulator thread or None)
        if self.opts.simulate:
            from installation.runtime.sitter.workers import SimulatorThread

            out = (self.opts.out_dir or Path("out/duet")) / "robot"
            sim = SimulatorThread(out, self.cfg.plotter.paper, self.cfg.duet.robot_speed_mm_s, self.stop)
            return sim.address, sim
        host, _, port = self.cfg.plotter.robot.rpartition(":")
        if not port.isdigit():
            raise UserError(f"config plotter.robot {self.cfg.plotter.robot!r} must be HOST:PORT")
        return (host, int(port)), None

    def run(self) -> dict[str, object]:
        from installation.adapters.display import Renderer
        from installation.runtime.pipeline import InferenceWorker, display_steadiness
        from installation.runtime.show import Show, ShowOptions

        helper = Show.__new__(Show)  # reuse the spine's model, display and OSC openers
        helper.cfg, helper.opts = self.cfg, ShowOptions(headless=self.opts.headless)
        model = helper._open_model()
        self.model_name = model.name
        robot, sim = self._robot()
        p = self.cfg.plotter
        self.link = RobotLink(robot, window=p.window, new_sheet=p.new_sheet)
        surface = helper._open_display()
        self.renderer = Renderer(surface, self.cfg.display)
        self.renderer.set_layout("side")
        self.ink = duet_ink.InkSheet(self.renderer.panel_side(), self.cfg.canvas.size)
        frames_out = None
        if self.opts.out_dir is not None and self.opts.write_frames:
            from installation.runtime.frames_out import FrameWriter

            frames_out = FrameWriter(self.opts.out_dir, surface.get_size(), self.opts)
        control, state_out = helper._open_osc()
        if control is not None:
            control.start()
        d, st = self.cfg.duet, self.cfg.steer
        clip_path = self.cfg.resolve(st.clip) if st.clip else None
        self.worker = DuetWorker(clip_path, d.size, d.cutouts, st.threads, self.requests, self.results, self.stop)
        self.worker.warm_prompt = self.prompt
        worker = InferenceWorker(model, self.sketches, self.answers, self.stop, display_steadiness(lambda: self.cfg))
        threads: list[threading.Thread] = [worker, self.worker]
        if sim is not None:
            threads.append(sim)
        for th in threads:
            th.start()
        log.info("duet mode: robot %s:%d, prompt %r, pause %.1f s", *robot, self.prompt, d.pause_s)
        import pygame

        self.t0 = time.monotonic()
        ready_t: float | None = None
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                if self.opts.seconds is not None and now - self.t0 >= self.opts.seconds:
                    break
                if self.worker.error is not None:
                    raise RuntimeError(f"the duet's strokes worker failed: {self.worker.error}")
                if ready_t is None and self.worker.ready.is_set():
                    ready_t = now
                    log.info("duet: the machine is ready after %.1f s", now - self.t0)
                self._events(pygame, now)
                for cmd in control.drain() if control is not None else []:
                    self._command(cmd.address, cmd.args, now, state_out)
                if self.replay is not None and ready_t is not None:
                    self._artist(self.replay.due(now, self.machine.state == ARTIST, self.machine.number), now)
                self._act(self.machine.tick(now), now)
                res = self.results.take(timeout=0)
                if res is not None:
                    self._result(res, now)
                if self.job is not None and self.link.streamer is not None:
                    self._follow_robot(now)
                self._answers(now)
                if self._done():
                    break
                self._draw(now, ready_t is not None)
                pygame.display.flip()
                flip_t = time.monotonic()
                self.metrics.frame(flip_t)
                if frames_out is not None:
                    frames_out.maybe_write(surface, flip_t - self.t0)
                if state_out is not None:
                    state_out.publish(self._state(), flip_t)
                remaining = now + 1.0 / self.cfg.display.fps - time.monotonic()
                if remaining > 0:
                    time.sleep(remaining)
            self._archive()
        finally:
            self.stop.set()
            self.link.stop()
            close_show_io(threads, control, state_out, frames_out, surface)
        summary = self.metrics.summary(time.monotonic() - self.t0)
        summary.update(self.summary(), robot=f"{robot[0]}:{robot[1]}" + (" (in-process simulator)" if sim else ""))
        return summary

    def _done(self) -> bool:
        n = self.opts.turns
        if n is not None and self.machine.state == ARTIST and sum(1 for t in self.machine.turns if t.ended_t) >= n:
            return True
        r = self.replay
        return bool(n is None and r is not None and r.finished and self.machine.state == ARTIST and not r.pen_down
                    and self.machine.new_strokes == 0)  # fmt: skip

    # -- the artist -----------------------------------------------------------------------------------------
    def _artist(self, events: list[PenEvent], now: float) -> None:
        for e in events:
            if e.kind == "clear":
                continue  # a duet never wipes the sheet
            apply_event(self.artist, e, now)
            apply_event(self.sheet, e, now)
            self.ink.pen(e.kind, e.x, e.y)
            if e.kind == "down":
                self._down_t = now
            elif e.kind == "up" and self._down_t is not None:
                pts = self.artist.strokes[-1].points
                self.records.append(record("artist", self.machine.number, self._down_t, now, self.t0,
                                            [(q.x, q.y) for q in pts]))  # fmt: skip
                self._down_t = None
            self._act(self.machine.pen(now, e.kind), now)
            self._dirty = True

    def _events(self, pygame, now: float) -> None:  # noqa: ANN001
        for ev in pygame.event.get():
            if ev.type == pygame.QUIT:
                self.stop.set()
            elif ev.type == pygame.KEYDOWN:
                self._key(pygame, ev.key, now)
            elif self.replay is None and ev.type in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP):
                self._mouse(pygame, ev, now)

    def _mouse(self, pygame, ev, now: float) -> None:  # noqa: ANN001
        pos = self.renderer.screen_to_canvas(ev.pos, self.cfg.canvas.size)
        if ev.type == pygame.MOUSEBUTTONDOWN and ev.button == 1 and pos is not None:
            self._artist([PenEvent("down", now, *pos, 0.5)], now)
        elif ev.type == pygame.MOUSEMOTION and self.artist.drawing and pos is not None:
            self._artist([PenEvent("move", now, *pos, 0.5)], now)
        elif ev.type == pygame.MOUSEBUTTONUP and ev.button == 1 and self.artist.drawing:
            self._artist([PenEvent("up", now)], now)

    def _key(self, pygame, key: int, now: float) -> None:  # noqa: ANN001
        if key in (pygame.K_q, pygame.K_ESCAPE):
            self.stop.set()
        elif key == pygame.K_t:
            self.cue(now)
        elif key == pygame.K_k:
            self.skip(now)
        elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            self.set_strokes(self.machine.strokes_per_turn + 1)
        elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
            self.set_strokes(self.machine.strokes_per_turn - 1)
        elif key == pygame.K_p:
            prompts = self.cfg.steer.prompts
            i = prompts.index(self.prompt) if self.prompt in prompts else -1
            self.set_prompt(prompts[(i + 1) % len(prompts)])
        elif key == pygame.K_h:
            self.renderer.hud = not self.renderer.hud
        elif key == pygame.K_n:
            self.link.command("paper")

    # -- cues (keys and OSC) --------------------------------------------------------------------------------
    def cue(self, now: float) -> None:
        actions, why = self.machine.cue(now)
        self.last_error = f"/duet/turn: {why}" if why else self.last_error
        self._act(actions, now)

    def skip(self, now: float) -> None:
        actions, why = self.machine.skip(now)
        self.last_error = f"/duet/skip: {why}" if why else self.last_error
        self._act(actions, now)

    def set_strokes(self, n: int) -> None:
        try:
            self.machine.set_strokes(n)
        except ValueError as e:
            self.last_error = f"/duet/strokes: {e}"

    def set_prompt(self, text: str) -> None:
        try:
            parse_prompts(text)
        except UserError as e:
            self.last_error = f"/prompt: {e}"
            return
        self.prompt = text
        log.info("duet: the AI now draws towards %r", text)

    def _command(self, address: str, args: tuple, now: float, state_out) -> None:  # noqa: ANN001
        if address == "/duet/turn":
            self.cue(now)
        elif address == "/duet/skip":
            self.skip(now)
        elif address == "/duet/strokes":
            self.set_strokes(int(args[0]))
        elif address == "/duet/pause":
            try:
                self.machine.set_pause(float(args[0]))
            except ValueError as e:
                self.last_error = f"/duet/pause: {e}"
        elif address == "/prompt":
            self.set_prompt(str(args[0]))
        elif address == "/ping" and state_out is not None:
            state_out.pong()
        elif address in ("/plotter/pause", "/plotter/resume", "/plotter/paper"):
            if not self.link.command(address.rsplit("/", 1)[1]):
                self.last_error = f"{address}: the robot has not drawn yet"
        elif address == "/hud":
            self.renderer.hud = bool(args[0])
        else:
            self.last_error = f"{address} is not available in duet mode"

    # -- the AI's turn --------------------------------------------------------------------------------------
    def _act(self, actions: list[Action], now: float) -> None:
        for a in actions:
            if a.kind == "draft" and self.cfg.duet.draft:
                self._ask(a.turn)  # the pen lifted: think now, the answer waits for the pause
                self.draft = None
            elif a.kind == "drop_draft":
                self._drop()
            elif a.kind == "think":
                self._think(a.turn, now)
            elif a.kind == "stream":
                self._stream(now)
            elif a.kind == "cancel":
                self._drop()
                if self.job is not None and self.job.turn == a.turn and self.link.streamer is not None:
                    self.link.streamer.cancel()
                log.info("duet turn %d ended: %s", a.turn, a.detail)
            elif a.kind == "turn_done":
                log.info("duet turn %d ended: %s", a.turn, a.detail)

    def _ask(self, turn: int) -> None:
        """Ask the worker for strokes that answer the sheet as it is now."""
        d = self.cfg.duet
        lines = tuple(np.array([(q.x, q.y) for q in s.points], float) for s in self.artist.strokes)
        v = self.sheet.version
        self.asked_version = self.worker.wanted = v
        self.requests.put(
            TurnRequest(
                turn,
                self.prompt,
                self.machine.strokes_per_turn,
                self.sheet.raster(),
                self.artist.raster(),
                lines,
                self.cfg.canvas.size,
                d.think_s,
                d.steps,
                d.max_crossing,
                version=v,
            )  # fmt: skip
        )

    def _drop(self) -> None:
        self.asked_version = self.worker.wanted = -1
        self.draft = None
        self.waiting_turn = None

    def _think(self, turn: int, now: float) -> None:
        """The AI's turn: the draft made since the pen lifted if it answers this sheet, else a fresh request."""
        self.waiting_turn = turn
        if self.asked_version != self.sheet.version:
            self.answer_was[turn] = "asked at the turn"
            self._ask(turn)
        elif self.draft is not None:
            self.answer_was[turn] = "draft ready"
            self._answer(self.draft, now)
        else:
            self.answer_was[turn] = "draft in progress"

    def _result(self, res: TurnResult, now: float) -> None:
        if res.version != self.asked_version or res.version != self.sheet.version:
            return  # out of date: the sheet changed since it was asked for
        if self.waiting_turn is None:
            self.draft = res  # ready before the pause ended: kept for the turn
        else:
            self._answer(res, now)

    def _answer(self, res: TurnResult, now: float) -> None:
        turn = self.waiting_turn
        assert turn is not None
        self.waiting_turn, self.draft, self.asked_version = None, None, -1
        if res.error:
            self.last_error = res.error
            self._act(self.machine.failed(now, res.error), now)
            return
        start = self.jobs[-1].paths_px[-1][-1] if self.jobs and self.jobs[-1].paths_px else None
        paths = duet_ink.order_from(res.paths, start)
        self._pending = TurnResult(turn, paths, res.crossing, res.crossing_before_cut, res.steps, res.think_s)
        self._act(self.machine.thought(now, turn, len(paths)), now)

    def _stream(self, now: float) -> None:
        res = self._pending
        assert res is not None
        paths_mm = [self.mapping.to_mm(p) for p in res.paths]
        self.job = AiJob(res.turn, res.paths, now, res)
        self.jobs.append(self.job)
        streamer = self.link.start(paths_mm, replace=True)
        streamer.start()

    def _follow_robot(self, now: float) -> None:
        """Each stroke the robot acknowledges goes onto the sheet (and the screen) as the AI's."""
        job, s = self.job, self.link.streamer
        assert job is not None and s is not None
        drawn = min(s.drawn, len(job.paths_px))
        for i in range(len(job.ack_t), drawn):
            pts = job.paths_px[i]
            apply_event(self.sheet, PenEvent("down", 0.0, *pts[0], AI_PRESSURE), now)
            for x, y in pts[1:]:
                apply_event(self.sheet, PenEvent("move", 0.0, x, y, AI_PRESSURE), now)
            apply_event(self.sheet, PenEvent("up", 0.0), now)
            job.ack_t.append(now)
            self.ink.stroke("ai", pts)
            start = job.sent_t if i == 0 else job.ack_t[i - 1]
            self.records.append(record("ai", job.turn, start, now, self.t0, pts.tolist()))
            self._dirty = True
        if self.machine.state == DRAWING and self.machine.turn is not None and self.machine.turn.number == job.turn:
            self._act(self.machine.progress(now, drawn), now)
            lost = s.state == "lost" or (s.exited and not s.finished)
            self._lost_since = (self._lost_since or now) if lost else None
            if self._lost_since is not None and now - self._lost_since >= LOST_S:  # no robot: the turn goes back
                self.last_error = f"the robot at {s.robot[0]}:{s.robot[1]} does not answer: start a bridge (or --sim)"
                self._act(self.machine.failed(now, self.last_error), now)

    # -- the screen -----------------------------------------------------------------------------------------
    def _answers(self, now: float) -> None:
        if self._dirty:
            self.sketches.put(SketchFrame(self.sheet.version, now, self.sheet.raster()))
            self.renderer.set_sketch_rgb(self.ink.rgb)
            self._dirty = False
        ai = self.answers.take(timeout=0)
        if ai is not None:
            self.renderer.set_ai(ai.image, now)
            self.ai_image = ai.model_image

    def _draw(self, now: float, ready: bool) -> None:
        from installation.adapters.display import HudInfo

        m = self.machine
        mode = f"duet: {m.state}, turn {m.number}, {m.strokes_per_turn} strokes a turn"
        hud = HudInfo(self.metrics.recent_fps(), 0.0, 0.0, "", self.model_name, mode)
        banner = m.guidance() if ready else "The machine is waking up"
        self.renderer.draw(now, hud, banner=f"{banner}   ({self.prompt})")

    def _state(self) -> dict[str, object]:
        return {
            "fps": round(self.metrics.recent_fps(), 2),
            "mode": f"duet/{self.machine.state}",
            "prompt": self.prompt,
            **self.machine.state_dict(),
            **self.link.state(),
            "error": self.last_error,
        }

    # -- the record -----------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        turns = []
        for t in self.machine.turns:
            job = next((j for j in self.jobs if j.turn == t.number), None)
            turns.append({
                "turn": t.number, "reason": t.reason, "outcome": t.outcome, "strokes_asked": t.strokes_asked,
                "answer": self.answer_was.get(t.number, ""),
                "planned": t.planned, "drawn": t.drawn,
                "think_s": round(job.result.think_s, 3) if job else None,
                "steps": job.result.steps if job else None,
                "pause_to_first_ai_stroke_s": round(t.latency_s, 3) if t.latency_s is not None else None,
                "pen_rest_to_first_ai_stroke_s": round(t.first_ack_t - t.rest_t, 3)
                if t.first_ack_t is not None and t.rest_t is not None else None,
                "crossing": round(job.result.crossing, 4) if job else None,
                "crossing_before_cut": round(job.result.crossing_before_cut, 4) if job else None,
            })  # fmt: skip
        mask = duet_ink.ink_mask(self.artist.raster())
        k = self.cfg.model.input_size / self.cfg.canvas.size
        ai_paths = [np.asarray(r["points"], float) * k for r in self.records if r["who"] == "ai"]
        cross = duet_ink.crossing(ai_paths, mask)
        return {
            "turns": turns,
            "artist_strokes": sum(1 for r in self.records if r["who"] == "artist"),
            "ai_strokes": len(ai_paths),
            "ai_crossing_final": round(cross.fraction, 4),
            "prompt": self.prompt,
            "model": self.model_name,
            "archived": self.archived,
        }

    def _archive(self) -> None:
        if not self.records:
            return
        from installation.runtime.archive import Archive

        size = self.cfg.canvas.size
        strokes = [(r["who"], np.asarray(r["points"], float)) for r in self.records]
        files = {
            "duet.png": png(duet_ink.two_inks(strokes, 1024, size)),
            "sketch.png": png(self.sheet.raster()),
            "duet.json": json.dumps({"canvas": size, "strokes": self.records}).encode(),
        }
        if self.ai_image is not None:
            files["ai.png"] = png(cv2.cvtColor(self.ai_image, cv2.COLOR_RGB2BGR))
        meta = {"reason": "duet", "source": "replay" if self.replay is not None else "tablet",
                "prompt": self.prompt, "model": self.model_name,
                "settings": {"duet": vars(self.cfg.duet).copy(), "plotter": vars(self.cfg.plotter).copy()},
                "turns": self.summary()["turns"]}  # fmt: skip
        archive = Archive(self.cfg.resolve(self.cfg.duet.archive))
        self.archived = archive.save("duet", files, meta)
        if not self.archived:
            self.last_error = f"could not archive the duet: {archive.stats.last_error}"


def _mapping(cfg: AppConfig):  # noqa: ANN202 - canvas pixels → plotter mm: the venue's registration, or the paper
    from installation.runtime.show.startup import load_profile

    profile = load_profile(cfg)
    plotter = profile.plotter if profile is not None else None
    reg = plotter.registration(cfg.canvas.size) if plotter is not None else None
    p = cfg.plotter
    return reg or PaperMapping(cfg.canvas.size, paper_size(p.paper), p.margin_mm)
