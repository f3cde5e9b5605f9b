"""Steering benchmark: steer with one CLIP, judge with the independently trained one; speed and memory.

    python benchmarks/steer_bench.py --json benchmarks/steer-cpu-2core.json --sheet benchmarks/steer-sheet.png

Quality: for each of the 20 PROMPTS below, the strokes generator is steered with the embedded CLIP
(`load_clip()`); the judge (`load_judge()`, another seed and data order) then ranks all 20 prompts for each
steered image. Reported: the fraction of images whose own prompt ranks first (and in the top 3), by the judge
and, for reference, by the steering CLIP itself; and the same for unsteered starting images (chance level).
Speed: steps per second of each generator at 128² and 224² (portrait: its model's 256²). Memory: peak RSS.

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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def ranks(clip: torch.nn.Module, images: list[np.ndarray], prompts: list[str]) -> np.ndarray:
    """Rank (0 = first) of each image's own prompt among all `prompts`, by `clip`."""
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0  # (N, 3, H, W)
    with torch.no_grad():
        sim = (clip.encode_image(x) @ clip.encode_text(prompts).T).numpy()  # (N, P)
    own = sim[np.arange(len(images)), np.arange(len(images))]
    return (sim > own[:, None]).sum(1)


def rank_summary(r: np.ndarray) -> dict[str, float]:
    return {"top1": round(float(np.mean(r == 0)), 3), "top3": round(float(np.mean(r < 3)), 3)}


def speed(kind: str, size: int, clip: torch.nn.Module, steps: int, cutouts: int) -> dict[str, float]:
    gen = make_generator(kind, size, seed=0)
    st = Steerer(clip, gen, PROMPTS[0], CutoutParams(count=cutouts), seed=0)
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
    ap.add_argument("--cutouts", type=int, default=8)
    ap.add_argument("--colour", action="store_true", help="colour strokes instead of grey ink")
    ap.add_argument("--noise", type=float, default=CutoutParams.noise, help="cutout noise std")
    ap.add_argument("--perspective", type=float, default=CutoutParams.perspective, help="cutout corner jitter")
    ap.add_argument("--max-width", type=float, default=0.03, help="widest stroke, fraction of the side")
    ap.add_argument("--min-scale", type=float, default=CutoutParams.scale[0], help="smallest crop side")
    ap.add_argument("--limit", type=int, default=len(PROMPTS), help="first N prompts only (smoke runs)")
    ap.add_argument("--speed-steps", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--clip", type=Path, help="steering CLIP file (default: the embedded one)")
    ap.add_argument("--judge", type=Path, help="judge CLIP file (default: the embedded judge)")
    ap.add_argument("--tune", action="store_true", help="use TUNE_PROMPTS (for tuning) instead of the benchmark's")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed part")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    clip = load_clip(args.clip)
    judge = load_clip(args.judge) if args.judge else load_judge()
    prompts = (TUNE_PROMPTS if args.tune else PROMPTS)[: args.limit]
    t0 = time.perf_counter()
    images, starts, per_prompt = [], [], []
    for i, prompt in enumerate(prompts):
        gen = StrokesGenerator(
            size=args.size, n_strokes=args.strokes, seed=i, colour=args.colour, width_range=(0.006, args.max_width)
        )
        starts.append(_render(gen))  # the unsteered start, for the chance-level row
        cut = CutoutParams(args.cutouts, (args.min_scale, 1.0), perspective=args.perspective, noise=args.noise)
        st = Steerer(clip, gen, prompt, cut, seed=i)
        t = time.perf_counter()
        frame = list(st.run(args.steps, every=0))[-1]
        images.append(frame.image)
        took = round(time.perf_counter() - t, 1)
        per_prompt.append({"prompt": prompt, "loss": round(frame.loss, 4), "seconds": took})
        print(f"{i + 1}/{len(prompts)} {prompt!r}: loss {frame.loss:.4f} ({per_prompt[-1]['seconds']} s)", flush=True)
    steer_s = time.perf_counter() - t0
    judge_r, self_r = ranks(judge, images, prompts), ranks(clip, images, prompts)
    start_r = ranks(judge, starts, prompts)
    for p, jr, sr in zip(per_prompt, judge_r, self_r, strict=True):
        p["judge_rank"], p["steer_clip_rank"] = int(jr) + 1, int(sr) + 1
    result = {
        "machine": {"cpu": platform.processor() or platform.machine(), "threads": args.threads,
                    "loadavg_at_end": [round(x, 2) for x in os.getloadavg()], "torch": torch.__version__},
        "setup": {"generator": "strokes", "size": args.size, "strokes": args.strokes, "steps": args.steps,
                  "cutouts": args.cutouts, "colour": args.colour, "noise": args.noise,
                  "perspective": args.perspective, "min_scale": args.min_scale, "max_width": args.max_width,
                  "prompts": len(prompts), "tune_set": args.tune,
                  "steer_clip": str(args.clip or "embedded"), "judge": str(args.judge or "embedded judge")},
        "quality": {"judge": rank_summary(judge_r), "steer_clip_itself": rank_summary(self_r),
                    "unsteered_start_judge": rank_summary(start_r), "chance_top1": round(1 / len(prompts), 3)},
        "steer_seconds_total": round(steer_s, 1),
        "per_prompt": per_prompt,
    }  # fmt: skip
    if args.sheet:
        labels = [f"{p['prompt'][13:]} (#{p['judge_rank']})" for p in per_prompt]
        sheet(images, labels, args.sheet)
    sp = {}
    for threads in [] if args.no_speed else [1, 2]:  # both: on a shared machine 1 thread can beat 2 by far
        torch.set_num_threads(threads)
        for kind, size in (("strokes", 128), ("strokes", 224), ("pixels", 128), ("pixels", 224), ("portrait", 256)):
            key = f"{kind}_{size}_threads{threads}"
            sp[key] = speed(kind, size, clip, args.speed_steps, args.cutouts)
            print(key, sp[key], flush=True)
    result["speed"] = sp
    result["loadavg_after_speed"] = [round(x, 2) for x in os.getloadavg()]
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("quality", "speed", "peak_rss_mb")}, indent=2))
    return 0


@torch.no_grad()
def _render(gen: torch.nn.Module) -> np.ndarray:
    from models.steer.steerer import to_uint8

    return to_uint8(gen())


if __name__ == "__main__":
    sys.exit(main())
