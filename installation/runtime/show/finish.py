"""Finished works: the hand-off to the archive writer (a clear after drawing, key S, or idle); key S's saved files."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from installation.core.session import Session
from installation.runtime.show.replay import strokes_to_events

log = logging.getLogger(__name__)


class FinishMixin:
    """Hand finished works to the archive writer without blocking the loop."""

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
        camera_mode = self.source == "camera"
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
            "started_at": self._work_started or utc_iso(),
            "finished_at": utc_iso(),
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
            events=tuple(strokes_to_events(self.canvas)),
            canvas=self.cfg.canvas.size,
            sketch=self.canvas.raster(),
            ai=ai.model_image if ai is not None else None,
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
                cv2.imwrite(str(folder / f"{stamp}-ai.png"), ai.model_image[:, :, ::-1])
            events = strokes_to_events(self.canvas)
            write_session(folder / f"{stamp}.jsonl", Session(self.cfg.canvas.size, tuple(events), "saved", stamp))
            log.info("saved %s/%s-*", folder, stamp)
        except OSError as e:  # the show goes on
            log.error("could not save to %s: %s", folder, e)


def utc_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
