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
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from installation.core.archive_index import config_hash
from installation.core.config import AppConfig
from installation.core.error_line import NewestError
from installation.core.errors import UserError
from installation.core.frames import AIFrame, CameraFrame, SketchFrame
from installation.core.session import PenEvent, SessionWriter, apply_event, read_session
from installation.core.slots import LatestSlot
from installation.core.strokes import Canvas
from installation.runtime.archive import Archive, ArchiveWriter
from installation.runtime.metrics import MetricsRecorder
from installation.runtime.remote_model import remote_stats
from installation.runtime.show.commands import CommandsMixin
from installation.runtime.show.finish import FinishMixin, utc_iso
from installation.runtime.show.frame import FrameMixin
from installation.runtime.show.generators import GeneratorsMixin
from installation.runtime.show.plotter import PlotterMixin
from installation.runtime.show.replay import ReplayMixin, default_sessions, rescale, retime
from installation.runtime.show.startup import StartupMixin, load_profile, now_iso
from installation.runtime.steer_worker import SteerRequest, SteerWorker
from installation.runtime.supervisor import Supervisor
from installation.runtime.teardown import SHUTDOWN_S

log = logging.getLogger(__name__)

ARCHIVE_FLUSH_S = 2.5  # of which pending works may take this long (a stuck writer must not hold the exit)


@dataclass
class ShowOptions:
    headless: bool = False
    seconds: float | None = None
    out_dir: Path | None = None
    record_to: Path | None = None  # record every pen event to this session file
    sessions: list[Path] = field(default_factory=list)  # for replay and attract mode
    video_fps: float = 15.0  # headless: frames written to the MP4 per second of show
    snapshot_every_s: float = 2.0  # headless: a PNG every this many seconds


class Show(StartupMixin, CommandsMixin, GeneratorsMixin, FrameMixin, FinishMixin, PlotterMixin, ReplayMixin):
    def __init__(self, cfg: AppConfig, opts: ShowOptions) -> None:
        self.cfg = cfg
        self.opts = opts
        self.stop = threading.Event()
        self.sketches: LatestSlot[SketchFrame] = LatestSlot()
        self.answers: LatestSlot[AIFrame] = LatestSlot()
        self.camera_frames: LatestSlot[CameraFrame] = LatestSlot()
        self.paper_sketches: LatestSlot[tuple[float, np.ndarray]] = LatestSlot()
        self.profile = load_profile(cfg)
        self.metrics = MetricsRecorder()
        self.prompt = cfg.steer.prompts[0]
        self.generator = cfg.steer.generator  # pix2pix answers; the others are steered by the prompt (steer_worker)
        self.steer_requests: LatestSlot[SteerRequest] = LatestSlot()
        self.steer_frames: LatestSlot[AIFrame] = LatestSlot()
        self.steer_worker: SteerWorker | None = None
        self.last_error = ""
        self.errors = NewestError()  # /state/error: the newest error of any source (core/error_line)
        self.plotter_link = None  # the job-aware robot link (plotter_link.RobotLink), made on the first /plotter/start
        self.clip_score = None  # the newest ClipScore of the AI image against the prompt
        self.supervisor: Supervisor | None = None
        self.archive_writer: ArchiveWriter | None = None
        self.works_finished = 0  # finished works handed to the archive writer (or refused by it)
        self._work_mode: str | None = None  # the mode in which the drawing on the canvas began (None: empty)
        self._work_started = ""
        self._archived_version = -1  # canvas version of the newest archived work (no double archiving)
        self._model = None
        self.adaptive = None  # AdaptiveModels: the ladder the show steps down when inference falls behind
        self.rate_info: dict[str, object] = {}  # threads, precision: chosen once at start (metrics.json)
        self.switcher = None  # ModelSwitcher: /model builds the next model beside the running one
        self.source = cfg.input.source  # the input now: /mode switches it (input_switch.InputSwitcher)
        self.inputs = None  # the InputSwitcher while the show runs
        self.renderer = None  # the display's Renderer while the show runs (layout, HUD): read by tests
        self.ndi_out = None  # NDI sources for the rig (ndi.enabled): runtime/ndi_out.py
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
        self.sessions = [rescale(s, size) for s in self.sessions]

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
        from installation.runtime.pipeline import InferenceWorker, display_steadiness

        model = self._model = self._open_model()
        sup_cfg = self.cfg.supervision
        sup = self.supervisor = Supervisor(
            self.stop,
            sup_cfg.initial_backoff_s,
            sup_cfg.max_backoff_s,
            sup_cfg.healthy_after_s,
            sup_cfg.stall_after_s,
        )
        from installation.runtime.input_switch import InputSwitcher, Switch, open_camera_input

        inputs = self.inputs = InputSwitcher(
            lambda: open_camera_input(self.cfg, self.profile, self.camera_frames, self.paper_sketches, self.stop),
            bool(self.sessions),
            report=lambda message: setattr(self, "last_error", message),  # the newest error, on /state/error
        )
        first_camera = inputs.open_camera() if self.source == "camera" else None  # fails fast at start-up
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
            writer = SessionWriter(self.opts.record_to, self.cfg.canvas.size, "recorded", now_iso())
            log.info("recording to %s", self.opts.record_to)
        frames_out = FrameWriter(self.opts.out_dir, surface.get_size(), self.opts) if self.opts.out_dir else None
        ndi_out = self._start_ndi()  # NDI sources for the rig (runtime/ndi_out.py), or None

        control, state_out = self._open_osc()
        worker = InferenceWorker(model, self.sketches, self.answers, self.stop, display_steadiness(lambda: self.cfg))
        sup.add("inference", worker.serve)
        if self.generator != "pix2pix":
            self._request_steer(restart=True)
        clip = self._start_clip()
        if first_camera is not None:
            inputs.swap(Switch("camera", first_camera), sup)
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
                    self.adaptive = None  # a model chosen by hand (/model): no adaptive steps away from it
                    hud.provider, hud.model = new_model.provider, new_model.name
                    self._sketch_changed(now)
                if (switch := inputs.take()) is not None:  # /mode: the new input was built beside the old one
                    replay, mode = self._swap_input(switch, renderer, display_canvas, now)
                    last_input = now  # a new input: attract mode counts its idle time from here
                camera = inputs.camera
                if now >= next_health:
                    next_health = now + sup_cfg.health_every_s
                    fields = health_fields(self, now - t_start, control, worker)
                    extra = {"fields": {"health": fields}, "short": "health"}
                    log.info("health %s", json.dumps(fields, default=str), extra=extra)
                events, display_canvas = self._pump_events(pygame, pen, renderer, display_canvas, now)
                for cmd in control.drain() if control is not None else []:
                    replay, mode = self._command(cmd, renderer, display_canvas, now, replay, mode, state_out)
                    last_input = now if cmd.address == "/attract" and not cmd.args[0] else last_input
                if events:
                    last_input = now
                    if replay is not None and mode == "attract":  # a visitor takes over from attract mode
                        replay, mode = None, self.source
                        events.insert(0, PenEvent("clear", 0.0))
                    if writer is not None:
                        record_t0 = record_t0 if record_t0 is not None else now
                        for pe in events:
                            writer.write(retime(pe, now - record_t0))
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
                        self._work_mode, self._work_started = mode, utc_iso()
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
                    if self.adaptive is not None and self.generator == "pix2pix" and not ai.settling:
                        stepped = self.adaptive.on_answer(ai.inference_ms)
                        if stepped is not None:  # every level was opened at start: swapped between two frames
                            model = self._model = stepped
                            worker.swap(stepped)
                            hud.model = stepped.name
                    if self.generator == "pix2pix" and not ai.settling:  # latency: answers to pen events only
                        pending = ai
                if clip is not None:
                    self._clip_step(clip, hud)
                flip_t = self._compose_frame(pygame, renderer, hud, sup, camera, replay, mode, now, status_line)
                self.metrics.frame(flip_t)
                if not notify.ready_sent:
                    notify.ready(f"showing, {model.name} on {model.provider}")
                notify.watchdog(flip_t)
                if pending is not None:
                    self.metrics.ai_shown(flip_t - pending.pen_t, pending.inference_ms)
                    pending = None
                if frames_out is not None:
                    frames_out.maybe_write(surface, flip_t - t_start)
                if ndi_out is not None:
                    ndi_out.offer(
                        surface, ai.image if ai is not None else None, self.canvas.raster() if events else None
                    )
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
            if ndi_out is not None:
                ndi_out.join(timeout=left())
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
            remote=remote_stats(model),  # the Triton backend's figures, or None
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
            rss_mb=rss_mb(),
            rate={**self.rate_info, **({"adaptive": self.adaptive.summary()} if self.adaptive else {})},
            frames_out=frames_out.stats() if frames_out is not None else None,
        )
        if ndi_out is not None:
            summary.update(ndi_sent=ndi_out.sent, ndi_sources=ndi_out.names(), ndi_error=ndi_out.error)
        if self.steer_worker is not None:
            w = self.steer_worker
            summary.update(steer_steps=w.steps, steer_frames=w.frames_out, steer_retargets=w.retargets)
        return summary


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20
