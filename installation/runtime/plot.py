"""`run.py plot INPUT --svg OUT.svg [--json STATS]`: what is to be drawn → ordered plotter paths in millimetres.

INPUT is an image (vectorised in a robot-like hand), an SVG (its paths) or a recorded session (.jsonl: the
visitor's own strokes). The SVG holds the paths in the order they will be drawn; STATS gives paths, points,
pen-down and pen-up length in mm and the time taken.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import cv2
import numpy as np

from installation.core.errors import UserError
from installation.core.plotpaths import PaperMapping, paper_size, prepare, stats, travel
from installation.core.svg_paths import read_svg_paths, write_svg

log = logging.getLogger(__name__)
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
CANVAS = 1024
MAX_MM = 100_000.0  # paths placed further out than 100 m are a broken input or registration, not a drawing


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="an image, an SVG or a session file (.jsonl)")
    p.add_argument("--svg", type=Path, required=True, help="where to write the ordered paths")
    p.add_argument("--json", type=Path, help="where to write the statistics")
    p.add_argument("--paper", default="a4", help="a5, a4, a3 or letter")
    p.add_argument("--margin-mm", type=float, default=15.0)
    p.add_argument("--tolerance-mm", type=float, default=0.1, help="simplification tolerance")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", type=Path, help="venue calibration profile: its plotter registration places the paths")


def load_paths(path: Path) -> tuple[list[np.ndarray], int]:
    """Paths in canvas-like units and the side of that square space."""
    if not path.is_file():
        raise UserError(f"plot input {path} does not exist: give an image, an SVG or a session file")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        from installation.core.session import read_session

        s = read_session(path)
        paths, cur = [], []
        for e in s.events:
            if e.kind in ("down", "move"):
                cur.append((e.x, e.y))
            if e.kind in ("up", "clear") or e.kind == "down" and len(cur) > 1 and cur[-1] != cur[0]:
                if len(cur) >= 2:
                    paths.append(np.array(cur, float))
                cur = []
        if len(cur) >= 2:
            paths.append(np.array(cur, float))
        return paths, s.canvas
    if suffix == ".svg":
        lines, (w, h) = read_svg_paths(path)
        side = max(w, h) or max((float(np.max(p)) for p in lines), default=1.0)
        if not 0 < side <= 1e7:
            raise UserError(f"plot input {path} has no page size and its paths reach {side:g}: give it a viewBox")
        return lines, int(np.ceil(side))
    if suffix in IMAGE_EXT:
        from installation.core.image_files import image_size
        from installation.core.vectorise import vectorise

        image_size(path, "plot input")  # from the header: a huge image is refused before it is decoded
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise UserError(f"plot input {path} is not a readable image")
        return vectorise(img[:, :, ::-1], CANVAS), CANVAS
    raise UserError(f"plot input {path}: unknown kind {suffix!r}; give .png/.jpg, .svg or a .jsonl session")


def _check_placed(mm: list[np.ndarray], args: argparse.Namespace) -> None:
    """Every point at a finite place on a real bed: a broken registration or input never plots "0 paths"."""
    finite = all(np.isfinite(m).all() for m in mm)
    if not finite or max((float(np.abs(m).max()) for m in mm), default=0.0) > MAX_MM:
        where = f"--profile {args.profile}'s plotter registration" if args.profile is not None else "the input"
        raise UserError(
            f"{args.input}: {where} places paths beyond ±{MAX_MM:g} mm or at no finite place: "
            + ("re-run `run.py calibrate plotter`" if args.profile is not None else "check the file")
        )


def main(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    paths, canvas = load_paths(args.input)
    if not paths:
        raise UserError(f"{args.input} holds nothing to draw")
    paper = paper_size(args.paper)
    if not 0 <= args.margin_mm < min(paper) / 2:
        raise UserError(f"--margin-mm {args.margin_mm} must be at least 0 and under half the paper's width")
    if not 0 <= args.tolerance_mm <= 100:
        raise UserError(f"--tolerance-mm {args.tolerance_mm} must be 0..100")
    mapping = PaperMapping(canvas, paper, args.margin_mm)
    mm = [mapping.to_mm(p) for p in paths]
    if args.profile is not None:
        from calibration.profile import load_profile

        prof = load_profile(args.profile)
        if prof.plotter is None:
            raise UserError(f"{args.profile} has no plotter section: run `run.py calibrate plotter --profile ...`")
        reg = prof.plotter.registration(canvas)
        mm = [reg.to_mm(p) for p in paths]  # plotter-bed millimetres now: the page grows to hold them
        far = np.max([m.max(axis=0) for m in mm], axis=0)
        paper = (max(paper[0], float(np.ceil(far[0])) + 5), max(paper[1], float(np.ceil(far[1])) + 5))
    _check_placed(mm, args)
    before = travel(mm)
    ordered = prepare(mm, args.tolerance_mm, merge_tol=0.05, start=(0.0, 0.0))
    if not ordered:
        raise UserError(f"{args.input}: every path is shorter than the pen can draw: nothing to plot")
    elapsed = time.perf_counter() - t0
    write_svg(args.svg, ordered, paper, title=args.input.name)
    st = stats(ordered)
    out = {
        "input": str(args.input),
        "paper": args.paper,
        "paths": st.paths,
        "points": st.points,
        "pen_down_mm": round(st.pen_down_mm, 1),
        "pen_up_mm": round(st.pen_up_mm, 1),
        "pen_up_mm_unordered": round(before, 1),
        "seconds": round(elapsed, 3),
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    print(json.dumps(out))
    return 0
