"""Headless output: the rendered frames as an MP4 plus periodic PNG snapshots under OUT/frames/, off the show's thread.

The show's thread only copies the surface's pixels when a frame is due (one `pygame.image.tobytes`) and hands
them to a writer thread through a bounded hand-off of `MAX_PENDING` frames; colour conversion, MP4 encoding
and PNG compression happen there, at a lower scheduling priority (nice +`WRITER_NICE`) so the encoder takes
what the show leaves. When the writer is behind, a video frame is dropped and counted (`video_dropped`); a
due PNG snapshot waits for room instead of being dropped (it is rare: one every `snapshot_every_s`).
`stats()` goes into metrics.json (`frames_out`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from pathlib import Path

import cv2
import numpy as np
import pygame

log = logging.getLogger(__name__)
MAX_PENDING = 4  # frames waiting for the writer
WRITER_NICE = 5
CLOSE_S = 5.0  # at the end, the writer gets this long to finish what is pending


def surface_to_bgr(surface: pygame.Surface) -> np.ndarray:
    """The surface as (H, W, 3) uint8 BGR for OpenCV."""
    return _bgr(pygame.image.tobytes(surface, "RGB"), surface.get_size())


def _bgr(rgb: bytes, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    return cv2.cvtColor(np.frombuffer(rgb, np.uint8).reshape(h, w, 3), cv2.COLOR_RGB2BGR)


class FrameWriter:
    def __init__(self, out_dir: Path, size: tuple[int, int], opts) -> None:  # noqa: ANN001 - ShowOptions
        self.dir = out_dir / "frames"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.size = size
        self.video_fps = opts.video_fps
        self.snapshot_every_s = opts.snapshot_every_s
        self.video = cv2.VideoWriter(
            str(self.dir / "frames.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), self.video_fps, size
        )
        if not self.video.isOpened():
            log.warning("cannot write MP4 with this OpenCV build; writing PNG snapshots only")
            self.video = None
        self.video_frames = 0  # frames due to the video (handed over or dropped)
        self.video_written = 0
        self.video_dropped = 0
        self.snapshots = 0
        self.errors = 0
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(MAX_PENDING)
        self._thread = threading.Thread(target=self._serve, name="frame-writer", daemon=True)
        self._thread.start()

    def maybe_write(self, surface: pygame.Surface, t: float) -> None:
        """Called after each flip with the show's time; copies the pixels only when a frame is due."""
        want_video = self.video is not None and self.video_frames < t * self.video_fps
        want_png = self.snapshots * self.snapshot_every_s <= t
        if not (want_video or want_png):
            return
        rgb = pygame.image.tobytes(surface, "RGB")
        if want_png:
            self._queue.put(("png", rgb))  # waits for room: snapshots are not dropped
            self.snapshots += 1
        if want_video:
            self.video_frames += 1
            try:
                self._queue.put_nowait(("video", rgb))
            except queue.Full:
                self.video_dropped += 1

    def _serve(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # per-thread nice: Linux threads are tasks
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WRITER_NICE)
        png_index = 0
        while (item := self._queue.get()) is not None:
            kind, rgb = item
            try:
                bgr = _bgr(rgb, self.size)
                if kind == "video" and self.video is not None:
                    self.video.write(bgr)
                    self.video_written += 1
                elif kind == "png":
                    cv2.imwrite(str(self.dir / f"snapshot_{png_index:04d}.png"), bgr)
                    png_index += 1
            except (cv2.error, OSError) as e:  # a full disk: counted, the show goes on
                self.errors += 1
                log.error("frame writer: %s", e)

    def close(self, surface: pygame.Surface) -> None:
        self._queue.put(None)
        self._thread.join(CLOSE_S)
        if self._thread.is_alive():
            log.error("frame writer still busy after %.0f s: the MP4 may be cut short", CLOSE_S)
        cv2.imwrite(str(self.dir / "last.png"), surface_to_bgr(surface))
        if self.video is not None and not self._thread.is_alive():
            self.video.release()
        if self.video_dropped:
            log.warning(
                "frame writer: %d of %d video frames dropped (the writer was behind)",
                self.video_dropped,
                self.video_frames,
            )

    def stats(self) -> dict[str, int]:
        return {
            "video_frames": self.video_frames,
            "video_written": self.video_written,
            "video_dropped": self.video_dropped,
            "snapshots": self.snapshots,
            "errors": self.errors,
        }
