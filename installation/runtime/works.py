"""A finished work: what the show snapshots on the main thread, and the job that turns it into archive files.

The snapshot is cheap (immutable pen events, two small arrays); the job runs on the archive writer's thread and
does the encoding: sketch.png, ai.png, strokes.jsonl (every point with its time), paths.svg (the plotter's
ordered paths in mm), and camera.jpg only when there is a camera frame (the archive drops it unless the venue
allows camera frames).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from installation.core.plotpaths import PaperMapping, paper_size, prepare
from installation.core.session import PenEvent, Session, write_session_to
from installation.core.svg_paths import to_svg


@dataclass(frozen=True)
class WorkSnapshot:
    kind: str
    events: tuple[PenEvent, ...]  # strokes with timings, seconds from the first point
    canvas: int  # canvas side in canvas pixels
    sketch: np.ndarray  # (S, S) uint8, the model's input
    ai: np.ndarray | None  # (S, S, 3) uint8 RGB, the newest answer, or None
    camera: np.ndarray | None  # (H, W, 3) uint8 BGR, only in camera mode
    paper: str
    margin_mm: float
    meta: dict[str, Any]


def build_files(snap: WorkSnapshot) -> tuple[str, dict[str, bytes], dict[str, Any]]:
    """(kind, files, meta) for Archive.save; runs on the writer thread."""
    files: dict[str, bytes] = {"sketch.png": _png(snap.sketch)}
    if snap.ai is not None:
        files["ai.png"] = _png(snap.ai[:, :, ::-1])  # RGB → BGR for OpenCV
    buf = io.StringIO()
    write_session_to(buf, Session(snap.canvas, snap.events, "archive", str(snap.meta.get("finished_at", ""))))
    files["strokes.jsonl"] = buf.getvalue().encode("utf-8")
    strokes = _strokes(snap.events)
    meta = dict(snap.meta)
    meta["strokes"] = len(strokes)
    meta["points"] = sum(len(s) for s in strokes)
    if strokes:
        paper = paper_size(snap.paper)
        mapping = PaperMapping(snap.canvas, paper, snap.margin_mm)
        paths = prepare([mapping.to_mm(s) for s in strokes], tolerance=0.1, merge_tol=0.05, budget_s=0.1)
        files["paths.svg"] = to_svg(paths, paper, title=str(meta.get("finished_at", "drawing"))).encode("utf-8")
        meta["plot"] = {"paper": snap.paper, "paths": len(paths)}
    if snap.camera is not None:
        ok, jpg = cv2.imencode(".jpg", snap.camera, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if ok:
            files["camera.jpg"] = jpg.tobytes()
    return snap.kind, files, meta


def _strokes(events: tuple[PenEvent, ...]) -> list[np.ndarray]:
    """Pen-down runs as (N, 2) float arrays of canvas pixels; single points are dropped."""
    out: list[np.ndarray] = []
    cur: list[tuple[float, float]] = []
    for e in events:
        if e.kind in ("down", "move"):
            if e.kind == "down" and cur:
                out.append(np.array(cur, float))
                cur = []
            cur.append((e.x, e.y))
        elif cur:
            out.append(np.array(cur, float))
            cur = []
    if cur:
        out.append(np.array(cur, float))
    return [s for s in out if len(s) >= 2]


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"cannot encode an image of shape {image.shape} as PNG")
    return data.tobytes()
