"""The calibration steps live, in a pygame window: the camera's view with guidance, keys to confirm or cancel.

The camera is read by the installation's own CameraWorker (a camera index, or a video file for rehearsal and
tests); the main thread owns the window. Keys: Enter confirms, Esc cancels, Space takes a view by hand.
"""

from __future__ import annotations

import logging
import threading
import time

import cv2
import numpy as np

from calibration.camera import Intrinsics, calibrate_views, find_corners
from calibration.paper import rectifier_for
from calibration.profile import CameraSection, PaperSection
from installation.core.errors import UserError
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)
GRID = (4, 3)  # coverage cells across and down the frame


def _window(size: tuple[int, int], title: str):  # noqa: ANN202
    import pygame

    pygame.init()
    surface = pygame.display.get_surface()
    if surface is None or surface.get_size() != size:
        surface = pygame.display.set_mode(size)
    pygame.display.set_caption(title)
    _warn_if_invisible(pygame)
    return surface


def _warn_if_invisible(pygame) -> None:  # noqa: ANN001
    from installation.adapters.window import warn_if_invisible

    instead = "use the step's headless form (--images, --image, --area; see run.py calibrate STEP -h)"
    warn_if_invisible(pygame.display.get_driver(), "the calibration window", instead)


def _blit_bgr(surface, bgr: np.ndarray, at: tuple[int, int] = (0, 0)) -> None:  # noqa: ANN001
    import pygame

    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if bgr.ndim == 3 else cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
    surface.blit(pygame.surfarray.make_surface(rgb.swapaxes(0, 1)), at)


def _text(surface, lines: list[str], at: tuple[int, int] = (10, 10)) -> None:  # noqa: ANN001
    import pygame

    font = pygame.font.Font(None, 26)
    for i, line in enumerate(lines):
        img = font.render(line, True, (255, 255, 255), (0, 0, 0))
        surface.blit(img, (at[0], at[1] + i * 24))


def _keys() -> tuple[bool, bool, bool]:
    """(confirm, cancel, take) from the window's events."""
    import pygame

    confirm = cancel = take = False
    for ev in pygame.event.get():
        if ev.type == pygame.QUIT:
            cancel = True
        elif ev.type == pygame.KEYDOWN:
            confirm |= ev.key in (pygame.K_RETURN, pygame.K_KP_ENTER)
            cancel |= ev.key == pygame.K_ESCAPE
            take |= ev.key == pygame.K_SPACE
    return confirm, cancel, take


def _camera(source: str) -> tuple[LatestSlot, threading.Event, object]:
    from installation.adapters.camera import CameraWorker

    frames: LatestSlot = LatestSlot()
    stop = threading.Event()
    worker = CameraWorker(source, frames, stop, option="--live")  # its errors name the option given
    worker.start()
    return frames, stop, worker


def view_descriptor(corners: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Where the board is, how big and how tilted: views too alike add nothing to a calibration."""
    pts = corners.reshape(-1, 2)
    w, h = size
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    hull = cv2.convexHull(pts.astype(np.float32))
    fill = cv2.contourArea(hull) / max((x1 - x0) * (y1 - y0), 1.0)  # 1 for a square-on board, less when tilted
    return np.array([(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, np.sqrt((x1 - x0) * (y1 - y0) / (w * h)), fill])


def covered_cells(corners: np.ndarray, size: tuple[int, int]) -> set[tuple[int, int]]:
    pts = corners.reshape(-1, 2)
    cx = np.clip((pts[:, 0] / size[0] * GRID[0]).astype(int), 0, GRID[0] - 1)
    cy = np.clip((pts[:, 1] / size[1] * GRID[1]).astype(int), 0, GRID[1] - 1)
    return set(zip(cx.tolist(), cy.tolist(), strict=True))


def live_camera(
    source: str, pattern: tuple[int, int], square: float, want: int = 15, timeout_s: float | None = None
) -> Intrinsics:
    """Collect `want` distinct chessboard views from a live camera (automatically, or Space), then calibrate."""
    import pygame

    frames, stop, _ = _camera(source)
    views: dict[str, np.ndarray] = {}
    descriptors: list[np.ndarray] = []
    cells: set[tuple[int, int]] = set()
    surface = None
    t0 = last_take = time.monotonic()
    try:
        while True:
            frame = frames.take(timeout=0.5)
            confirm, cancel, take = _keys() if surface is not None else (False, False, False)
            if cancel:
                raise UserError("camera calibration cancelled: nothing written")
            if timeout_s is not None and time.monotonic() - t0 > timeout_s:
                break
            if frame is None:
                continue
            gray = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY) if frame.image.ndim == 3 else frame.image
            size = (gray.shape[1], gray.shape[0])
            surface = surface or _window(size, "calibrate camera")
            corners = find_corners(gray, pattern)
            status = "no board in view: hold the whole chessboard in front of the camera"
            if corners is not None:
                d = view_descriptor(corners, size)
                novel = not descriptors or min(np.abs(d - p).max() for p in descriptors) > 0.06
                if (novel and time.monotonic() - last_take > 0.3) or take:
                    views[f"live_{len(views):02d}"] = gray.copy()
                    descriptors.append(d)
                    cells |= covered_cells(corners, size)
                    last_take = time.monotonic()
                status = "board found" + ("" if novel else ": move or tilt it for a new view")
            show = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
            _draw_coverage(show, cells)
            if corners is not None:
                cv2.drawChessboardCorners(show, pattern, corners, True)
            _blit_bgr(surface, show)
            missing = GRID[0] * GRID[1] - len(cells)
            _text(
                surface,
                [
                    f"good views {len(views)}/{want}   uncovered cells {missing} (red)",
                    status,
                    "Space: take a view   Enter: calibrate now   Esc: cancel",
                ],
            )
            pygame.display.flip()
            if len(views) >= want or (confirm and len(views) >= 3):
                break
    finally:
        stop.set()
    return calibrate_views(views, pattern, square)


def _draw_coverage(bgr: np.ndarray, cells: set[tuple[int, int]]) -> None:
    h, w = bgr.shape[:2]
    overlay = bgr.copy()
    for i in range(GRID[0]):
        for j in range(GRID[1]):
            colour = (60, 180, 60) if (i, j) in cells else (40, 40, 200)
            p0 = (i * w // GRID[0], j * h // GRID[1])
            p1 = ((i + 1) * w // GRID[0] - 1, (j + 1) * h // GRID[1] - 1)
            cv2.rectangle(overlay, p0, p1, colour, -1)
    cv2.addWeighted(overlay, 0.18, bgr, 0.82, 0, dst=bgr)


def live_paper(
    source: str, section: PaperSection, camera: CameraSection | None, auto_confirm_frames: int | None = None
) -> bool:
    """Camera view with the paper outlined beside the rectified sketch; Enter keeps the settings."""
    import pygame

    frames, stop, _ = _camera(source)
    rect = rectifier_for(section, camera, 512)
    surface = None
    seen = 0
    try:
        while True:
            frame = frames.take(timeout=0.5)
            confirm, cancel, _ = _keys() if surface is not None else (False, False, False)
            if cancel:
                return False
            if frame is None:
                continue
            sketch = rect.sketch(frame.image)
            h, w = frame.image.shape[:2]
            surface = surface or _window((w + h, h), "calibrate paper")
            show = frame.image.copy() if frame.image.ndim == 3 else cv2.cvtColor(frame.image, cv2.COLOR_GRAY2BGR)
            if rect.corners is not None:
                cv2.polylines(show, [rect.corners.astype(np.int32)], True, (60, 220, 60), 2)
            _blit_bgr(surface, show)
            _blit_bgr(
                surface, cv2.resize(sketch if sketch is not None else np.full((h, h), 128, np.uint8), (h, h)), (w, 0)
            )
            seen = seen + 1 if sketch is not None else 0
            status = "paper found: Enter saves" if sketch is not None else "no paper: put the whole sheet in view"
            _text(surface, [status, "Esc: cancel"])
            pygame.display.flip()
            if sketch is not None and (confirm or (auto_confirm_frames is not None and seen >= auto_confirm_frames)):
                return True
    finally:
        stop.set()


def live_tablet(timeout_s: float | None = None) -> list[float] | None:
    """Full-screen targets: touch the top-left, then the bottom-right corner of the area to use."""
    import pygame

    pygame.init()
    surface = pygame.display.get_surface() or pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
    _warn_if_invisible(pygame)
    w, h = surface.get_size()
    picks: list[tuple[float, float]] = []
    t0 = time.monotonic()
    while len(picks) < 2:
        if timeout_s is not None and time.monotonic() - t0 > timeout_s:
            return None
        for ev in pygame.event.get():
            if ev.type == pygame.QUIT or (ev.type == pygame.KEYDOWN and ev.key == pygame.K_ESCAPE):
                return None
            if ev.type == pygame.MOUSEBUTTONDOWN:
                picks.append((ev.pos[0] / w, ev.pos[1] / h))
        surface.fill((20, 20, 24))
        which = "top-left" if not picks else "bottom-right"
        _text(surface, [f"touch the {which} corner of the drawing area with the pen", "Esc: cancel"], (40, 40))
        pygame.display.flip()
        time.sleep(0.01)
    (x0, y0), (x1, y1) = picks
    if x1 <= x0 or y1 <= y0:
        raise UserError("the second touch must be below and right of the first: run the tablet step again")
    return [x0, y0, x1, y1]
