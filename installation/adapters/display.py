"""The renderer: draws sketch and AI image onto a pygame Surface in one of three layouts.

It owns no window: the caller hands it a Surface (the display's, or an offscreen one in tests), so every
layout can be checked pixel by pixel under SDL_VIDEODRIVER=dummy. Called from the main thread only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pygame

from installation.core.config import DisplayConfig

PAPER_RGB = (250, 248, 242)  # the sketch panel's paper colour


@dataclass(frozen=True)
class Panels:
    """Screen rectangles (x, y, w, h) of the sketch panel and the AI panel for a layout; None = hidden."""

    sketch: tuple[int, int, int, int] | None
    ai: tuple[int, int, int, int] | None
    draw: tuple[int, int, int, int]  # where pen input on screen maps to the canvas


def layout_panels(layout: str, width: int, height: int, margin: int = 24) -> Panels:
    """Square panels for a layout on a width×height screen."""
    if layout == "side":
        side = max(16, min((width - 3 * margin) // 2, height - 2 * margin))
        y = (height - side) // 2
        gap = (width - 2 * side) // 3
        sketch = (gap, y, side, side)
        ai = (2 * gap + side, y, side, side)
        return Panels(sketch, ai, sketch)
    side = max(16, min(width, height) - 2 * margin)
    rect = ((width - side) // 2, (height - side) // 2, side, side)
    if layout == "ai":
        return Panels(None, rect, rect)
    return Panels(None, rect, rect)  # overlay: AI with the live strokes multiplied over it


def gray_to_surface(gray: np.ndarray) -> pygame.Surface:
    """(H, W) uint8 → a pygame Surface (W×H) in RGB."""
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    return rgb_to_surface(rgb)


def rgb_to_surface(rgb: np.ndarray) -> pygame.Surface:
    """(H, W, 3) uint8 RGB → a pygame Surface (W×H)."""
    h, w = rgb.shape[:2]
    return pygame.image.frombuffer(np.ascontiguousarray(rgb).tobytes(), (w, h), "RGB")


@dataclass
class HudInfo:
    fps: float
    latency_ms: float
    inference_ms: float
    provider: str
    model: str
    mode: str
    clip: str = ""  # e.g. 'CLIP +0.312 "a cat"'; empty: no line


class Renderer:
    def __init__(self, surface: pygame.Surface, cfg: DisplayConfig) -> None:
        self.surface = surface
        self.cfg = cfg
        self.layout = cfg.layout
        self.hud = cfg.hud
        self.crossfade_s = cfg.crossfade_s
        self._ai_prev: pygame.Surface | None = None
        self._ai_cur: pygame.Surface | None = None
        self._ai_since = 0.0
        self._sketch: pygame.Surface | None = None
        self._font: pygame.font.Font | None = None
        self.panels = layout_panels(self.layout, *surface.get_size())

    def set_layout(self, layout: str) -> None:
        self.layout = layout
        self.panels = layout_panels(layout, *self.surface.get_size())
        self._sketch = None
        if self._ai_cur is not None:  # rescale to the new panel size
            self._ai_prev = None

    def panel_side(self) -> int:
        return self.panels.draw[2]

    def set_sketch(self, gray: np.ndarray) -> None:
        """The sketch raster at panel size (H, W) uint8; call when it changed."""
        surf = gray_to_surface(gray)
        if surf.get_width() != self.panel_side():
            surf = pygame.transform.smoothscale(surf, (self.panel_side(), self.panel_side()))
        self._sketch = surf

    def set_sketch_rgb(self, rgb: np.ndarray) -> None:
        """A colour drawing (H, W, 3) uint8 RGB in the sketch panel (duet mode: two inks)."""
        surf = rgb_to_surface(rgb)
        if surf.get_width() != self.panel_side():
            surf = pygame.transform.smoothscale(surf, (self.panel_side(), self.panel_side()))
        self._sketch = surf

    def set_ai(self, rgb: np.ndarray, now: float) -> None:
        """A new AI image (H, W, 3) uint8: crossfade from the one shown to it."""
        side = self.panels.ai[2] if self.panels.ai else self.panel_side()
        surf = pygame.transform.smoothscale(rgb_to_surface(rgb), (side, side))
        self._ai_prev = self._ai_cur
        self._ai_cur = surf
        self._ai_since = now

    def clear_ai(self) -> None:
        self._ai_prev = self._ai_cur = None

    def crossfade_alpha(self, now: float) -> float:
        """0..1: how far the newest AI image has faded in."""
        if self.crossfade_s <= 0 or self._ai_prev is None:
            return 1.0
        return min(1.0, max(0.0, (now - self._ai_since) / self.crossfade_s))

    def draw(self, now: float, hud: HudInfo | None = None, banner: str = "", status: str = "") -> None:
        """One frame; `status` is a gentle line at the bottom while a worker is down (the last images stay)."""
        bg = tuple(self.cfg.background)
        self.surface.fill(bg)
        p = self.panels
        if p.sketch is not None:
            self._draw_sketch(p.sketch)
        if p.ai is not None:
            self._draw_ai(p.ai, now)
            if self.layout == "overlay" and self._sketch is not None:
                self.surface.blit(self._sketch, p.ai[:2], special_flags=pygame.BLEND_MULT)
        if banner:
            self._text([banner], (p.draw[0], p.draw[1] + p.draw[3] + 4), (200, 200, 200))
        if status:
            w, h = self.surface.get_size()
            self._text([status], (max(8, w // 2 - 4 * len(status)), h - 26), (170, 170, 175))
        if self.hud and hud is not None:
            lines = [
                f"{hud.fps:5.1f} fps   pen-to-photon {hud.latency_ms:5.1f} ms   model {hud.inference_ms:5.1f} ms",
                f"{hud.model} on {hud.provider}   layout {self.layout}   {hud.mode}",
            ]
            if hud.clip:
                lines.append(hud.clip)
            self._text(lines, (8, 6), (255, 230, 120))

    def _draw_sketch(self, rect: tuple[int, int, int, int]) -> None:
        if self._sketch is None:
            self.surface.fill(PAPER_RGB, rect)
        else:
            self.surface.blit(self._sketch, rect[:2])

    def _draw_ai(self, rect: tuple[int, int, int, int], now: float) -> None:
        if self._ai_cur is None:
            self.surface.fill(PAPER_RGB, rect)
            return
        alpha = self.crossfade_alpha(now)
        if alpha < 1.0 and self._ai_prev is not None:
            self.surface.blit(self._ai_prev, rect[:2])
            self._ai_cur.set_alpha(round(alpha * 255))
            self.surface.blit(self._ai_cur, rect[:2])
            self._ai_cur.set_alpha(None)
        else:
            self.surface.blit(self._ai_cur, rect[:2])

    def _text(self, lines: list[str], pos: tuple[int, int], colour: tuple[int, int, int]) -> None:
        if self._font is None:
            if not pygame.font.get_init():
                pygame.font.init()
            self._font = pygame.font.Font(None, 24)
        x, y = pos
        for line in lines:
            img = self._font.render(line, True, colour)
            self.surface.blit(img, (x, y))
            y += img.get_height() + 2

    def screen_to_canvas(self, pos: tuple[int, int], canvas_size: int) -> tuple[float, float] | None:
        """A screen position to canvas coordinates, or None outside the drawing panel."""
        x0, y0, w, h = self.panels.draw
        fx, fy = (pos[0] - x0) / w, (pos[1] - y0) / h
        if not (0.0 <= fx < 1.0 and 0.0 <= fy < 1.0):
            return None
        return fx * canvas_size, fy * canvas_size
