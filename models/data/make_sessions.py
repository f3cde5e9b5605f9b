"""`python -m models.data.make_sessions`: the embedded demo sessions, drawn from held-out clipart outlines.

A person draws big contours first, at a speed that rises and falls within each stroke, pauses between strokes,
presses in at the start and lifts at the end. The outlines come from clipart the model never trained on (the
validation split), so the demo shows the model answering drawings it has not seen.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from installation.core.session import PenEvent, Session, write_session
from models.data.degrade import _length, _resample, _smooth_noise, select_strokes
from models.data.svg import is_person, load_drawing, read_meta, split_of

log = logging.getLogger(__name__)
CANVAS = 1024
RATE_HZ = 90.0  # pen samples per second
# held-out (validation split) drawings of faces and people, chosen because their outlines read as a face
DEFAULT_PICKS = (
    "people/head3.svg",
    "people/beethoveo_ganson.svg",
    "people/maya_head_benji_park_01.svg",
    "people/smilies/smiley009.svg",
)


def strokes_to_events(lines: list[np.ndarray], rng: np.random.Generator, max_points: int = 9000) -> list[PenEvent]:
    """Polylines in canvas px → pen events with human-like timing and pressure."""
    lines = sorted(lines, key=lambda p: -_length(p))  # big contours first
    events: list[PenEvent] = []
    t = 0.5
    for p in lines:
        q = _resample(p, 4.0)
        if len(q) < 2:
            continue
        q = q + _smooth_noise(len(q), rng.uniform(0.5, 2.0), rng)
        length = _length(q)
        speed = rng.uniform(200, 700)  # px/s mean
        duration = max(0.08, length / speed)
        n = max(2, int(duration * RATE_HZ))
        # ease in and out: arc-length position follows a smooth S-curve in time
        u = np.linspace(0, 1, n)
        s = (1 - np.cos(np.pi * u)) / 2
        seg = np.linalg.norm(np.diff(q, axis=0), axis=1)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        xs = np.interp(s * cum[-1], cum, q[:, 0])
        ys = np.interp(s * cum[-1], cum, q[:, 1])
        peak = rng.uniform(0.45, 0.95)
        pressure = peak * np.clip(np.minimum(u / 0.12, (1 - u) / 0.15), 0.15, 1.0)
        pressure = np.clip(pressure + rng.normal(0, 0.03, n), 0.05, 1.0)
        for k in range(n):
            kind = "down" if k == 0 else "move"
            events.append(PenEvent(kind, t + duration * u[k], float(xs[k]), float(ys[k]), float(pressure[k])))
        t += duration
        events.append(PenEvent("up", t))
        t += rng.uniform(0.15, 0.8)
        if len(events) >= max_points:
            break
    events.append(PenEvent("up", t + 3.0))  # a 3 s pause to look at the finished drawing
    return events


def make_session(svg: Path, root: Path, seed: int) -> Session:
    rng = np.random.default_rng(seed)
    drawing = load_drawing(svg, CANVAS)
    lines = select_strokes(drawing.outlines, CANVAS, rng)
    events = strokes_to_events(lines, rng)
    title = read_meta(svg, root)["title"]
    return Session(CANVAS, tuple(events), f"{svg.relative_to(root)} ({title})", "made by models.data.make_sessions")


def pick_drawings(root: Path, count: int) -> list[Path]:
    picks = [root / p for p in DEFAULT_PICKS if (root / p).is_file() and split_of(p) == "val"]
    if len(picks) < count:
        for f in sorted((root / "people").rglob("*.svg")):
            rel = str(f.relative_to(root))
            if f not in picks and split_of(rel) == "val" and is_person(read_meta(f, root), f):
                picks.append(f)
            if len(picks) >= count:
                break
    return picks[:count]


def main() -> int:
    ap = argparse.ArgumentParser(prog="models.data.make_sessions")
    ap.add_argument("--source", type=Path, default=Path("/usr/share/openclipart/svg"))
    ap.add_argument("--out", type=Path, default=Path("installation/assets/sessions"))
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pick", action="append", default=[], help="relative SVG paths to use instead")
    args = ap.parse_args()
    files = [args.source / p for p in args.pick] or pick_drawings(args.source, args.count)
    for i, f in enumerate(files, start=1):
        s = make_session(f, args.source, args.seed + i)
        path = args.out / f"face_{i:02d}.jsonl"
        write_session(path, s)
        print(
            f"{path}: {s.source}, {len(s.events)} events, {s.duration:.1f} s, "
            f"split {split_of(str(f.relative_to(args.source)))}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
