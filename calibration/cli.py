"""`run.py calibrate STEP`: each step headless (from files and numbers) or live (a camera, a window).

python run.py calibrate camera  --images "shots/*.png" --pattern 9x6 --json camera.json [--profile venue.json]
python run.py calibrate camera  --live 0 --pattern 9x6 --profile venue.json        # window with guidance
python run.py calibrate markers --paper a4 --out sheet.pdf
python run.py calibrate paper   --image photo.jpg --paper a4 --profile venue.json --preview sketch.png
python run.py calibrate paper   --live 0 --paper a4 --profile venue.json           # window: camera | sketch
python run.py calibrate tablet  --area 0.05,0.05,0.95,0.95 --rotation 0 --profile venue.json
python run.py calibrate tablet  --live --profile venue.json                        # touch two corners
python run.py calibrate plotter --corners "12,10 298,11 297,219 11,218" --paper a4 --profile venue.json
python run.py calibrate accuracy --json benchmarks/calibration-cpu-2core.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from calibration.camera import calibrate_views, load_views, parse_pattern
from calibration.profile import (
    CameraSection,
    PaperSection,
    PlotterSection,
    TabletSection,
    load_or_new,
    save_profile,
)
from installation.core.errors import UserError
from installation.core.files import write_text_atomic
from installation.core.plotpaths import paper_size
from installation.core.registration import Registration

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="step", required=True)
    cam = sub.add_parser("camera", help="intrinsics from chessboard photographs or a live camera")
    src = cam.add_mutually_exclusive_group(required=True)
    src.add_argument("--images", help="a quoted glob of chessboard photographs")
    src.add_argument("--live", metavar="CAMERA", help="camera index or video file: a window guides the views")
    cam.add_argument("--pattern", default="9x6", help="inner corners, COLSxROWS")
    cam.add_argument("--square-mm", type=float, default=25.0)
    cam.add_argument("--views", type=int, default=15, help="--live: good views to collect")
    cam.add_argument("--json", type=Path, help="write the intrinsics here")
    cam.add_argument("--profile", type=Path, help="update this venue profile's camera section")
    mk = sub.add_parser("markers", help="a printable sheet with the four corner markers")
    mk.add_argument("--paper", default="a4")
    mk.add_argument("--dpi", type=int, default=150)
    mk.add_argument("--out", type=Path, required=True, help=".png or .pdf")
    pa = sub.add_parser("paper", help="find the paper under the camera and check the rectified sketch")
    psrc = pa.add_mutually_exclusive_group(required=True)
    psrc.add_argument("--image", type=Path, help="a photograph from the installed camera")
    psrc.add_argument("--live", metavar="CAMERA", help="camera index or video file: a live preview window")
    pa.add_argument("--paper", default="a4")
    pa.add_argument("--no-markers", action="store_true", help="the paper has no corner markers")
    pa.add_argument("--threshold", type=float, default=0.5, help="ink keeps less than this share of the light")
    pa.add_argument("--preview", type=Path, help="write the rectified sketch here (PNG)")
    pa.add_argument("--profile", type=Path, help="update this venue profile (its camera section is used)")
    tb = sub.add_parser("tablet", help="tablet surface → canvas: area, rotation, margins")
    tb.add_argument("--area", default="0,0,1,1", help="x0,y0,x1,y1 of the surface to use, 0..1")
    tb.add_argument("--rotation", type=int, default=0, choices=(0, 90, 180, 270))
    tb.add_argument("--margin", type=float, default=0.0)
    tb.add_argument("--aspect", type=float, default=1.6, help="the surface's physical width / height")
    tb.add_argument("--live", action="store_true", help="a window: touch the area's two corners with the pen")
    tb.add_argument("--profile", type=Path, required=True)
    pl = sub.add_parser("plotter", help="register plotter millimetres to the paper/canvas")
    pts = pl.add_mutually_exclusive_group(required=True)
    pts.add_argument("--corners", help='plotter "x,y" readings at the paper\'s TL TR BR BL corners, space-separated')
    pts.add_argument("--points", help='measured pairs "px,py=mx,my;..." (a point on the paper, mm = plotter mm)')
    pts.add_argument("--ask", action="store_true", help="prompt for the four corner readings in the terminal")
    pl.add_argument("--paper", default="a4")
    pl.add_argument("--margin-mm", type=float, default=15.0)
    pl.add_argument("--kind", default="auto", choices=("auto", "affine", "homography"))
    pl.add_argument("--profile", type=Path, required=True)
    ac = sub.add_parser("accuracy", help="accuracy benchmark: synthetic paper scenes and real chessboard photos")
    ac.add_argument("--scenes", type=int, default=10)
    ac.add_argument("--images", help="chessboard photographs (default: the committed OpenCV samples)")
    ac.add_argument("--json", type=Path, required=True)


def main(args: argparse.Namespace) -> int:
    steps = {
        "camera": _camera,
        "markers": _markers,
        "paper": _paper,
        "tablet": _tablet,
        "plotter": _plotter,
        "accuracy": _accuracy,
    }
    return steps[args.step](args)


def _camera(args: argparse.Namespace) -> int:
    if args.json is None and args.profile is None:
        raise UserError("calibrate camera needs --json OUT and/or --profile FILE to write the result to")
    pattern = parse_pattern(args.pattern)
    if args.live is not None:
        from calibration.interactive import live_camera

        intr = live_camera(args.live, pattern, args.square_mm, args.views)
    else:
        intr = calibrate_views(load_views(args.images), pattern, args.square_mm)
    if args.json is not None:
        write_json(args.json, intr.to_json())
    if args.profile is not None:
        section = CameraSection(intr.camera_matrix, intr.dist_coeffs, list(intr.image_size), intr.rms)
        save_profile(args.profile, load_or_new(args.profile).replace(camera=section))
    log.info("rms %.3f px from %d views (%d rejected)", intr.rms, len(intr.views_used), len(intr.views_rejected))
    print(f"rms {intr.rms:.3f} px from {len(intr.views_used)} views ({len(intr.views_rejected)} rejected)")
    return 0


def _markers(args: argparse.Namespace) -> int:
    from calibration.markers import write_sheet

    write_sheet(args.out, paper_size(args.paper), args.dpi)
    print(f"marker sheet {args.out} ({args.paper}): print at 100 %, markers in the corners")
    return 0


def _paper(args: argparse.Namespace) -> int:
    import cv2

    from calibration.paper import rectifier_for

    profile = load_or_new(args.profile) if args.profile else None
    camera = profile.camera if profile is not None else None
    section = PaperSection(list(paper_size(args.paper)), not args.no_markers, args.threshold)
    if args.live is not None:
        from calibration.interactive import live_paper

        ok = live_paper(args.live, section, camera)
        if not ok:
            raise UserError("paper step ended without a confirmed paper: nothing written")
    else:
        frame = cv2.imread(str(args.image))
        if frame is None:
            raise UserError(f"cannot read image {args.image}: give a photograph (PNG/JPEG) from the camera")
        r = rectifier_for(section, camera, 1024)
        sketch = r.sketch(frame)
        if sketch is None:
            raise UserError(
                f"no paper found in {args.image}: the whole sheet must be in view, brighter than the table"
                + ("" if section.markers else ", or print the marker sheet (calibrate markers)")
            )
        if args.preview is not None and not cv2.imwrite(str(args.preview), sketch):
            raise UserError(f"cannot write {args.preview}: use a .png path in a writable folder")
        corners = ", ".join(f"({x:.1f}, {y:.1f})" for x, y in r.corners)
        print(f"paper found: corners {corners}; ink {(sketch < 128).mean() * 100:.1f} % of the canvas")
    if args.profile is not None:
        save_profile(args.profile, load_or_new(args.profile).replace(paper=section))
    return 0


def _tablet(args: argparse.Namespace) -> int:
    area = _floats(args.area, 4, "--area")
    if args.live:
        from calibration.interactive import live_tablet

        picked = live_tablet()
        if picked is None:
            raise UserError("tablet step cancelled: nothing written")
        area = picked
    section = TabletSection(area, args.rotation, args.margin, args.aspect)
    section.mapping()  # validates, with a message naming the bad value
    save_profile(args.profile, load_or_new(args.profile).replace(tablet=section))
    print(f"tablet area {area}, rotation {args.rotation}°, margin {args.margin} → {args.profile}")
    return 0


def _plotter(args: argparse.Namespace) -> int:
    paper = paper_size(args.paper)
    if args.points:
        paper_pts, mm_pts = [], []
        for pair in args.points.split(";"):
            if "=" not in pair:
                raise UserError(f"--points item {pair!r} must be px,py=mx,my (paper mm = plotter mm)")
            left, right = pair.split("=", 1)
            paper_pts.append(_floats(left, 2, "--points paper x,y"))
            mm_pts.append(_floats(right, 2, "--points plotter x,y"))
    else:
        if args.ask:
            mm_pts = _ask_corners()
        else:
            readings = args.corners.split()
            if len(readings) != 4:
                raise UserError('--corners needs four "x,y" readings (TL TR BR BL), separated by spaces')
            mm_pts = [_floats(r, 2, "--corners x,y") for r in readings]
        w, h = paper
        paper_pts = [[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]  # the sheet's own corners
    reg = Registration.fit(np.array(paper_pts), np.array(mm_pts), args.kind)
    points = [[*c, *m] for c, m in zip(paper_pts, mm_pts, strict=True)]
    section = PlotterSection(
        [list(r) for r in reg.matrix],
        reg.kind,
        reg.residual_mm,
        reg.max_residual_mm,
        points,
        list(paper),
        args.margin_mm,
    )
    save_profile(args.profile, load_or_new(args.profile).replace(plotter=section))
    print(
        f"plotter {reg.kind} from {len(points)} points: residual {reg.residual_mm:.2f} mm rms, "
        f"{reg.max_residual_mm:.2f} mm max → {args.profile}"
    )
    return 0


CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")


def _ask_corners(ask: Callable[[str], str] = input, interactive: bool | None = None) -> list[list[float]]:
    """The four jog readings, each checked as it is typed: at a terminal a malformed one is asked again; from a
    pipe or file it is refused at once, naming the corner. Input that ends early is one line, nothing written."""
    if interactive is None:
        interactive = sys.stdin.isatty()
    readings = []
    for name in CORNERS:
        while True:
            try:
                text = ask(f"jog the pen to the paper's {name} corner; plotter x,y in mm: ").strip()
            except EOFError:
                if interactive:
                    print()  # the prompt's line ends before the error line
                raise UserError(
                    f"calibrate plotter --ask: the input ended before the {name} reading; nothing written "
                    '(type four x,y readings, or give them with --corners "x,y x,y x,y x,y")'
                ) from None
            try:
                readings.append(_floats(text, 2, f"the {name} reading"))
                break
            except UserError as e:
                if not interactive:
                    raise UserError(f"calibrate plotter --ask: {e} (e.g. 12.5,10); nothing written") from None
                print(f"{e} (e.g. 12.5,10): try again", file=sys.stderr)
    return readings


def _accuracy(args: argparse.Namespace) -> int:
    import platform
    import time

    from calibration.accuracy import chessboard_accuracy, default_chessboard_glob, paper_accuracy, rectifier_speed

    t0 = time.perf_counter()
    runs = [
        paper_accuracy(args.scenes, markers=False, lens=False),
        paper_accuracy(args.scenes, markers=False, lens=True),
        paper_accuracy(args.scenes, markers=True, lens=True),
        paper_accuracy(args.scenes, markers=True, lens=True, white_desk=True),
    ]
    images = args.images or default_chessboard_glob()
    board = chessboard_accuracy(images) if images else None
    out = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "paper": runs,
        "chessboard": board,
        "rectifier": rectifier_speed(),
        "seconds": round(time.perf_counter() - t0, 1),
        "command": "python run.py calibrate accuracy --json " + str(args.json),
    }
    write_json(args.json, out)
    for r in runs:
        print(
            f"paper markers={r['markers']} lens={r['lens_distortion']} white_desk={r['white_desk']}: corners max "
            f"{r['corner_error_px_max']:.2f} px, ink IoU min {r['ink_iou_min']:.3f} mean {r['ink_iou_mean']:.3f}"
        )
    print(f"rectifier {out['rectifier']['ms_per_frame']} ms per 640×480 frame → 512²")
    if board:
        print(f"chessboard: ours {board['ours_rms']:.3f} px vs OpenCV {board['opencv_rms']:.3f} px")
    return 0


def _floats(text: str, n: int, what: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != n:
        raise UserError(f"{what} {text!r} must be {n} comma-separated numbers")
    return vals


def write_json(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=2))
