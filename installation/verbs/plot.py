"""`run.py plot INPUT --svg OUT.svg [--json STATS]`: what is to be drawn → ordered plotter paths in millimetres.

INPUT is an image, an SVG (its paths) or a recorded session (.jsonl: the visitor's own strokes). An image's
dark lines are traced along their centres, once each (installation/core/vectorise.trace), with contours and
hatching for its tone. Placing: an SVG page, or an image with the paper's proportions (a drawing of the whole
sheet, such as a sitter's drawing.png), fills the chosen paper, scaled and centred (an A4 drawing onto A3 grows
by √2); anything else (a square canvas, a session) goes inside the paper minus --margin-mm. The SVG holds the
paths in the order they will be drawn, each traced line with its ink width (`data-width-mm`); STATS gives
paths, points, pen-down and pen-up length in mm, line widths and the time taken.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.core.errors import UserError
from installation.core.plotpaths import PageFit, paper_size, prepare, stats, travel
from installation.core.svg_paths import read_svg_paths, write_svg

log = logging.getLogger(__name__)
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
SHEET_ASPECT_TOLERANCE = 0.02  # an image this close to the paper's proportions is a drawing of the whole sheet
MAX_MM = 100_000.0  # paths placed further out than 100 m are a broken input or registration, not a drawing


@dataclass(frozen=True)
class Loaded:
    """An input's paths in its own units, its page, and the ink width along each path (None: not measured)."""

    paths: list[np.ndarray]
    page: tuple[float, float]  # width, height in the paths' units
    sheet: bool  # True: the page is a whole sheet; False: a picture to fit inside the margins
    widths: list[np.ndarray | None]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="an image, an SVG or a session file (.jsonl)")
    p.add_argument("--svg", type=Path, required=True, help="where to write the ordered paths")
    p.add_argument("--json", type=Path, help="where to write the statistics")
    p.add_argument("--paper", default="a4", help="a5, a4, a3 or letter")
    p.add_argument("--margin-mm", type=float, default=15.0)
    p.add_argument("--tolerance-mm", type=float, default=0.1, help="simplification tolerance")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", type=Path, help="venue calibration profile: its plotter registration places the paths")


def load_paths(path: Path, paper_mm: tuple[float, float]) -> Loaded:
    """The input's paths in its own units, with its page (`paper_mm` decides whether an image is a sheet)."""
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
        return Loaded(paths, (s.canvas, s.canvas), False, [None] * len(paths))
    if suffix == ".svg":
        lines, (w, h) = read_svg_paths(path)
        if w > 0 and h > 0:
            if not max(w, h) <= 1e7:
                raise UserError(f"plot input {path} has a page of {w:g} × {h:g}: not a drawing's size")
            return Loaded(lines, (w, h), True, [None] * len(lines))
        far = np.max([p.max(axis=0) for p in lines], axis=0) if lines else np.ones(2)
        if not (np.isfinite(far).all() and 0 < float(far.max()) <= 1e7):
            raise UserError(f"plot input {path} has no page size and its paths reach {far.max():g}: give it a viewBox")
        return Loaded(lines, (float(far[0]), float(far[1])), False, [None] * len(lines))
    if suffix in IMAGE_EXT:
        from installation.core.image_files import image_size
        from installation.core.vectorise import trace

        image_size(path, "plot input")  # from the header: a huge image is refused before it is decoded
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise UserError(f"plot input {path} is not a readable image")
        d = trace(img)
        (w, h), (pw, ph) = d.size, paper_mm
        sheet = abs((w / h) / (pw / ph) - 1) < SHEET_ASPECT_TOLERANCE
        paths = [s.points for s in d.lines] + d.contours + d.hatching
        widths = [s.widths for s in d.lines] + [None] * (len(d.contours) + len(d.hatching))
        return Loaded(paths, (float(w), float(h)), sheet, widths)
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
    paper = paper_size(args.paper)
    if not 0 <= args.margin_mm < min(paper) / 2:
        raise UserError(f"--margin-mm {args.margin_mm} must be at least 0 and under half the paper's width")
    if not 0 <= args.tolerance_mm <= 100:
        raise UserError(f"--tolerance-mm {args.tolerance_mm} must be 0..100")
    to_paper, margin = paper, args.margin_mm
    registration = None
    if args.profile is not None:
        from calibration.profile import load_profile
        from installation.core.registration import Registration

        prof = load_profile(args.profile)
        if prof.plotter is None:
            raise UserError(f"{args.profile} has no plotter section: run `run.py calibrate plotter --profile ...`")
        plotter = prof.plotter
        to_paper = (plotter.paper_mm[0], plotter.paper_mm[1])  # the measured sheet, then its paper → plotter map
        margin = plotter.margin_mm
        registration = Registration(tuple(tuple(r) for r in plotter.matrix), plotter.kind, 0.0, 0.0)
    loaded = load_paths(args.input, to_paper)
    if not loaded.paths:
        raise UserError(f"{args.input} holds nothing to draw")
    fit = PageFit(loaded.page, to_paper, margin, loaded.sheet)
    mm = [fit.to_mm(p) for p in loaded.paths]
    if registration is not None:
        mm = [registration.to_mm(p) for p in mm]  # plotter-bed millimetres now: the page grows to hold them
        far = np.max([m.max(axis=0) for m in mm], axis=0)
        paper = (max(paper[0], float(np.ceil(far[0])) + 5), max(paper[1], float(np.ceil(far[1])) + 5))
    _check_placed(mm, args)
    width_at = _width_lookup(mm, loaded.widths, fit.scale)
    before = travel(mm)
    ordered = prepare(mm, args.tolerance_mm, merge_tol=0.05, start=(0.0, 0.0))
    if not ordered:
        raise UserError(f"{args.input}: every path is shorter than the pen can draw: nothing to plot")
    widths = [_median_width(p, width_at) for p in ordered]
    elapsed = time.perf_counter() - t0
    write_svg(args.svg, ordered, paper, title=args.input.name, widths_mm=widths)
    st = stats(ordered)
    measured = np.array([w for w in width_at.values()])
    out = {
        "input": str(args.input),
        "paper": args.paper,
        "placed": "whole sheet" if loaded.sheet else f"inside {margin:g} mm margins",
        "scale_mm_per_unit": round(fit.scale, 6),
        "paths": st.paths,
        "points": st.points,
        "pen_down_mm": round(st.pen_down_mm, 1),
        "pen_up_mm": round(st.pen_up_mm, 1),
        "pen_up_mm_unordered": round(before, 1),
        "traced_paths": sum(w is not None for w in widths),
        "line_width_mm": {
            "p50": round(float(np.percentile(measured, 50)), 3),
            "p90": round(float(np.percentile(measured, 90)), 3),
            "max": round(float(measured.max()), 3),
        }
        if len(measured)
        else None,
        "seconds": round(elapsed, 3),
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    print(json.dumps(out))
    return 0


def _width_lookup(mm: list[np.ndarray], widths: list[np.ndarray | None], scale: float) -> dict[tuple, float]:
    """Each traced point (in mm, exactly as it will be after simplifying and ordering) → its ink width in mm."""
    out: dict[tuple, float] = {}
    for p, w in zip(mm, widths, strict=True):
        if w is not None:
            for xy, wi in zip(map(tuple, p), w * scale, strict=True):
                out[xy] = float(wi)
    return out


def _median_width(p: np.ndarray, width_at: dict[tuple, float]) -> float | None:
    """A path's median ink width; None for paths that were not traced from ink (contours, hatching, SVG)."""
    found = [width_at[xy] for xy in map(tuple, p) if xy in width_at]
    return float(np.median(found)) if found else None
