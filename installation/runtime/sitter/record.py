"""The archive record of one finished sitter portrait: the robot's drawing, the AI's portrait, strokes and settings.

Files: drawing.svg (mm, drawing order), drawing.png (the paper as the robot drew it), portrait.png (the AI's
answer to the finished drawing), strokes.json (each path with the second its acknowledgement arrived), and
camera.jpg only when the venue turned `sitter.store_camera_frames` on. With several robots (`plotter.robots`) those
are the lead robot's (meta.json `lead_robot`), and each robot's own paper is there too: drawing-N-STYLE.svg / .png
and strokes-N-STYLE.json (N from 1 in the order of plotter.robots; only the paths it drew).
"""

from __future__ import annotations

import json
from typing import Any

import cv2
import numpy as np

from installation.core.svg_paths import to_svg

PX_PER_MM = 4.0


def paper_png(paths_mm: list[np.ndarray], paper_mm: tuple[float, float]) -> bytes:
    w, h = paper_mm
    img = np.full((int(h * PX_PER_MM), int(w * PX_PER_MM)), 255, np.uint8)
    for p in paths_mm:
        pts = np.round(np.asarray(p) * PX_PER_MM * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [pts], False, 0, 1, cv2.LINE_AA, 4)
    return _png(img)


def _png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise OSError("PNG encoding failed")
    return buf.tobytes()


def record_files(
    paths_mm: list[np.ndarray],
    ack_s: list[float],
    paper_mm: tuple[float, float],
    portrait_rgb: np.ndarray | None,
    still_bgr: np.ndarray | None,
) -> dict[str, bytes]:
    """The files of one record; `ack_s[i]` is when path i was acknowledged as drawn (seconds since capture)."""
    strokes = [
        {"seq": i, "ack_s": round(t, 3), "points_mm": np.round(p, 2).tolist()}
        for i, (p, t) in enumerate(zip(paths_mm, ack_s, strict=True))
    ]
    files = {
        "drawing.svg": to_svg(paths_mm, paper_mm, title="sitter portrait").encode(),
        "drawing.png": paper_png(paths_mm, paper_mm),
        "strokes.json": json.dumps({"paper_mm": list(paper_mm), "paths": strokes}).encode(),
    }
    if portrait_rgb is not None:
        files["portrait.png"] = _png(cv2.cvtColor(portrait_rgb, cv2.COLOR_RGB2BGR))
    if still_bgr is not None:
        ok, buf = cv2.imencode(".jpg", still_bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if ok:
            files["camera.jpg"] = buf.tobytes()
    return files


def robot_files(
    n: int, style: str, paths_mm: list[np.ndarray], ack_s: list[float], paper_mm: tuple[float, float]
) -> dict[str, bytes]:
    """Robot `n`'s drawing in its style: the paths it drew, as SVG, the paper, and strokes with their times."""
    files = record_files(paths_mm, ack_s, paper_mm, None, None)
    return {
        f"drawing-{n}-{style}.svg": to_svg(paths_mm, paper_mm, title=f"sitter portrait, robot {n}, {style}").encode(),
        f"drawing-{n}-{style}.png": files["drawing.png"],
        f"strokes-{n}-{style}.json": files["strokes.json"],
    }


def record_meta(settings: dict[str, Any], timings: dict[str, Any], model: str, counts: dict[str, Any]) -> dict:
    return {"settings": settings, "timings": timings, "model": model, **counts}
