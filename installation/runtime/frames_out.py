"""Headless output: the rendered frames as an MP4 plus periodic PNG snapshots under OUT/frames/."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pygame

log = logging.getLogger(__name__)


def surface_to_bgr(surface: pygame.Surface) -> np.ndarray:
    """The surface as (H, W, 3) uint8 BGR for OpenCV."""
    rgb = pygame.surfarray.array3d(surface)  # (W, H, 3)
    return cv2.cvtColor(np.ascontiguousarray(rgb.transpose(1, 0, 2)), cv2.COLOR_RGB2BGR)


class FrameWriter:
    def __init__(self, out_dir: Path, size: tuple[int, int], opts) -> None:  # noqa: ANN001 - ShowOptions
        self.dir = out_dir / "frames"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.video_fps = opts.video_fps
        self.snapshot_every_s = opts.snapshot_every_s
        self.video = cv2.VideoWriter(
            str(self.dir / "frames.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), self.video_fps, size
        )
        if not self.video.isOpened():
            log.warning("cannot write MP4 with this OpenCV build; writing PNG snapshots only")
            self.video = None
        self.video_frames = 0
        self.snapshots = 0

    def maybe_write(self, surface: pygame.Surface, t: float) -> None:
        want_video = self.video is not None and self.video_frames < t * self.video_fps
        want_png = self.snapshots * self.snapshot_every_s <= t
        if not (want_video or want_png):
            return
        bgr = surface_to_bgr(surface)
        if want_video:
            self.video.write(bgr)
            self.video_frames += 1
        if want_png:
            cv2.imwrite(str(self.dir / f"snapshot_{self.snapshots:04d}.png"), bgr)
            self.snapshots += 1

    def close(self, surface: pygame.Surface) -> None:
        cv2.imwrite(str(self.dir / "last.png"), surface_to_bgr(surface))
        if self.video is not None:
            self.video.release()
