"""Plot-path ordering benchmark: our ordering vs vpype `linesort` (and `--two-opt`) on the same paths.

    python benchmarks/plot_bench.py --json benchmarks/plot-cpu-2core.json [--paths 5000]

The drawing: the shipped model's held-out sheet vectorised in the robot hand, topped up with short wobbly
strokes scattered over the page to reach --paths. Pen-up travel is measured by vpype itself on each result.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from installation.core.plotpaths import PaperMapping, prepare  # noqa: E402
from installation.core.svg_paths import write_svg  # noqa: E402
from installation.core.vectorise import VectoriseParams, vectorise  # noqa: E402

PAPER = (297.0, 420.0)


def drawing(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    img = cv2.imread(str(ROOT / "installation/assets/models/pix2pix_default_heldout.png"))[:, :, ::-1]
    # outlines and hatching without centre lines: the drawing the recorded ordering figures were measured on
    paths = vectorise(img, 1024, VectoriseParams(max_paths=n, centre_lines=False))[:n]
    while len(paths) < n:
        start = rng.uniform(0, 1024, 2)
        steps = np.cumsum(rng.normal(0, 3, (int(rng.integers(3, 12)), 2)), axis=0)
        paths.append(start + steps)
    rng.shuffle(paths)  # as a generator might emit them
    m = PaperMapping(1024, PAPER, 15.0)
    return [m.to_mm(p) for p in paths]


def vpype_pen_up(svg: Path) -> float:
    import vpype

    doc = vpype.read_multilayer_svg(str(svg), 0.05)
    return sum(layer.pen_up_length()[0] for layer in doc.layers.values()) * 25.4 / 96  # px → mm


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--paths", type=int, default=5000)
    args = ap.parse_args()
    paths = drawing(args.paths)
    out: dict = {"paths": len(paths)}
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "raw.svg"
        write_svg(raw, paths, PAPER)
        out["unordered_pen_up_mm"] = round(vpype_pen_up(raw), 1)
        t0 = time.perf_counter()
        ours = prepare(paths, tolerance=0.0, merge_tol=0.0, start=(0.0, 0.0))
        out["ours_s"] = round(time.perf_counter() - t0, 3)
        mine = Path(d) / "ours.svg"
        write_svg(mine, ours, PAPER)
        out["ours_pen_up_mm"] = round(vpype_pen_up(mine), 1)
        vp = str(Path(sys.executable).with_name("vpype"))
        for name, extra in (("linesort", []), ("linesort_two_opt", ["--two-opt"])):
            dst = Path(d) / f"{name}.svg"
            t0 = time.perf_counter()
            subprocess.run(
                [vp, "read", str(raw), "linesort", *extra, "write", str(dst)], check=True, capture_output=True
            )
            out[f"vpype_{name}_s_incl_io"] = round(time.perf_counter() - t0, 3)
            out[f"vpype_{name}_pen_up_mm"] = round(vpype_pen_up(dst), 1)
    args.json.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
