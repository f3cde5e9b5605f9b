"""`run.py calibrate camera|markers`: headless calibration steps (the interactive ones are still to come).

python run.py calibrate camera --images "shots/*.png" --pattern 9x6 --json camera.json
python run.py calibrate markers --paper a4 --out sheet.pdf
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from calibration.camera import calibrate_views, load_views, parse_pattern
from installation.core.errors import UserError
from installation.core.plotpaths import paper_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="step", required=True)
    cam = sub.add_parser("camera", help="intrinsics from chessboard photographs")
    cam.add_argument("--images", required=True, help="a quoted glob of chessboard photographs")
    cam.add_argument("--pattern", default="9x6", help="inner corners, COLSxROWS")
    cam.add_argument("--square-mm", type=float, default=25.0)
    cam.add_argument("--json", type=Path, required=True)
    mk = sub.add_parser("markers", help="a printable sheet with the four corner markers")
    mk.add_argument("--paper", default="a4")
    mk.add_argument("--dpi", type=int, default=150)
    mk.add_argument("--out", type=Path, required=True, help=".png or .pdf")


def main(args: argparse.Namespace) -> int:
    if args.step == "camera":
        intr = calibrate_views(load_views(args.images), parse_pattern(args.pattern), args.square_mm)
        _write_json(args.json, intr.to_json())
        print(
            f"rms {intr.rms:.3f} px from {len(intr.views_used)} views "
            f"({len(intr.views_rejected)} rejected) → {args.json}"
        )
    else:
        from calibration.markers import write_sheet

        write_sheet(args.out, paper_size(args.paper), args.dpi)
        print(f"marker sheet {args.out}")
    return 0


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(f"cannot write {path} ({e.strerror}): choose a writable --json path") from e
