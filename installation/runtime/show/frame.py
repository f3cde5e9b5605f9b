"""Frame composition: the HUD figures, the status line, the attract banner, drawn and flipped on the main thread."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class FrameMixin:
    """One frame of the show: what the renderer is given and the flip that shows it."""

    def _compose_frame(  # noqa: ANN001 - pygame and the show's parts
        self, pygame, renderer, hud, sup, camera, replay, mode: str, now: float, status_line
    ) -> float:
        """Draw the frame (panels, HUD, status of the workers that are down, attract banner) and flip; the flip time."""
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
        return time.monotonic()
