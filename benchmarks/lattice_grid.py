"""Where the worst lattice answers' grain comes from: the network's pixel grid, or the drawing itself.

    python benchmarks/lattice_grid.py --data data/clipart_all/pack.npz --json benchmarks/lattice-grid-v3.json

For each model (ONNX or checkpoint), the held-out answers with the highest lattice peak (`metrics.lattice_peak`)
are answered again for the sketch moved by each of the 8 × 8 shifts (0–7 px on each axis, wrapped: the sketches'
borders are white paper), each answer moved back, and the 64 averaged. A pattern that moves with the drawing
survives the average; a pattern fixed to the network's grid (what strided convolutions fold detail into, at
periods 2, 4 and 8) is averaged away. So a peak that falls under the average is grain of the architecture, one
that stays is the drawing's (flags, stripes, halftones). Sharpness is reported beside it: an average that only
blurred would lower both.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

log = logging.getLogger("lattice_grid")
SHIFTS = 8  # the longest lattice period measured


def main(argv: list[str] | None = None) -> int:
    from installation.core.errors import UserError

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, required=True, help="the pix2pix data pack (held-out split)")
    p.add_argument("--json", type=Path, required=True)
    p.add_argument("--model", action="append", default=[], help="NAME=PATH (.onnx or .pt); default: the shipped one")
    p.add_argument("--top", type=int, default=15, help="the worst answers to examine per model")
    p.add_argument("--limit", type=int, help="first N held-out items only (smoke runs)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        report = run(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    log.info("wrote %s", args.json)
    return 0


def run(args: argparse.Namespace) -> dict:
    from installation.runtime.inference import RuntimeSettings, open_model
    from installation.verbs.quality import as_onnx, fitter, held_out, parse_models

    specs = args.model or [f"shipped={ROOT / 'installation/assets/models/pix2pix_default.onnx'}"]
    models = parse_models(specs)
    items, _ = held_out(args.data, args.limit)
    settings = RuntimeSettings(providers=("cpu",), intra_op_threads=args.threads, warmup_runs=1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="lattice-grid-") as tmp:
        for name, path in models:
            model = open_model(as_onnx(name, path, Path(tmp)), None, settings)
            fit = fitter(model.input_size)
            rows.append({"name": name, "path": str(path), **examine(model, items, fit, args.top)})
            log.info("%s: %s", name, json.dumps(rows[-1]["summary"]))
    return {"data": str(args.data), "val_items": len(items), "top": args.top, "shifts": SHIFTS**2, "models": rows}


def examine(model, items: list, fit, top: int) -> dict:  # noqa: ANN001
    from models.pix2pix.metrics import lattice_peak, sharpness

    sketches = [fit(s) for _, s, _ in items]
    answers = [model.run(s) for s in sketches]
    peaks = np.array([lattice_peak(a) for a in answers])
    worst = []
    for i in np.argsort(-peaks)[:top]:
        answer = answers[i]
        averaged = shift_average(model, sketches[i])
        target = fit(items[i][2])
        worst.append(
            {
                "id": items[i][0],
                "answer": round(float(peaks[i]), 2),
                "shift_averaged": round(lattice_peak(averaged), 2),
                "target": round(lattice_peak(target), 2),
                "sharpness": round(sharpness(answer, target), 3),
                "sharpness_shift_averaged": round(sharpness(averaged, target), 3),
            }
        )
    ratio = np.array([w["shift_averaged"] / w["answer"] for w in worst])
    summary = {
        "lattice_median": round(float(np.median(peaks)), 2),
        "lattice_max": round(float(peaks.max()), 2),
        "worst_mean": round(float(np.mean([w["answer"] for w in worst])), 2),
        "worst_shift_averaged_mean": round(float(np.mean([w["shift_averaged"] for w in worst])), 2),
        "worst_halved_by_the_average": int((ratio <= 0.5).sum()),  # grain of the network's grid
        "worst_kept_by_the_average": int((ratio > 0.8).sum()),  # the drawing's own pattern
        "worst_sharpness_kept": round(
            float(np.mean([w["sharpness_shift_averaged"] / max(w["sharpness"], 1e-9) for w in worst])), 3
        ),
    }
    return {"summary": summary, "worst": worst}


def shift_average(model, sketch: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """The mean of the answers to the sketch moved by every (dy, dx) in 0..7², each moved back: (S, S, 3) uint8."""
    acc = np.zeros((*sketch.shape[:2], 3), np.float64)
    for dy in range(SHIFTS):
        for dx in range(SHIFTS):
            moved = np.roll(sketch, (dy, dx), axis=(0, 1))
            acc += np.roll(model.run(moved).astype(np.float64), (-dy, -dx), axis=(0, 1))
    return np.clip(np.rint(acc / SHIFTS**2), 0, 255).astype(np.uint8)


if __name__ == "__main__":
    raise SystemExit(main())
