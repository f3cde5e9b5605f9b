"""The show: the main loop that wires inputs, canvas, inference worker and renderer together.

Ownership: the main thread owns pygame (events, canvas, renderer, flip); the inference worker owns the model
session; the camera and pressure readers own their devices. Hand-offs are one-slot latest-value slots and
one stop event ends everything. Pen-to-photon latency is measured at the flip that first shows an AI image:
flip time minus the time of the newest pen event that image reflects.

Unattended operation: every worker runs under a Supervisor (restart with back-off; the display keeps the last
images and shows a gentle status line meanwhile), a health record is logged every `supervision.health_every_s`,
and finished works (a clear after drawing, key S, or `archive.finish_idle_s` without a pen event) go to the
archive through a bounded background writer.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from installation.core.archive_index import config_hash
from installation.core.config import GENERATORS, LAYOUTS, RANGES, AppConfig
from installation.core.errors import UserError
from installation.core.frames import AIFrame, CameraFrame, SketchFrame
from installation.core.session import PenEvent, Player, Session, SessionWriter, apply_event, read_session
from installation.core.slots import LatestSlot
from installation.core.strokes import Canvas
from installation.runtime.archive import Archive, ArchiveWriter
from installation.runtime.metrics import MetricsRecorder
from installation.runtime.steer_worker import SteerRequest, SteerWorker
from installation.runtime.supervisor import Supervisor

log = logging.getLogger(__name__)

SESSIONS_DIR = Path(__file__).resolve().parents[1] / "assets" / "sessions"
HOLD_AFTER_SESSION_S = 2.0  # a finished replayed drawing stays on screen this long before the next
SHUTDOWN_S = 3.5  # archive flush + worker joins after a stop, in all: SIGTERM ends the show within 5 s
ARCHIVE_FLUSH_S = 2.5  # of which pending works may take this long (a stuck writer must not hold the exit)


def default_sessions() -> list[Path]:
    return sorted(SESSIONS_DIR.glob("*.jsonl"))


@dataclass
class ShowOptions:
    headless: bool = False
    seconds: float | None = None
    out_dir: Path | None = None
    record_to: Path | None = None  # record every pen event to this session file
    sessions: list[Path] = field(default_factory=list)  # for replay and attract mode
    video_fps: float = 15.0  # headless: frames written to the MP4 per second of show
    snapshot_every_s: float = 2.0  # headless: a PNG every this many seconds


class Replay:
    """Plays sessions one after another against the show clock, clearing between them."""

    def __init__(self, sessions: list[Session], speed: float, loop: bool) -> None:
        self.sessions = sessions
        self.speed = speed
        self.loop = loop
        self.index = 0
        self.player = Player(sessions[0], speed)
        self.started = 0.0
        self.finished_at: float | None = None
        self.done = False

    def start(self, now: float) -> None:
        self.started = now

    def due(self, now: float) -> list[PenEvent]:
        """Events to apply now; a 'clear' is synthesised between sessions."""
        if self.done:
            return []
        events = self.player.due(now - self.started)
        if self.player.finished:
            if self.finished_at is None:
                self.finished_at = now
            elif now - self.finished_at >= HOLD_AFTER_SESSION_S / self.speed:
                self.index += 1
                if self.index >= len(self.sessions):
                    if not self.loop:
                        self.done = True
                        return events
                    self.index = 0
                self.player = Player(self.sessions[self.index], self.speed)
                self.started, self.finished_at = now, None
                events.append(PenEvent("clear", 0.0))
        return events

    def name(self) -> str:
        return self.sessions[self.index].source or f"session {self.index + 1}"


class Show:
    def __init__(self, cfg: AppConfig, opts: ShowOptions) -> None:
        self.cfg = cfg
        self.opts = opts
        self.stop = threading.Event()
        self.sketches: LatestSlot[SketchFrame] = LatestSlot()
        self.answers: LatestSlot[AIFrame] = LatestSlot()
        self.camera_frames: LatestSlot[CameraFrame] = LatestSlot()
        self.paper_sketches: LatestSlot[tuple[float, np.ndarray]] = LatestSlot()
        self.profile = _load_profile(cfg)
        self.metrics = MetricsRecorder()
        self.prompt = cfg.steer.prompts[0]
        self.generator = cfg.steer.generator  # pix2pix answers; the others are steered by the prompt (steer_worker)
        self.steer_requests: LatestSlot[SteerRequest] = LatestSlot()
        self.steer_frames: LatestSlot[AIFrame] = LatestSlot()
        self.steer_worker: SteerWorker | None = None
        self.last_error = ""
        self.plotter_link = None  # the job-aware robot link (plotter_link.RobotLink), made on the first /plotter/start
        self.clip_score = None  # the newest ClipScore of the AI image against the prompt
        self.supervisor: Supervisor | None = None
        self.archive_writer: ArchiveWriter | None = None
        self.works_finished = 0  # finished works handed to the archive writer (or refused by it)
        self._work_mode: str | None = None  # the mode in which the drawing on the canvas began (None: empty)
        self._work_started = ""
        self._archived_version = -1  # canvas version of the newest archived work (no double archiving)
        self._model = None
        self.switcher = None  # ModelSwitcher: /model builds the next model beside the running one
        self.renderer = None  # the display's Renderer while the show runs (layout, HUD): read by tests
        self._status = ""  # the status line on screen now
        self._config_hash = config_hash(cfg.to_dict())
        size = cfg.canvas.size
        self.canvas = Canvas(size, cfg.model.input_size, cfg.canvas.min_width, cfg.canvas.max_width)
        self.sessions = [read_session(p) for p in (opts.sessions or default_sessions())]
        if cfg.input.source == "replay" and not self.sessions:
            raise UserError("replay needs session files: pass --session FILE or restore installation/assets/sessions")
        for s in self.sessions:
            if s.canvas != size:
                log.info("session %s drawn on a %d canvas; scaled to %d", s.source, s.canvas, size)
        self.sessions = [_rescale(s, size) for s in self.sessions]

    # -- start-up -------------------------------------------------------------------------------------------
    def _open_model(self):  # noqa: ANN202 - the runtime's Model
        from installation.runtime.inference import ModelExpectation, RuntimeSettings, open_model, open_tiered
        from installation.runtime.model_switch import ModelSwitcher

        m = self.cfg.model
        settings = RuntimeSettings(
            providers=tuple(m.providers),
            require_gpu=m.require_gpu,
            intra_op_threads=m.threads,
            trt_cache_dir=str(self.cfg.resolve(m.trt_cache_dir)),
        )
        expect = ModelExpectation(kind="pix2pix", input_size=m.input_size, input_channels=1, output_channels=3)
        gpu_path = str(self.cfg.resolve(m.gpu_path)) if m.gpu_path else ""
        cpu_path = self.cfg.resolve(m.path)
        tiers = {"cpu": cpu_path, **({"gpu": Path(gpu_path)} if gpu_path else {})}
        self.switcher = ModelSwitcher(lambda p: open_model(p, expect, settings), cpu_path.parent, tiers)
        local = open_tiered(str(cpu_path), gpu_path, m.tier, expect, settings)
        if m.backend == "triton":  # a Triton server answers, the local model stands by (remote_model.py)
            from installation.runtime.remote_model import open_triton

            return open_triton(m, local)
        return local

    def _open_display(self):  # noqa: ANN202 - pygame Surface
        if self.opts.headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
        import pygame

        try:
            pygame.display.init()
            pygame.font.init()
            d = self.cfg.display
            if d.fullscreen:
                surface = pygame.display.set_mode((0, 0), pygame.FULLSCREEN, display=d.display_index)
            else:
                surface = pygame.display.set_mode((d.width, d.height), display=d.display_index)
            pygame.display.set_caption("live installation")
            if not self.opts.headless:
                from installation.adapters.window import warn_if_invisible

                instead = "for frame files run `run.py demo --headless --out DIR`"
                warn_if_invisible(pygame.display.get_driver(), "the show's window", instead)
        except pygame.error as e:
            raise UserError(
                f"cannot open display {self.cfg.display.display_index} ({e}): connect a screen, set "
                "display.display_index, or run with --headless --out DIR"
            ) from e
        return surface

    # -- the loop -------------------------------------------------------------------------------------------
    def run(self) -> dict[str, object]:
        """Run until stopped or `opts.seconds`; returns the metrics summary. The file log lives as long as this."""
        import pygame

        from installation.runtime import logs
        from installation.runtime.health import health_fields, status_line

        log_handler = logs.attach(self.cfg.logging, lambda p: self.cfg.resolve(p))
        try:
            return self._run(pygame, health_fields, status_line)
        finally:
            logs.detach(log_handler)

    def _run(self, pygame, health_fields, status_line) -> dict[str, object]:  # noqa: ANN001
        from installation.adapters.display import HudInfo, Renderer
        from installation.adapters.sd_notify import Notifier
        from installation.adapters.tablet import PenInput, PressureReader, find_pen_device
        from installation.runtime.frames_out import FrameWriter
        from installation.runtime.pipeline import InferenceWorker

        model = self._model = self._open_model()
        sup_cfg = self.cfg.supervision
        sup = self.supervisor = Supervisor(
            self.stop,
            sup_cfg.initial_backoff_s,
            sup_cfg.max_backoff_s,
            sup_cfg.healthy_after_s,
            sup_cfg.stall_after_s,
        )
        camera = None
        if self.cfg.input.source == "camera":
            from installation.adapters.camera import CameraWorker
            from installation.runtime.paper_input import PaperSketchWorker, sketcher_from_profile

            camera = CameraWorker(self.cfg.input.camera, self.camera_frames, self.stop)
            to_sketch = sketcher_from_profile(self.profile, self.cfg.model.input_size)
            paper = PaperSketchWorker(
                self.camera_frames, self.paper_sketches, self.stop, to_sketch, self.cfg.model.input_size
            )
        surface = self._open_display()
        renderer = self.renderer = Renderer(surface, self.cfg.display)
        display_canvas = self._display_canvas(renderer.panel_side())
        pressure = None
        if self.cfg.input.source == "tablet" and not self.opts.headless:
            spec = self.cfg.input.evdev
            dev = find_pen_device(spec)
            if dev is not None or spec not in ("auto", "off"):  # a named device may be plugged in later
                pressure = PressureReader.from_device(dev, self.stop, spec)
                sup.add("tablet", pressure.serve, watch_stall=False)
        pen = PenInput(
            self._pen_mapping(renderer, surface),
            pressure.pressure if pressure else (lambda: 1.0),
        )
        writer = None
        if self.opts.record_to is not None:
            writer = SessionWriter(self.opts.record_to, self.cfg.canvas.size, "recorded", _now_iso())
            log.info("recording to %s", self.opts.record_to)
        frames_out = FrameWriter(self.opts.out_dir, surface.get_size(), self.opts) if self.opts.out_dir else None

        control, state_out = self._open_osc()
        worker = InferenceWorker(model, self.sketches, self.answers, self.stop)
        sup.add("inference", worker.serve)
        if self.generator != "pix2pix":
            self._request_steer(restart=True)
        clip = self._start_clip()
        if camera is not None:
            sup.add("camera", camera.serve)
            sup.add("paper", paper.serve)
        if control is not None:
            sup.add("osc", control.serve, release=control.close_socket)  # a replacement opens a fresh socket
            control.announce()
        if self.cfg.archive.enabled:
            a = self.cfg.archive
            archive = Archive(self.cfg.resolve(a.root), a.store_camera_frames)
            self.archive_writer = ArchiveWriter(archive, a.max_pending)
            sup.add("archive", self.archive_writer.serve, interrupt=False)  # a slow save finishes, not lost
            log.info("archiving finished works to %s", archive.root)
        log.info(
            "model %s on %s; input %s; layout %s",
            model.name,
            model.provider,
            self.cfg.input.source,
            renderer.layout,
        )

        t_start = time.monotonic()
        replay = self._initial_replay(t_start)
        last_input = t_start
        pending: AIFrame | None = None
        mode = self.cfg.input.source
        record_t0: float | None = None
        hud = HudInfo(0.0, 0.0, 0.0, model.provider, model.name, mode)
        next_health = t_start + sup_cfg.health_every_s
        notify = Notifier.from_env()  # systemd: READY=1 at the first frame, WATCHDOG=1 from this loop
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                if self.opts.seconds is not None and now - t_start >= self.opts.seconds:
                    break
                if self.steer_worker is not None and self.steer_worker.error is not None:
                    self._steer_failed()
                new_model = self.switcher.take() if self.switcher is not None else None
                if new_model is not None:  # built beside the old one: swapped between two frames
                    model = self._model = new_model
                    worker.swap(new_model)
                    hud.provider, hud.model = new_model.provider, new_model.name
                    self._sketch_changed(now)
                if now >= next_health:
                    next_health = now + sup_cfg.health_every_s
                    fields = health_fields(self, now - t_start, control, worker)
                    extra = {"fields": {"health": fields}, "short": "health"}
                    log.info("health %s", json.dumps(fields, default=str), extra=extra)
                events: list[PenEvent] = []
                for ev in pygame.event.get():
                    if ev.type == pygame.QUIT:
                        self.stop.set()
                    elif ev.type == pygame.KEYDOWN:
                        self._key(ev.key, renderer, display_canvas, now)
                        if renderer.panel_side() != display_canvas.raster_size:
                            display_canvas = self._display_canvas(renderer.panel_side())
                    else:
                        pe = pen.handle(ev, now)
                        if pe is not None:
                            events.append(pe)
                for cmd in control.drain() if control is not None else []:
                    replay, mode = self._command(cmd, renderer, display_canvas, now, replay, mode, state_out)
                    last_input = now if cmd.address == "/attract" and not cmd.args[0] else last_input
                if events:
                    last_input = now
                    if replay is not None and mode == "attract":  # a visitor takes over from attract mode
                        replay, mode = None, self.cfg.input.source
                        events.insert(0, PenEvent("clear", 0.0))
                    if writer is not None:
                        record_t0 = record_t0 if record_t0 is not None else now
                        for pe in events:
                            writer.write(_retime(pe, now - record_t0))
                if replay is not None:
                    events += replay.due(now)
                    if replay.done:
                        replay = None
                elif self._attract_due(now, last_input):
                    replay, mode = self._attract(now), "attract"
                if camera is not None:
                    self._camera_to_sketch(renderer)
                for pe in events:
                    if pe.kind == "clear":
                        self._finish("clear", mode)
                    elif pe.kind == "down" and self._work_mode is None:
                        self._work_mode, self._work_started = mode, _utc_iso()
                    apply_event(self.canvas, pe, now)
                    apply_event(display_canvas, pe, now)
                self._maybe_finish_idle(now, mode)
                if events:
                    self.metrics.pen_events += len(events)
                    self._sketch_changed(now)
                    renderer.set_sketch(display_canvas.raster())
                ai = self._ai_source().take(timeout=0)
                if ai is not None:
                    renderer.set_ai(ai.image, now)
                    pending = ai if self.generator == "pix2pix" else None  # latency: pix2pix answers only
                if clip is not None:
                    self._clip_step(clip, hud)
                hud.fps, hud.mode = self.metrics.recent_fps(), mode
                hud.latency_ms, hud.inference_ms = (
                    self.metrics.recent_latency(),
                    self.metrics.recent_inference(),
                )
                down = sup.down(now)
                status = status_line(down, camera.connected if camera is not None else True)
                if status != self._status:
                    self._status = status
                    log.warning("status: %s", status or "all workers up again")
                banner = replay.name() if replay is not None and mode == "attract" else ""
                renderer.draw(now, hud, banner=banner, status=status)
                pygame.display.flip()
                flip_t = time.monotonic()
                self.metrics.frame(flip_t)
                if not notify.ready_sent:
                    notify.ready(f"showing, {model.name} on {model.provider}")
                notify.watchdog(flip_t)
                if pending is not None:
                    self.metrics.ai_shown(flip_t - pending.pen_t, pending.inference_ms)
                    pending = None
                if frames_out is not None:
                    frames_out.maybe_write(surface, flip_t - t_start)
                if state_out is not None:
                    state_out.publish(self._state(hud, renderer, model, control), flip_t)
                # wait for the next frame, but wake at once for an OSC command: applied and reported immediately
                deadline = now + 1.0 / self.cfg.display.fps  # `now`: this frame's start
                while (remaining := deadline - time.monotonic()) > 0:
                    if control is None:
                        time.sleep(remaining)
                        break
                    if not control.wake.wait(remaining):
                        break
                    control.wake.clear()
                    t_cmd = time.monotonic()
                    for cmd in control.drain():
                        replay, mode = self._command(cmd, renderer, display_canvas, t_cmd, replay, mode, state_out)
                        last_input = t_cmd if cmd.address == "/attract" and not cmd.args[0] else last_input
                    if state_out is not None:
                        hud.mode = mode
                        state_out.publish(self._state(hud, renderer, model, control), t_cmd)
        finally:
            notify.stopping()
            end = time.monotonic() + SHUTDOWN_S  # every wait below shares this budget: a stuck worker is left

            def left() -> float:
                return max(0.0, end - time.monotonic())

            if self.archive_writer is not None and not self.archive_writer.flush(min(ARCHIVE_FLUSH_S, left())):
                log.error("archive writer did not finish %d work(s) before shutdown", self.archive_writer.pending)
            self.stop.set()
            sup.join(timeout=left())
            if self.steer_worker is not None:
                self.steer_worker.join(timeout=left())
            if clip is not None:
                clip.join(timeout=left())
            if left_behind := sup.stuck():
                log.warning("threads still busy at shutdown, left behind: %s", ", ".join(left_behind))
            if control is not None:
                control.close_socket()
            if self.streamer is not None:
                self.streamer.stop_event.set()
            if state_out is not None:
                state_out.close()
            if writer is not None:
                writer.close()
                log.info("recorded %d events to %s", writer.count, writer.path)
            if frames_out is not None:
                frames_out.close(surface)
            pygame.display.quit()
            notify.close()
        summary = self.metrics.summary(time.monotonic() - t_start)
        summary.update(
            provider=model.provider,
            model=model.name,
            remote=_remote_summary(model),
            inference_calls=worker.calls,
            restarts=sup.restarts,
            replaced=sup.replaced,
            threads_left_behind=left_behind,
            workers=sup.status(),
            works_finished=self.works_finished,
            works_archived=self.archive_writer.archive.stats.saved if self.archive_writer else 0,
            works_failed=self.archive_writer.archive.stats.failed if self.archive_writer else 0,
            works_not_indexed=self.archive_writer.archive.stats.index_failed if self.archive_writer else 0,
            works_dropped=self.archive_writer.dropped if self.archive_writer else 0,
            inference_skipped=worker.skipped,
            sketch_slot_dropped=self.sketches.dropped,
            rss_mb=_rss_mb(),
        )
        if self.steer_worker is not None:
            w = self.steer_worker
            summary.update(steer_steps=w.steps, steer_frames=w.frames_out, steer_retargets=w.retargets)
        return summary

    # -- CLIP score -----------------------------------------------------------------------------------------
    def _start_clip(self):  # noqa: ANN202 - ClipScoreWorker | None
        if not self.cfg.clip.enabled:
            return None
        from installation.runtime.clip_worker import ClipScoreWorker

        c = self.cfg.clip
        clip = ClipScoreWorker(self.cfg.resolve(c.models), c.hz, c.threads, self.stop)
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

    # -- OSC ------------------------------------------------------------------------------------------------
    def _open_osc(self):  # noqa: ANN202 - (ControlSurface | None, StateBroadcaster | None)
        if not self.cfg.osc.enabled:
            return None, None
        from installation.adapters.osc_server import ControlSurface, OscSettings, StateBroadcaster

        o = self.cfg.osc
        settings = OscSettings(
            o.host, o.port, tuple(o.allow), tuple(o.state_out), o.state_hz, o.queue_size, o.rate_limit_hz, o.rate_burst
        )
        state_out = StateBroadcaster(settings)
        return ControlSurface(settings), state_out

    def _state(self, hud, renderer, model, control) -> dict[str, object]:  # noqa: ANN001
        return {
            "fps": round(hud.fps, 2),
            "latency_ms": round(hud.latency_ms, 2),
            "mode": hud.mode,
            "layout": renderer.layout,
            "prompt": self.prompt,
            "model": f"{model.name} on {model.provider}",
            **_model_state(model),
            "clip/score": round(self.clip_score.cosine, 4) if self.clip_score is not None else None,
            **self._plotter_state(),
            "error": self._state_error(control),
        }

    def _command(self, cmd, renderer, display_canvas, now, replay, mode, state_out):  # noqa: ANN001, ANN202
        """Apply one OSC command on the main thread; returns the (replay, mode) pair it leaves."""
        import pygame

        a, args = cmd.address, cmd.args
        keys = {"/clear": pygame.K_c, "/save": pygame.K_s}
        if a in keys:
            self._key(keys[a], renderer, display_canvas, now)
        elif a == "/layout":
            renderer.set_layout(args[0])
        elif a == "/hud":
            renderer.hud = args[0]
        elif a == "/crossfade":
            renderer.crossfade_s = args[0]
        elif a == "/prompt":
            self._set_prompt(args[0])
        elif a == "/generator":
            self._set_generator(args[0], restart=False)
        elif a == "/ping" and state_out is not None:
            state_out.pong()
        elif a == "/attract":
            if args[0] and self.sessions:
                return self._attract(now), "attract"
            if not args[0] and mode == "attract":
                return None, self.cfg.input.source
        elif a == "/mode" and args[0] == "replay" and self.sessions:
            r = Replay(self.sessions, self.cfg.input.replay_speed, self.cfg.input.replay_loop)
            r.start(now)
            return r, "replay"
        elif a == "/mode" and args[0] == "tablet":
            return None, "tablet"
        elif a == "/param":
            self._param(str(args[0]), args[1], renderer)
        elif a.startswith("/plotter/"):
            self._plotter(a.rsplit("/", 1)[1])
        elif a == "/model" and self.switcher is not None:
            self.switcher.request(str(args[0]))
        elif a.startswith("/sitter/"):
            self.last_error = f"{a} works in sitter mode: run `python run.py sitter`"
        else:  # camera mode: not available in this build
            self.last_error = f"{a} is not available in this build"
            log.info("OSC %s %s: not available in this build", a, args)
        return replay, mode

    def _state_error(self, control) -> str:  # noqa: ANN001
        if self.last_error:
            return self.last_error
        if self.switcher is not None and self.switcher.error:
            return self.switcher.error
        if self.archive_writer is not None and self.archive_writer.archive.stats.last_error:
            return self.archive_writer.archive.stats.last_error
        return control.counters.last_error if control is not None else ""

    # -- finished works -------------------------------------------------------------------------------------
    def _finish(self, reason: str, mode: str, force: bool = False) -> None:
        """Hand a finished work to the archive writer: a clear after drawing, key S (`force`), or idle.

        Attract-mode drawings are not works; the same canvas version is never archived twice. Never blocks:
        encoding happens on the writer thread; a writer that is behind refuses and counts.
        """
        work_mode = self._work_mode
        if reason == "clear":
            self._work_mode = None
        if self.archive_writer is None or self.canvas.version == self._archived_version:
            return
        if not force and work_mode in (None, "attract"):
            return
        camera_mode = self.cfg.input.source == "camera"
        if not self.canvas.all_strokes() and not camera_mode:
            return
        from installation.runtime.works import WorkSnapshot, build_files

        self._archived_version = self.canvas.version
        self.works_finished += 1
        ai = self.answers.peek()
        cam = self.camera_frames.peek() if camera_mode else None
        model = self._model
        meta = {
            "reason": reason,
            "source": work_mode or mode,
            "started_at": self._work_started or _utc_iso(),
            "finished_at": _utc_iso(),
            "prompt": self.prompt,
            "model": {
                "name": getattr(model, "name", ""),
                "file": getattr(getattr(model, "path", None), "name", ""),
                "sha256": getattr(model, "sha256", ""),
                "provider": getattr(model, "provider", ""),
            },
            "config_hash": self._config_hash,
            "canvas_version": self.canvas.version,
            "ai_seq": ai.seq if ai is not None else None,  # the canvas version the AI image answered
        }
        snap = WorkSnapshot(
            kind="drawing",
            events=tuple(_strokes_to_events(self.canvas)),
            canvas=self.cfg.canvas.size,
            sketch=self.canvas.raster(),
            ai=ai.image if ai is not None else None,
            camera=cam.image if cam is not None else None,
            paper=self.cfg.plotter.paper,
            margin_mm=self.cfg.plotter.margin_mm,
            meta=meta,
        )
        self.archive_writer.submit(lambda: build_files(snap))

    def _maybe_finish_idle(self, now: float, mode: str) -> None:
        idle = self.cfg.archive.finish_idle_s
        if (
            idle > 0
            and self._work_mode not in (None, "attract")
            and not self.canvas.drawing
            and now - self.canvas.last_pen_t >= idle
            and self.canvas.version != self._archived_version
        ):
            self._finish("idle", mode)

    @property
    def streamer(self):  # noqa: ANN201 - the current job's PlotStreamer, or None
        return self.plotter_link.streamer if self.plotter_link is not None else None

    def _plotter_state(self) -> dict[str, object]:
        from installation.adapters.plotter_link import RobotLink

        link = self.plotter_link or RobotLink(("", 0))  # no link yet: idle, nothing planned
        return link.state()

    def _robot_link(self):  # noqa: ANN202 - the RobotLink to plotter.robot
        from installation.adapters.plotter_link import RobotLink

        if self.plotter_link is None:
            p = self.cfg.plotter
            if p.robots:  # several bridges at once (adapters/robot_fleet.py)
                from installation.adapters.robot_fleet import RobotFleet
                from installation.core.config import parse_host_port

                robots = [parse_host_port(r, "plotter.robots[]") for r in p.robots]
                self.plotter_link = RobotFleet(robots, window=p.window, new_sheet=p.new_sheet)
                return self.plotter_link
            host, _, port = p.robot.rpartition(":")
            if not port.isdigit():
                raise UserError(f"config plotter.robot {p.robot!r} must be HOST:PORT")
            self.plotter_link = RobotLink((host, int(port)), window=p.window, new_sheet=p.new_sheet)
        return self.plotter_link

    def _plotter(self, verb: str) -> None:
        """start: a new job streaming the visitor's strokes to the robot bridge; pause, resume, cancel, paper
        (a fresh sheet is in place): for the current job."""
        from installation.core.plotpaths import PaperMapping, paper_size, prepare

        try:
            link = self._robot_link()
        except UserError as e:  # a wrong plotter.robot: said on /state/error, the show goes on
            self.last_error = str(e)
            return
        if verb != "start":
            if not link.command(verb):
                self.last_error = f"/plotter/{verb}: no plot has been started"
            return
        running = self.supervisor.workers.get("plotter") if self.supervisor is not None else None
        if link.busy or (running is not None and running.state in ("starting", "up", "down")):
            self.last_error = "/plotter/start: a plot is already running (pause, cancel or wait for it)"
            return
        p = self.cfg.plotter
        strokes = [np.array([(q.x, q.y) for q in s.points], float) for s in self.canvas.all_strokes()]
        strokes = [s for s in strokes if len(s) >= 2]
        if not strokes:
            self.last_error = "/plotter/start: nothing drawn yet"
            return
        plotter = self.profile.plotter if self.profile is not None else None
        reg = plotter.registration(self.cfg.canvas.size) if plotter is not None else None
        mapping = reg or PaperMapping(self.cfg.canvas.size, paper_size(p.paper), p.margin_mm)
        paths = prepare([mapping.to_mm(s) for s in strokes], tolerance=0.1, merge_tol=0.05)
        streamer = link.start(paths)
        if self.supervisor is not None:
            self.supervisor.add(
                "plotter",
                lambda stop, beat: streamer.serve(beat),
                restart_on_exit=False,
                release=lambda: streamer.sock.close(),  # a replacement reopens it and resumes
            )
        else:
            streamer.start()
        log.info("plotting job %s: %d paths on %s via %s", streamer.job, len(paths), p.paper, p.robot)

    def _param(self, name: str, value: object, renderer) -> None:  # noqa: ANN001
        """Live parameters settable by name over /param."""
        from installation.core.osc_protocol import coerce

        setters = {
            "display.crossfade_s": ("f", lambda v: setattr(renderer, "crossfade_s", v)),
            "display.hud": ("b", lambda v: setattr(renderer, "hud", v)),
            "display.layout": ("s", lambda v: renderer.set_layout(v) if v in LAYOUTS else None),
        }
        if name not in setters:
            self.last_error = f"/param: {name!r} is not a live parameter ({', '.join(setters)})"
            return
        kind, setter = setters[name]
        try:
            v = coerce(value, kind)
            lo, hi = RANGES.get(name, (-math.inf, math.inf))
            if kind == "f" and not lo <= v <= hi:  # False for NaN too: the config's range holds live as well
                raise ValueError(f"{v} is not within {lo:g}..{hi:g}")
            setter(v)
        except ValueError as e:
            self.last_error = f"/param {name}: {e}"

    # -- steering -------------------------------------------------------------------------------------------
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

    # -- helpers --------------------------------------------------------------------------------------------
    def _display_canvas(self, side: int) -> Canvas:
        """A second canvas at panel resolution, fed the same events, so the screen sketch is sharp."""
        c = Canvas(self.cfg.canvas.size, side, self.cfg.canvas.min_width, self.cfg.canvas.max_width)
        for stroke in self.canvas.all_strokes():
            for i, p in enumerate(stroke.points):
                kind = "down" if i == 0 else "move"
                apply_event(c, PenEvent(kind, p.t, p.x, p.y, p.pressure), 0.0)
            apply_event(c, PenEvent("up", 0.0), 0.0)
        return c

    def _initial_replay(self, now: float) -> Replay | None:
        if self.cfg.input.source != "replay":
            return None
        r = Replay(self.sessions, self.cfg.input.replay_speed, self.cfg.input.replay_loop)
        r.start(now)
        return r

    def _attract_due(self, now: float, last_input: float) -> bool:
        after = self.cfg.display.attract_after_s
        return self.cfg.input.source == "tablet" and after > 0 and now - last_input >= after and bool(self.sessions)

    def _attract(self, now: float) -> Replay:
        log.info("idle for %.0f s: attract mode", self.cfg.display.attract_after_s)
        r = Replay(self.sessions, self.cfg.input.replay_speed, loop=True)
        r.start(now)
        return r

    def _camera_to_sketch(self, renderer) -> None:  # noqa: ANN001
        """A new sketch from the paper worker (only sent when it changed) → inference and the sketch panel."""
        got = self.paper_sketches.take(timeout=0)
        if got is None:
            return
        t, sketch = got
        self.canvas.version += 1
        self.sketches.put(SketchFrame(self.canvas.version, t, sketch))
        renderer.set_sketch(sketch)

    def _pen_mapping(self, renderer, surface):  # noqa: ANN001, ANN202
        """Screen position → canvas: the panel under the cursor, or the calibrated tablet surface."""
        size = self.cfg.canvas.size
        tablet = self.profile.tablet if self.profile is not None else None
        if tablet is None or self.cfg.input.source != "tablet":
            return lambda pos: renderer.screen_to_canvas(pos, size)
        mapping = tablet.mapping()
        log.info("tablet input: calibrated surface mapping %s", mapping)

        def to_canvas(pos: tuple[int, int]) -> tuple[float, float] | None:
            w, h = surface.get_size()
            return mapping.to_canvas(pos[0] / w, pos[1] / h, size)

        return to_canvas

    def _key(self, key: int, renderer, display_canvas: Canvas, now: float) -> None:  # noqa: ANN001
        import pygame

        if key in (pygame.K_q, pygame.K_ESCAPE):
            self.stop.set()
        elif key == pygame.K_c:
            self._finish("clear", self._work_mode or "")
            apply_event(self.canvas, PenEvent("clear", 0.0), now)
            apply_event(display_canvas, PenEvent("clear", 0.0), now)
            renderer.set_sketch(display_canvas.raster())
            self._sketch_changed(now, restart=True)
        elif key == pygame.K_g:
            self._set_generator(GENERATORS[(GENERATORS.index(self.generator) + 1) % len(GENERATORS)], restart=True)
        elif key == pygame.K_p:
            prompts = self.cfg.steer.prompts
            self._set_prompt(prompts[(prompts.index(self.prompt) + 1) % len(prompts)] if self.prompt in prompts
                             else prompts[0])  # fmt: skip
        elif key == pygame.K_l:
            renderer.set_layout(LAYOUTS[(LAYOUTS.index(renderer.layout) + 1) % len(LAYOUTS)])
        elif key == pygame.K_h:
            renderer.hud = not renderer.hud
        elif key == pygame.K_n:  # a fresh sheet is on the plotter
            self._plotter("paper")
        elif key == pygame.K_s:
            self._save(renderer)
            self._finish("save", self._work_mode or self.cfg.input.source, force=True)

    def _save(self, renderer) -> None:  # noqa: ANN001
        import cv2

        from installation.core.session import write_session

        folder = self.cfg.resolve(self.cfg.paths.saved)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{stamp}-sketch.png"), self.canvas.raster())
            ai = self.answers.peek()
            if ai is not None:
                cv2.imwrite(str(folder / f"{stamp}-ai.png"), ai.image[:, :, ::-1])
            events = _strokes_to_events(self.canvas)
            write_session(folder / f"{stamp}.jsonl", Session(self.cfg.canvas.size, tuple(events), "saved", stamp))
            log.info("saved %s/%s-*", folder, stamp)
        except OSError as e:  # the show goes on
            log.error("could not save to %s: %s", folder, e)


def _strokes_to_events(canvas: Canvas) -> list[PenEvent]:
    events: list[PenEvent] = []
    t0 = None
    for stroke in canvas.all_strokes():
        for i, p in enumerate(stroke.points):
            t0 = p.t if t0 is None else t0
            events.append(PenEvent("down" if i == 0 else "move", max(0.0, p.t - t0), p.x, p.y, p.pressure))
        events.append(PenEvent("up", events[-1].t))
    return events


def _retime(ev: PenEvent, t: float) -> PenEvent:
    return PenEvent(ev.kind, t, ev.x, ev.y, ev.pressure)


def _rescale(session: Session, size: int) -> Session:
    if session.canvas == size:
        return session
    k = size / session.canvas
    events = tuple(PenEvent(e.kind, e.t, e.x * k, e.y * k, e.pressure) for e in session.events)
    return Session(size, events, session.source, session.created)


def _utc_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _now_iso() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _load_profile(cfg: AppConfig):  # noqa: ANN202
    """The venue's calibration profile, validated at start-up (a bad one is a one-line error), or None."""
    if not cfg.calibration.profile:
        return None
    from calibration.profile import load_profile

    return load_profile(cfg.resolve(cfg.calibration.profile))


def _model_state(model) -> dict[str, object]:  # noqa: ANN001 - /state/model/backend and round trip
    from installation.runtime.remote_model import state_fields

    return state_fields(model)


def _remote_summary(model) -> dict[str, object] | None:  # noqa: ANN001 - the Triton backend's figures, or None
    from installation.runtime.remote_model import remote_stats

    return remote_stats(model)
