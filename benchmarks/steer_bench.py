"""Steering benchmark: steer with one CLIP, judge with the independently trained one; speed and memory.

    python benchmarks/steer_bench.py --json benchmarks/steer-cpu-2core.json --sheet benchmarks/steer-sheet.png

Quality: for each of the 20 PROMPTS below, each generator of `--generators` (strokes, pixels) is steered with
the embedded CLIP (`load_clip()`), with the CLI's defaults (restarts chosen by the steering CLIP, schedules,
regularisers); the judge (`load_judge()`, another seed and data order) then ranks all 20 prompts for each
steered image. Reported: the fraction of images whose own prompt ranks first (and in the top 3), by the judge
and, for reference, by the steering CLIP itself; the same for unsteered starting images (chance level); and
each image's standard deviation (a flat field has ~0: the pixels floor). `--baseline` steers as the code before
issue 16 did (one start, 8 views at 2×, no schedule or regulariser) using only the APIs that code had, so this
file run in an old checkout measures "before" under the same load.
Speed: steps per second of each generator at 128² and 224² (portrait: its model's 256²). Memory: peak RSS.
The judge never selects or tunes anything: restarts are chosen by the steering CLIP.

The prompt list was fixed in this file before any tuning of the generators: things named by openclipart's
folders (/usr/share/openclipart/svg/*/*), phrased as the CLIP's captions are ("a drawing of …").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.clip.api import load_clip, load_judge  # noqa: E402
from models.steer.cutouts import CutoutParams  # noqa: E402
from models.steer.sources import make_generator  # noqa: E402
from models.steer.steerer import Steerer  # noqa: E402
from models.steer.strokes import StrokesGenerator  # noqa: E402

# Fixed before tuning (see the module docstring). Folder in brackets.
PROMPTS = [
    "a drawing of a star",  # shapes/stars
    "a drawing of a flag",  # signs_and_symbols/flags
    "a drawing of an arrow",  # shapes/arrows
    "a drawing of fruit",  # food/fruit
    "a drawing of a bird",  # animals/birds
    "a drawing of a fish",  # animals/fish
    "a drawing of a house",  # buildings/homes
    "a drawing of a tree",  # plants/trees
    "a drawing of a flower",  # plants/flowers
    "a drawing of a clock",  # signs_and_symbols/clocks
    "a drawing of a car",  # transportation/vehicles
    "a drawing of a boat",  # transportation/boating
    "a drawing of a smiley",  # people/smilies
    "a drawing of a stick man",  # people/stickmen
    "a drawing of a book",  # education/books
    "a drawing of a telephone",  # office/telephone
    "a drawing of a light bulb",  # electronics/bulb
    "a drawing of a bug",  # animals/bugs
    "a drawing of a dinosaur",  # animals/dinosaurs
    "a drawing of a jigsaw piece",  # shapes/jigsaw
]

# For tuning only (--tune): other things, so the 20 benchmark prompts above stay unseen by any tuning decision.
TUNE_PROMPTS = [
    "a drawing of a cat",
    "a drawing of a horse",
    "a drawing of a chair",
    "a drawing of the sun",
    "a drawing of a heart",
    "a drawing of a key",
    "a drawing of a guitar",
    "a drawing of a cup",
    "a drawing of an apple",
    "a drawing of a butterfly",
]


FLAT_STD = 0.02  # an image whose pixels' standard deviation (0–1 scale) is below this is a flat field


def spatial_std(img: np.ndarray) -> float:
    """(H, W, 3) uint8 → the pixels' standard deviation over the image, per channel, averaged (0–1 scale): a flat
    field of any colour is 0 (the std over all values would count a flat magenta's channel spread as structure)."""
    return round(float((img.astype(np.float32) / 255.0).reshape(-1, 3).std(0).mean()), 4)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def ranks(clip: torch.nn.Module, images: list[np.ndarray], prompts: list[str]) -> np.ndarray:
    """Rank (0 = first) of image i's own prompt i among all `prompts` (≥ len(images): a --limit run of the first
    N prompts is still ranked among all 20), by `clip`."""
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0  # (N, 3, H, W)
    with torch.no_grad():
        sim = (clip.encode_image(x) @ clip.encode_text(prompts).T).numpy()  # (N, P)
    own = sim[np.arange(len(images)), np.arange(len(images))]
    return (sim > own[:, None]).sum(1)


def rank_summary(r: np.ndarray) -> dict[str, float]:
    return {"top1": round(float(np.mean(r == 0)), 3), "top3": round(float(np.mean(r < 3)), 3)}


def baseline_cut(count: int) -> CutoutParams:
    """The views before issue 16: 8 views at 2× the CLIP's side, crops ≥ 0.5, 8°, jitter 0.25, no flip."""
    try:
        return CutoutParams(count, (0.5, 1.0), 8.0, 0.25, 0.1, True, False, 2.0)  # type: ignore[call-arg]
    except TypeError:  # the old CutoutParams (no flip, side factor: it always took 2×)
        return CutoutParams(count, (0.5, 1.0), 8.0, 0.25, 0.1, True)  # type: ignore[call-arg]


def steer_one(kind: str, prompt: str, i: int, clip: torch.nn.Module, args: argparse.Namespace):  # noqa: ANN201
    """One steered image (H, W, 3) uint8, its unsteered start and the last loss."""
    width = (0.006, args.max_width)

    def make(seed: int) -> Any:
        if kind == "pixels":
            from models.steer.pixels import PixelsGenerator

            return PixelsGenerator(size=args.size, seed=seed)
        return StrokesGenerator(size=args.size, n_strokes=args.strokes, seed=seed, colour=args.colour,
                                width_range=width)  # fmt: skip

    start = _render(make(i))  # the unsteered start, for the chance-level row
    if args.baseline:
        if kind == "strokes":  # no schedule, no regularisers (the old constructor has no `reg`)
            try:
                from models.steer.strokes import NO_REGULARISERS

                gen = StrokesGenerator(size=args.size, n_strokes=args.strokes, seed=i, colour=args.colour,
                                       width_range=width, reg=NO_REGULARISERS)  # type: ignore[call-arg]  # fmt: skip
            except ImportError:
                gen = make(i)
        else:
            gen = make(i)
        st = Steerer(clip, gen, prompt, baseline_cut(args.cutouts), seed=i)
        frame = list(st.run(args.steps, every=0))[-1]
        return frame.image, start, frame.loss
    from models.steer.restarts import best_of

    choice = best_of(clip, make, prompt, args.steps, args.restarts, CutoutParams(count=args.cutouts), seed=i)
    frame = list(choice.steerer.run(args.steps - choice.trial_steps, every=0))[-1]
    return frame.image, start, frame.loss


def speed(kind: str, size: int, clip: torch.nn.Module, steps: int, old_views: bool) -> dict[str, float]:
    """Steps per second; old_views: the 8 views at 2× and (strokes) no regularisers, as before issue 16."""
    gen = make_generator(kind, size, seed=0)
    if old_views and isinstance(gen, StrokesGenerator) and hasattr(gen, "reg"):
        from models.steer.strokes import NO_REGULARISERS

        gen.reg = NO_REGULARISERS
    cut = baseline_cut(8) if old_views else CutoutParams()
    st = Steerer(clip, gen, PROMPTS[0], cut, seed=0)
    for _ in range(3):
        st.step()
    t = time.perf_counter()
    for _ in range(steps):
        st.step()
    dt = time.perf_counter() - t
    ms = round(1e3 * dt / steps, 1)
    return {"size": max(gen.size), "steps": steps, "it_per_s": round(steps / dt, 2), "ms_per_step": ms}


def sheet(images: list[np.ndarray], labels: list[str], path: Path, cols: int = 5) -> None:
    tile = 160
    rows = -(-len(images) // cols)
    out = np.full((rows * (tile + 22), cols * tile, 3), 255, np.uint8)
    for i, (img, label) in enumerate(zip(images, labels, strict=True)):
        r, c = divmod(i, cols)
        y, x = r * (tile + 22), c * tile
        out[y : y + tile, x : x + tile] = cv2.resize(img, (tile, tile), interpolation=cv2.INTER_AREA)
        cv2.putText(out, label, (x + 3, y + tile + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 0), 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), out[:, :, ::-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--sheet", type=Path)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--strokes", type=int, default=24)
    ap.add_argument("--cutouts", type=int, help="views per step (default: CutoutParams().count, 8)")
    ap.add_argument("--restarts", type=int, default=3, help="candidates, the best chosen by the steering CLIP")
    ap.add_argument("--generators", default="strokes,pixels", help="comma-separated: strokes, pixels")
    ap.add_argument("--baseline", action="store_true", help="steer as before issue 16 (old APIs only)")
    ap.add_argument("--colour", action="store_true", help="colour strokes instead of grey ink")
    ap.add_argument("--max-width", type=float, default=0.03, help="widest stroke, fraction of the side")
    ap.add_argument("--limit", type=int, default=len(PROMPTS), help="steer the first N prompts only (ranked among all)")
    ap.add_argument("--speed-steps", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clip", type=Path, help="steering CLIP file (default: the embedded one)")
    ap.add_argument("--judge", type=Path, help="judge CLIP file (default: the embedded judge)")
    ap.add_argument("--tune", action="store_true", help="use TUNE_PROMPTS (for tuning) instead of the benchmark's")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed part")
    args = ap.parse_args()
    args.cutouts = args.cutouts or (8 if args.baseline else CutoutParams().count)
    torch.set_num_threads(args.threads)
    clip = load_clip(args.clip)
    judge = load_clip(args.judge) if args.judge else load_judge()
    all_prompts = TUNE_PROMPTS if args.tune else PROMPTS
    prompts = all_prompts[: args.limit]
    result: dict[str, Any] = {
        "machine": {"cpu": platform.processor() or platform.machine(), "threads": args.threads,
                    "torch": torch.__version__},
        "setup": {"generators": args.generators, "size": args.size, "strokes": args.strokes, "steps": args.steps,
                  "cutouts": args.cutouts, "restarts": 1 if args.baseline else args.restarts,
                  "baseline": args.baseline, "colour": args.colour, "max_width": args.max_width,
                  "prompts": len(prompts), "ranked_among": len(all_prompts), "tune_set": args.tune,
                  "steer_clip": str(args.clip or "embedded"), "judge": str(args.judge or "embedded judge")},
    }  # fmt: skip
    sheets: list[tuple[list[np.ndarray], list[str]]] = []
    for kind in [k for k in args.generators.split(",") if k]:  # --generators "": speed only
        images, starts, per_prompt = [], [], []
        t0 = time.perf_counter()
        for i, prompt in enumerate(prompts):
            t = time.perf_counter()
            img, start, loss = steer_one(kind, prompt, i, clip, args)
            images.append(img)
            starts.append(start)
            per_prompt.append({"prompt": prompt, "loss": round(loss, 4), "seconds": round(time.perf_counter() - t, 1),
                               "std": spatial_std(img)})  # fmt: skip
            print(f"{kind} {i + 1}/{len(prompts)} {prompt!r}: loss {loss:.4f} std {per_prompt[-1]['std']} "
                  f"({per_prompt[-1]['seconds']} s)", flush=True)  # fmt: skip
        steer_s = time.perf_counter() - t0
        judge_r, self_r = ranks(judge, images, all_prompts), ranks(clip, images, all_prompts)
        start_r = ranks(judge, starts, all_prompts)
        for p, jr, sr in zip(per_prompt, judge_r, self_r, strict=True):
            p["judge_rank"], p["steer_clip_rank"] = int(jr) + 1, int(sr) + 1
        stds = [p["std"] for p in per_prompt]
        result[kind] = {
            "quality": {"judge": rank_summary(judge_r), "steer_clip_itself": rank_summary(self_r),
                        "unsteered_start_judge": rank_summary(start_r), "chance_top1": round(1 / len(all_prompts), 3)},
            "std": {"min": round(min(stds), 4), "median": round(float(np.median(stds)), 4),
                    "flat_images": int(sum(sd < FLAT_STD for sd in stds)), "flat_below": FLAT_STD},
            "steer_seconds_total": round(steer_s, 1),
            "per_prompt": per_prompt,
        }  # fmt: skip
        sheets.append((images, [f"{kind[0]}: {p['prompt'][13:]} (#{p['judge_rank']})" for p in per_prompt]))
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")  # partial: a long run keeps what it has
    result["machine"]["loadavg_after_quality"] = [round(x, 2) for x in os.getloadavg()]
    if args.sheet and sheets:
        sheet([im for ims, _ in sheets for im in ims], [lb for _, lbs in sheets for lb in lbs], args.sheet)
    sp = {}
    # the settings of this run, then (same run, same load) the old views and no regularisers: the per-step cost
    # before and after issue 16; on a shared machine 1 thread can beat 2 by far
    for threads in [] if args.no_speed else sorted({1, args.threads}):
        torch.set_num_threads(threads)
        for kind, size in (("strokes", 128), ("strokes", 224), ("pixels", 128), ("pixels", 224), ("portrait", 256)):
            for old in (args.baseline, True) if not args.baseline else (True,):
                key = f"{kind}_{size}_threads{threads}" + ("_old_views" if old and not args.baseline else "")
                sp[key] = speed(kind, size, clip, args.speed_steps, old)
                print(key, sp[key], flush=True)
    result["speed"] = sp
    result["loadavg_after_speed"] = [round(x, 2) for x in os.getloadavg()]
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    keys = [k for k in args.generators.split(",") if k and k in result]
    print(json.dumps({k: result[k]["quality"] for k in keys} | {"speed": result["speed"]}, indent=2))
    return 0


@torch.no_grad()
def _render(gen: torch.nn.Module) -> np.ndarray:
    from models.steer.steerer import to_uint8

    return to_uint8(gen())


if __name__ == "__main__":
    sys.exit(main())
