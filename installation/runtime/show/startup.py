"""Start-up of the show: the model (with its tier switcher), the display, the OSC surface, the pen mapping and the
venue's calibration profile."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from installation.core.config import AppConfig
from installation.core.errors import UserError
from installation.core.session import PenEvent, apply_event
from installation.core.strokes import Canvas

log = logging.getLogger(__name__)


class StartupMixin:
    """What the Show opens before its loop starts."""

    def _open_model(self):  # noqa: ANN202 - the runtime's Model
        from installation.runtime.inference import ModelExpectation, RuntimeSettings, open_model, open_tiered
        from installation.runtime.model_switch import ModelSwitcher
        from installation.runtime.rate import inference_settings_threads, with_rate_choices

        m = self.cfg.model
        settings = RuntimeSettings(
            providers=tuple(m.providers),
            require_gpu=m.require_gpu,
            intra_op_threads=inference_settings_threads(m.threads),
            trt_cache_dir=str(self.cfg.resolve(m.trt_cache_dir)),
        )
        expect = ModelExpectation(kind="pix2pix", input_size=m.input_size, input_channels=1, output_channels=3)
        gpu_path = str(self.cfg.resolve(m.gpu_path)) if m.gpu_path else ""
        cpu_path = self.cfg.resolve(m.path)
        tiers = {"cpu": cpu_path, **({"gpu": Path(gpu_path)} if gpu_path else {})}
        self.switcher = ModelSwitcher(lambda p: open_model(p, expect, settings), cpu_path.parent, tiers)
        model = open_tiered(str(cpu_path), gpu_path, m.tier, expect, settings)
        model, self.adaptive, self.rate_info = with_rate_choices(
            model, self.cfg, lambda p: open_model(p, expect, settings)
        )
        if m.backend == "triton":  # a Triton server answers, the local model stands by (remote_model.py)
            from installation.runtime.remote_model import open_triton

            self.adaptive = None  # the server's cost is not the station's: no stepping down away from it
            return open_triton(m, model)
        return model

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

    def _start_ndi(self):  # noqa: ANN202 - NdiOut | None
        n = self.cfg.ndi
        if not n.enabled:
            return None
        from installation.runtime.ndi_out import NdiOut

        out = self.ndi_out = NdiOut(n.station, n.fps or self.cfg.display.fps, list(n.extra_ips), self.stop)
        out.start()
        return out

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

    def _display_canvas(self, side: int) -> Canvas:
        """A second canvas at panel resolution, fed the same events, so the screen sketch is sharp."""
        c = Canvas(self.cfg.canvas.size, side, self.cfg.canvas.min_width, self.cfg.canvas.max_width)
        for stroke in self.canvas.all_strokes():
            for i, p in enumerate(stroke.points):
                kind = "down" if i == 0 else "move"
                apply_event(c, PenEvent(kind, p.t, p.x, p.y, p.pressure), 0.0)
            apply_event(c, PenEvent("up", 0.0), 0.0)
        return c

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


def now_iso() -> str:
    return datetime.now().isoformat(timespec="seconds")


def load_profile(cfg: AppConfig):  # noqa: ANN202
    """The venue's calibration profile, validated at start-up (a bad one is a one-line error), or None."""
    if not cfg.calibration.profile:
        return None
    from calibration.profile import load_profile

    return load_profile(cfg.resolve(cfg.calibration.profile))
