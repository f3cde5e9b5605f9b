"""Centre-line plotting benchmark: a sitter's drawing.png plotted by `run.py plot` against its own drawing.svg.

    python benchmarks/centreline_bench.py --json benchmarks/centreline-cpu-2core.json

For each sitter style, the sitter's sketcher draws tests/fixtures/faces/face.jpg with the default settings (A4,
600 paths, 5 min at 60 mm/s); the archive record's drawing.svg and drawing.png (the paper at 4 px/mm, 1-px
anti-aliased lines) are written to a temporary folder exactly as the archive writes them; then the real CLI,
`run.py plot drawing.png` and `run.py plot drawing.svg` (A4, and the SVG again onto A3), is run on each. The
figure is the plotted PNG's pen-down against the SVG's: a tracer that follows both sides of each line gives
about twice, a centre-line tracer about the same. The SVG onto A3 should be √2 times the A4 figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FACE = ROOT / "tests" / "fixtures" / "faces" / "face.jpg"
STYLES = ("quick", "portrait", "shaded")


def sitter_record(style: str, folder: Path) -> float:
    """Writes drawing.svg and drawing.png of one sitter portrait into `folder`; returns its pen-down in mm."""
    import cv2
    import numpy as np

    from installation.adapters.faces import FaceDetector, crop_face
    from installation.core.face_sketch import STYLES as S
    from installation.core.face_sketch import sketch_for_time
    from installation.core.plotpaths import PaperMapping, paper_size
    from installation.runtime.sitter.record import record_files

    img = cv2.imread(str(FACE))
    (box,) = FaceDetector().detect(img)
    paper = paper_size("a4")
    plan = sketch_for_time(crop_face(img, box, 256), S[style], 1024, PaperMapping(1024, paper, 15.0), 600, 300.0, 60.0)
    files = record_files(plan.paths_mm, [0.0] * len(plan.paths_mm), paper, np.zeros((8, 8, 3), np.uint8), None)
    for name in ("drawing.svg", "drawing.png"):
        (folder / name).write_bytes(files[name])
    return plan.pen_down_mm


def plot(source: Path, paper: str, out: Path) -> dict:
    js = out.with_suffix(".json")
    cmd = [sys.executable, str(ROOT / "run.py"), "plot", str(source), "--svg", str(out), "--json", str(js)]
    subprocess.run([*cmd, "--paper", paper], check=True, capture_output=True, timeout=600)
    return json.loads(js.read_text())


def one(style: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        planned = sitter_record(style, d)
        png = plot(d / "drawing.png", "a4", d / "png.svg")
        svg = plot(d / "drawing.svg", "a4", d / "svg.svg")
        svg_a3 = plot(d / "drawing.svg", "a3", d / "svg_a3.svg")
    return {
        "style": style,
        "sitter_pen_down_mm": round(planned, 1),
        "svg_pen_down_mm": svg["pen_down_mm"],
        "png_pen_down_mm": png["pen_down_mm"],
        "png_vs_svg": round(png["pen_down_mm"] / svg["pen_down_mm"], 3),
        "png_paths": png["paths"],
        "svg_paths": svg["paths"],
        "png_line_width_mm": png["line_width_mm"],
        "png_plot_s": png["seconds"],
        "svg_a3_pen_down_mm": svg_a3["pen_down_mm"],
        "a3_vs_a4": round(svg_a3["pen_down_mm"] / svg["pen_down_mm"], 4),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "centreline-cpu-2core.json")
    args = ap.parse_args()
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "command": "python benchmarks/centreline_bench.py --json " + str(args.json),
        "styles": [one(s) for s in STYLES],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
