"""`run.py steer --prompt TEXT --generator strokes|portrait|pixels --steps N --seed S --out FILE.png [--svg FILE.svg]`.

Steers the chosen generator with CLIP towards the prompt ('a face:1 | scribble:-0.5'), logs progress, optionally
writes progressive frames, then writes the image and (with --svg) plotter paths in millimetres: the strokes
themselves for the strokes generator (cut at the page edge), the image vectorised in a robot-like hand for the
others. Strokes and pixels first try `--restarts` candidates and keep the one the steering CLIP scores best
(models/steer/restarts.py). Torch threads default to the cores (1 on ≤ 2). Ctrl-C stops early and still writes
what there is. Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from installation.core.errors import UserError
from installation.core.files import check_writable
from installation.core.prompts import parse_prompts

if TYPE_CHECKING:
    from models.steer.base import SteerGenerator

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prompt", required=True, help="text, or weighted parts: 'a face:1 | scribble:-0.5'")
    p.add_argument("--generator", default="strokes", choices=("strokes", "portrait", "pixels"))
    p.add_argument("--steps", type=int, default=150, help="optimisation steps (more can over-fit the steering CLIP)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="the result image (.png)")
    p.add_argument("--svg", type=Path, help="also write plotter paths in millimetres")
    p.add_argument("--clip", type=Path, help="a CLIP checkpoint file (default: the embedded small CLIP)")
    p.add_argument("--start", type=Path, help="start from a sketch or AI image (.png) or a session (.jsonl)")
    p.add_argument("--size", type=int, default=224, help="image side for strokes and pixels (portrait: its model's)")
    p.add_argument("--strokes", type=int, default=48, help="number of strokes (portrait: added strokes, ≤ 32)")
    p.add_argument("--colour", action="store_true", help="strokes in colour (default: grey ink, as a plotter draws)")
    p.add_argument("--cutouts", type=int, default=8, help="augmented views per step")
    p.add_argument("--restarts", type=int, default=3, help="candidates tried first; the steering CLIP keeps the best")
    p.add_argument("--frames", type=Path, help="write progressive frames here (PNG every --every steps)")
    p.add_argument("--every", type=int, default=25, help="steps between progressive frames / log lines")
    p.add_argument("--paper", default="a4", help="paper for --svg: a5, a4, a3 or letter")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: from the cores, 1 on ≤ 2 cores)")


def _check_writable(path: Path, what: str, suffixes: tuple[str, ...]) -> None:
    if path.suffix.lower() not in suffixes:
        raise UserError(f"{what} {path} must end in {' or '.join(suffixes)}")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise UserError(f"{what} {path}: {parent} is not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the folder for {what} {path} ({e.strerror}): choose a writable place") from e
    if not os.access(parent, os.W_OK):
        raise UserError(f"{what} {path}: the folder {parent} is not writable; choose a writable place")


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Atomic: written beside the target, then renamed over it."""
    tmp = path.with_name(path.name + ".tmp.png")
    if not cv2.imwrite(str(tmp), np.ascontiguousarray(rgb[:, :, ::-1])):
        raise UserError(f"cannot write {path}: choose a writable place for --out")
    os.replace(tmp, path)


def write_paths_svg(path: Path, paths_px: list[np.ndarray], side: int, paper_name: str, title: str) -> int:
    """Pixel-space polylines → ordered mm paths in an SVG (as `run.py plot` does); returns the path count."""
    from installation.core.plotpaths import PaperMapping, paper_size, prepare
    from installation.core.svg_paths import write_svg

    paper = paper_size(paper_name)
    mapping = PaperMapping(side, paper, 15.0)
    ordered = prepare([mapping.to_mm(p) for p in paths_px], 0.1, merge_tol=0.05)
    write_svg(path, ordered, paper, title=title)
    return len(ordered)


def main(args: argparse.Namespace) -> int:
    prompts = parse_prompts(args.prompt)  # malformed → UserError before anything slow
    if args.steps < 1:
        raise UserError(f"--steps must be at least 1, got {args.steps}")
    if not 32 <= args.size <= 1024:
        raise UserError(f"--size must be between 32 and 1024, got {args.size}")
    if args.cutouts < 1 or args.strokes < 1 or args.restarts < 1:
        raise UserError("--cutouts, --strokes and --restarts must be at least 1")
    if args.threads < 0:
        raise UserError(f"--threads must be 0 (from the cores) or more, got {args.threads}")
    _check_writable(args.out, "--out", (".png",))
    if args.svg:
        _check_writable(args.svg, "--svg", (".svg",))
        from installation.core.plotpaths import paper_size

        paper_size(args.paper)
    if args.frames:
        args.frames.mkdir(parents=True, exist_ok=True)

    import torch

    from models.steer.defaults import auto_threads

    check_writable(args.out, "--out")
    check_writable(args.svg, "--svg")
    torch.set_num_threads(args.threads or auto_threads())
    torch.manual_seed(args.seed)
    from models.clip.api import load_clip
    from models.steer.cutouts import CutoutParams
    from models.steer.restarts import best_of
    from models.steer.sources import make_generator

    clip = load_clip(args.clip)

    def make(seed: int) -> SteerGenerator:
        return make_generator(args.generator, args.size, seed, args.start, args.strokes, colour=args.colour)

    # pixels from a given image and the portrait have one start: their seed changes nothing (pixels) or only the
    # few added strokes (portrait, and it is the slowest), so they run once
    one_start = args.generator == "portrait" or (args.generator == "pixels" and args.start)
    restarts = 1 if one_start else args.restarts
    t0 = time.perf_counter()
    try:
        choice = best_of(clip, make, prompts, args.steps, restarts, CutoutParams(count=args.cutouts), args.seed)
    except KeyboardInterrupt:
        log.warning("interrupted while trying the restarts: nothing written")
        return 130
    steerer, gen = choice.steerer, choice.steerer.generator
    if restarts > 1:
        log.info("restarts: steering-CLIP losses %s, kept #%d", [round(s, 4) for s in choice.scores], choice.chosen + 1)
    frame = None
    interrupted = False
    try:
        for frame in steerer.run(args.steps - choice.trial_steps, every=args.every):
            log.info("step %d/%d loss %.4f (%.1f it/s)", frame.step, args.steps, frame.loss, frame.step / frame.seconds)
            if args.frames:
                write_png(args.frames / f"step_{frame.step:05d}.png", frame.image)
    except KeyboardInterrupt:
        interrupted = True
        log.warning("interrupted at step %d: writing the result so far", steerer.step_count)
    elapsed = time.perf_counter() - t0
    image = steerer.render()
    write_png(args.out, image)
    summary: dict[str, object] = {
        "out": str(args.out),
        "generator": args.generator,
        "prompt": steerer.prompt_text,
        "steps": steerer.step_count,
        "restarts": restarts,
        "seconds": round(elapsed, 2),
        "it_per_s": round((steerer.step_count + choice.trial_steps * (restarts - 1)) / max(elapsed, 1e-9), 2),
        "loss": round(frame.loss, 4) if frame and math.isfinite(frame.loss) else None,
        "similarity": _similarities(clip, image, [p.text for p in prompts]),
    }
    if args.svg:
        paths = gen.paths()
        side = max(gen.size)
        if paths is None:
            from installation.core.vectorise import vectorise

            paths = vectorise(image, side)
        summary["svg"] = str(args.svg)
        summary["svg_paths"] = write_paths_svg(args.svg, paths, side, args.paper, args.prompt)
    print(json.dumps(summary))
    return 130 if interrupted else 0


def _similarities(clip: object, image: np.ndarray, texts: list[str]) -> dict[str, float]:
    import torch

    x = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255.0  # (1, 3, H, W)
    with torch.no_grad():
        sim = (clip.encode_image(x) @ clip.encode_text(texts).T)[0]  # type: ignore[attr-defined]  # (P,)
    return {t: round(float(s), 4) for t, s in zip(texts, sim, strict=True)}
