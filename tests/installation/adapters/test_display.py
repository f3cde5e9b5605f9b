import numpy as np
import pygame
import pytest

from installation.adapters.display import PAPER_RGB, HudInfo, Renderer, layout_panels
from installation.core.config import DisplayConfig

W, H = 800, 400
RED = np.zeros((64, 64, 3), np.uint8)
RED[..., 0] = 255
BLUE = np.zeros((64, 64, 3), np.uint8)
BLUE[..., 2] = 255


@pytest.fixture()
def surface() -> pygame.Surface:
    pygame.display.init()
    pygame.font.init()
    surf = pygame.display.set_mode((W, H))
    yield surf
    pygame.display.quit()


def _px(surface: pygame.Surface, rect: tuple[int, int, int, int]) -> tuple[int, int, int]:
    x, y, w, h = rect
    return tuple(surface.get_at((x + w // 2, y + h // 2)))[:3]


def _sketch(side: int) -> np.ndarray:
    g = np.full((side, side), 255, np.uint8)
    g[side // 2 - 3 : side // 2 + 3, :] = 0  # a horizontal ink line through the centre
    return g


def test_side_by_side_shows_sketch_left_ai_right(surface: pygame.Surface) -> None:
    r = Renderer(surface, DisplayConfig(layout="side", crossfade_s=0))
    r.set_sketch(_sketch(r.panel_side()))
    r.set_ai(RED, now=0.0)
    r.draw(now=1.0)
    p = r.panels
    assert p.sketch[0] + p.sketch[2] <= p.ai[0]  # sketch left of AI, no overlap
    assert _px(surface, p.ai) == (255, 0, 0)
    assert _px(surface, p.sketch) == (0, 0, 0)  # the ink line crosses the panel centre
    x, y, w, h = p.sketch
    assert tuple(surface.get_at((x + 5, y + 5)))[:3] == (255, 255, 255)  # paper


def test_ai_only_layout_has_no_sketch_panel(surface: pygame.Surface) -> None:
    r = Renderer(surface, DisplayConfig(layout="ai", crossfade_s=0))
    r.set_ai(BLUE, 0.0)
    r.draw(1.0)
    assert r.panels.sketch is None
    assert _px(surface, r.panels.ai) == (0, 0, 255)
    assert tuple(surface.get_at((2, 2)))[:3] == (18, 18, 20)  # background outside the panel


def test_overlay_multiplies_strokes_over_the_ai(surface: pygame.Surface) -> None:
    r = Renderer(surface, DisplayConfig(layout="overlay", crossfade_s=0))
    r.set_ai(RED, 0.0)
    r.set_sketch(_sketch(r.panel_side()))
    r.draw(1.0)
    x, y, w, h = r.panels.ai
    assert _px(surface, r.panels.ai) == (0, 0, 0)  # ink over the AI is dark
    assert tuple(surface.get_at((x + 5, y + 5)))[:3] == (255, 0, 0)  # paper lets the AI through


def test_crossfade_blends_old_into_new(surface: pygame.Surface) -> None:
    r = Renderer(surface, DisplayConfig(layout="ai", crossfade_s=1.0))
    r.set_ai(RED, 0.0)
    r.set_ai(BLUE, 10.0)
    r.draw(10.5)
    red, _, blue = _px(surface, r.panels.ai)
    assert 100 < red < 160 and 100 < blue < 160  # half way
    r.draw(11.5)
    assert _px(surface, r.panels.ai) == (0, 0, 255)


def test_empty_panels_show_paper_and_hud_draws_text(surface: pygame.Surface) -> None:
    r = Renderer(surface, DisplayConfig(layout="side", hud=True))
    r.draw(0.0, HudInfo(60.0, 20.0, 8.0, "CPUExecutionProvider", "pix2pix", "replay"))
    assert _px(surface, r.panels.ai) == PAPER_RGB
    top = pygame.surfarray.array3d(surface)[:, :40]
    assert (top.sum(axis=2) > 400).any()  # HUD text pixels in the top band


def test_screen_to_canvas_maps_the_drawing_panel() -> None:
    p = layout_panels("side", W, H)
    pygame.display.init()
    r = Renderer(pygame.Surface((W, H)), DisplayConfig(layout="side"))
    x, y, w, h = p.draw
    assert r.screen_to_canvas((x, y), 1024) == (0.0, 0.0)
    cx, cy = r.screen_to_canvas((x + w // 2, y + h // 2), 1024)
    assert abs(cx - 512) < 4 and abs(cy - 512) < 4
    assert r.screen_to_canvas((0, 0), 1024) is None


def test_hud_shows_the_clip_score_line_only_when_there_is_one(surface: pygame.Surface) -> None:
    r = Renderer(surface, DisplayConfig(layout="side", hud=True))
    info = HudInfo(60.0, 20.0, 8.0, "CPUExecutionProvider", "pix2pix", "replay")
    r.draw(0.0, info)
    without = pygame.surfarray.array3d(surface)[:, 40:70].copy()  # the band below the two fixed lines
    info.clip = 'CLIP +0.312  "a cat"'
    r.draw(0.0, info)
    with_clip = pygame.surfarray.array3d(surface)[:, 40:70]
    assert (with_clip.sum(axis=2) > 400).sum() > (without.sum(axis=2) > 400).sum() + 20


def test_status_line_is_drawn_over_the_last_images_while_a_worker_is_down(surface: pygame.Surface) -> None:
    r = Renderer(surface, DisplayConfig(layout="side", crossfade_s=0))
    r.set_ai(RED, now=0.0)
    r.draw(now=1.0)
    calm = pygame.surfarray.array3d(surface).copy()
    r.draw(now=2.0, status="the portrait is resting for a moment")
    resting = pygame.surfarray.array3d(surface)
    changed = np.argwhere((calm != resting).any(axis=2))  # (x, y) of pixels the line touched
    assert len(changed) > 50 and changed[:, 1].min() >= H - 30  # only a line at the bottom
    assert _px(surface, r.panels.ai) == (255, 0, 0)  # the last AI image is still shown
