"""The archive record of one duet: the sheet in two inks, whose stroke was whose with its times, the AI's answer.

Files: duet.png (the sheet: the artist's strokes near black, the AI's blue), sketch.png (the same sheet in one
ink, what the image model answered), ai.png (that answer), duet.json ({"canvas": side, "strokes": [{"who":
"artist"|"ai", "turn": n, "t_start": s, "t_end": s, "points": [[x, y], ...]}]}: canvas pixels; times in seconds
from the start of the duet; an AI stroke's t_end is when the robot acknowledged it). The contact sheet
(`run.py archive sheet`) draws a duet from duet.json, in the same two inks.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import cv2
import numpy as np

from installation.core import duet_ink

log = logging.getLogger(__name__)
MAX_JSON_BYTES = 50_000_000


def record(who: str, turn: int, t0: float, t1: float, zero: float, pts: list) -> dict[str, Any]:
    return {"who": who, "turn": turn, "t_start": round(t0 - zero, 3), "t_end": round(t1 - zero, 3),
            "points": np.round(np.asarray(pts, float), 2).tolist()}  # fmt: skip


def png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise OSError("PNG encoding failed")
    return buf.tobytes()


def strokes_of(doc: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
    out = []
    for s in doc.get("strokes", []):
        pts = np.asarray(s.get("points", []), float)
        if pts.ndim == 2 and pts.shape[1] == 2 and len(pts) and np.isfinite(pts).all():
            out.append(("ai" if s.get("who") == "ai" else "artist", pts))
    return out


def sheet_image(data: bytes, side: int) -> np.ndarray | None:
    """A duet.json → (side, side, 3) BGR in two inks, or None when it cannot be read."""
    try:
        doc = json.loads(data)
        canvas = float(doc["canvas"])
        if not 16 <= canvas <= 65_536:
            return None
        return duet_ink.two_inks(strokes_of(doc), side, int(canvas), width_px=3.0)
    except (ValueError, KeyError, TypeError) as e:
        log.warning("unreadable duet.json: %s", e)
        return None
