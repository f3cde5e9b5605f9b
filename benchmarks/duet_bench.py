"""Duet mode benchmark: the artist's pause → the robot's first AI stroke, and how much the AI crosses the artist.

    python benchmarks/duet_bench.py --json benchmarks/duet-cpu-2core.json

The headless duet (`run.py demo --mode duet` without frame files, 1280×720) with the default [duet] settings:
each embedded session named below plays the artist (3 strokes a turn), the AI takes its turn when the pen has
rested `duet.pause_s` (2 s), steers 6 strokes for at most `duet.think_s` (1.5 s) with the small CLIP on 1 torch
thread, cuts them off the artist's ink and streams them to the in-process simulator (pen at the default
80 mm/s). With `duet.draft` (the default) the AI starts on its answer when the pen lifts, so the answer is
usually ready when the pause ends; `--set duet.draft=false` makes it start only then. Per turn:
"pause_to_first_ai_stroke_s" from the moment the pause was detected (the pen-up plus pause_s) to the robot's
first /robot/drawn acknowledgement; "pen_rest_to_first_ai_stroke_s" from the pen-up itself; "crossing": the
share of the turn's AI stroke length over the artist's ink (256² raster), after the cut ("crossing_before_cut"
before it). Display rate while the AI thinks and while the artist draws, from the flips.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SESSIONS = ("face_02.jsonl", "face_03.jsonl")


def fps_between(flips: np.ndarray, spans: list[tuple[float, float]]) -> float | None:
    frames = seconds = 0.0
    for a, b in spans:
        f = flips[(flips >= a) & (flips <= b)]
        if len(f) > 2:
            frames += len(f) - 1
            seconds += float(f[-1] - f[0])
    return round(frames / seconds, 1) if seconds > 0 else None


def one(session: str, turns: int, overrides: list[str]) -> dict:
    from installation.core.config import load_config
    from installation.runtime.duet import DuetOptions, DuetShow

    with tempfile.TemporaryDirectory() as tmp:
        sets = ["display.fullscreen=false", "osc.enabled=false", f"duet.archive={json.dumps(str(Path(tmp) / 'a'))}"]
        cfg = load_config(None, [*sets, *overrides])
        path = ROOT / "installation" / "assets" / "sessions" / session
        opts = DuetOptions(headless=True, seconds=300, out_dir=Path(tmp), session=path, simulate=True, turns=turns,
                           write_frames=False)  # fmt: skip
        show = DuetShow(cfg, opts)
        out = show.run()
        flips = np.asarray(show.metrics.flips)
        m = show.machine
        thinking = [(t.given_t, t.thought_t) for t in m.turns if t.thought_t is not None]
        artist = [(a.ended_t, b.given_t) for a, b in zip(m.turns, m.turns[1:], strict=False) if a.ended_t is not None]
    return {
        "session": session,
        "turns": out["turns"],
        "ai_strokes": out["ai_strokes"],
        "artist_strokes": out["artist_strokes"],
        "ai_crossing_final": out["ai_crossing_final"],
        "fps_while_thinking": fps_between(flips, thinking),
        "fps_while_artist_draws": fps_between(flips, artist),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--turns", type=int, default=4, help="AI turns per session")
    ap.add_argument("--set", action="append", default=[], help="a config override, e.g. duet.draft=false")
    args = ap.parse_args()
    from installation.core.config import load_config

    d = load_config(None, args.set).duet
    load = os.getloadavg()[0]
    runs = []
    for s in SESSIONS:
        runs.append(one(s, args.turns, args.set))
        print(json.dumps(runs[-1]), flush=True)
    turns = [t for r in runs for t in r["turns"] if t["outcome"] == "done"]
    lat = [t["pause_to_first_ai_stroke_s"] for t in turns]
    rest = [t["pen_rest_to_first_ai_stroke_s"] for t in turns if t["pen_rest_to_first_ai_stroke_s"] is not None]
    record = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_1min_at_start": round(load, 1),
        "settings": vars(d).copy(),
        "overrides": args.set,
        "turns_done": len(turns),
        "pause_to_first_ai_stroke_s": {"p50": round(statistics.median(lat), 2), "max": round(max(lat), 2)},
        "pen_rest_to_first_ai_stroke_s": {"p50": round(statistics.median(rest), 2), "max": round(max(rest), 2)},
        "think_s": {"p50": round(statistics.median(t["think_s"] for t in turns), 2)},
        "steps_per_turn": {"p50": statistics.median(t["steps"] for t in turns)},
        "crossing": {
            "max": round(max(t["crossing"] for t in turns), 4),
            "before_cut_max": round(max(t["crossing_before_cut"] for t in turns), 4),
            "final_max": round(max(r["ai_crossing_final"] for r in runs), 4),
        },
        "ai_strokes": sum(r["ai_strokes"] for r in runs),
        "fps_while_thinking": [r["fps_while_thinking"] for r in runs],
        "fps_while_artist_draws": [r["fps_while_artist_draws"] for r in runs],
        "runs": runs,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2))
    print(json.dumps({k: v for k, v in record.items() if k != "runs"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
