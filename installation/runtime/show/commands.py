"""Event handling on the main thread: keys, OSC commands, live parameters, and the state the show reports over OSC."""

from __future__ import annotations

import logging

from installation.core.config import GENERATORS, LAYOUTS
from installation.core.errors import UserError
from installation.core.session import PenEvent, apply_event
from installation.core.strokes import Canvas
from installation.runtime.remote_model import state_fields

log = logging.getLogger(__name__)


class CommandsMixin:
    """Keys and OSC commands, applied on the main thread between two frames."""

    _last_error = ""
    _errors_made = 0  # every error the show's own commands made, so /state/error sees a repeat of the same text

    @property
    def last_error(self) -> str:
        return self._last_error

    @last_error.setter
    def last_error(self, text: str) -> None:
        self._last_error = text
        if text:
            self._errors_made += 1

    def _pump_events(self, pygame, pen, renderer, display_canvas: Canvas, now: float):  # noqa: ANN001, ANN202
        """pygame's queued events: quit, keys (applied now), pen events (returned, with the display canvas)."""
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
        return events, display_canvas

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
            self._finish("save", self._work_mode or self.source, force=True)

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
                return None, self.source
        elif a == "/mode" and self.inputs is not None:
            self.inputs.request(args[0], self.source)
        elif a == "/param":
            self._param(str(args[0]), args[1], renderer)
        elif a.startswith("/plotter/"):
            self._plotter(a.rsplit("/", 1)[1])
        elif a == "/model" and self.switcher is not None:
            self.switcher.request(str(args[0]))
        elif a.startswith("/sitter/"):
            self.last_error = f"{a} works in sitter mode: run `python run.py sitter`"
        else:
            self.last_error = f"{a} is not available in this build"
            log.info("OSC %s %s: not available in this build", a, args)
        return replay, mode

    def _param(self, name: str, value: object, renderer) -> None:  # noqa: ANN001
        """/param NAME VALUE: a live config key (core/live_params), checked as the loader checks it."""
        from installation.core.live_params import set_live

        try:
            self.cfg, v = set_live(self.cfg, name, value)  # the loop reads self.cfg: fps, attract, idle, margin
        except UserError as e:
            self.last_error = str(e)
            return
        appliers = {"display.crossfade_s": "crossfade_s", "display.hud": "hud"}
        if name == "display.layout":
            renderer.set_layout(v)
        elif name in appliers:  # the renderer's own copies of the display keys
            setattr(renderer, appliers[name], v)
        log.info("/param %s = %r", name, v)

    def _state(self, hud, renderer, model, control) -> dict[str, object]:  # noqa: ANN001
        return {
            "fps": round(hud.fps, 2),
            "latency_ms": round(hud.latency_ms, 2),
            "mode": hud.mode,
            "layout": renderer.layout,
            "prompt": self.prompt,
            "model": f"{model.name} on {model.provider}",
            **state_fields(model),  # /state/model/backend and /state/model/round_trip_ms
            "clip/score": round(self.clip_score.cosine, 4) if self.clip_score is not None else None,
            **self._plotter_state(),
            "error": self._state_error(control),
        }

    def _state_error(self, control) -> str:  # noqa: ANN001
        """The newest error of any source (core/error_line): a new /model failure is not hidden by an older one."""
        sources = {
            "commands": (self.last_error, self._errors_made),  # the same error made again is new
            "model": self.switcher.error if self.switcher is not None else "",
            "ndi": self.ndi_out.error if self.ndi_out is not None else "",
            "mode": self.inputs.error if self.inputs is not None else "",
            "archive": self.archive_writer.archive.stats.last_error if self.archive_writer is not None else "",
            "osc": control.counters.last_error if control is not None else "",
        }
        return self.errors.update(sources)
