"""`run.py bridge sim|grbl|axidraw`: the robot side of the plotter protocol, as a process of its own."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from installation.core.errors import UserError
from installation.core.plotpaths import paper_size

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=("sim", "grbl", "axidraw"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9100, help="UDP port the bridge listens on")
    p.add_argument("--out", type=Path, default=Path("out/robot"), help="paper record and image")
    p.add_argument("--paper", default="a4")
    p.add_argument("--speed-mm-s", type=float, default=60.0, help="simulated pen speed (0 = instant)")
    p.add_argument("--seconds", type=float, help="stop after this long")
    p.add_argument("--window", action="store_true", help="show the paper in a window (needs a display)")
    p.add_argument(
        "--paper-stdin", action="store_true", help="every line on stdin confirms a fresh sheet (default on a terminal)"
    )
    p.add_argument("--serial", help="GRBL: serial port, e.g. /dev/ttyUSB0")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--pen", choices=("servo", "z"), default="servo")
    p.add_argument("--pen-up", type=float, default=0.0)
    p.add_argument("--pen-down", type=float, default=1000.0)
    p.add_argument("--feed", type=float, default=3000.0, help="drawing feed, mm/min")


def _paper_from_stdin(bridge: object) -> None:
    """The bridge-side "new sheet" button: every line on the terminal confirms a fresh sheet."""
    for _ in sys.stdin:
        bridge.confirm_paper()  # type: ignore[attr-defined]


def main(args: argparse.Namespace) -> int:
    common = dict(host=args.host, port=args.port, out=args.out, paper_mm=paper_size(args.paper))
    if args.kind == "sim":
        from installation.bridges.simulator import Simulator

        bridge = Simulator(speed_mm_s=args.speed_mm_s, **common)  # type: ignore[arg-type]
    elif args.kind == "grbl":
        from installation.bridges.grbl import GrblBridge, PenSettings

        if not args.serial:
            raise UserError("bridge grbl needs --serial PORT (e.g. /dev/ttyUSB0)")
        pen = PenSettings(args.pen, args.pen_up, args.pen_down, args.feed)
        bridge = GrblBridge(args.serial, args.baud, pen, speed_mm_s=0.0, **common)
    else:
        from installation.bridges.axidraw import AxiDrawBridge

        bridge = AxiDrawBridge(speed_mm_s=0.0, **common)
    log.info("robot bridge %s listening on %s:%d, paper record in %s", args.kind, args.host, bridge.port, args.out)
    if args.paper_stdin or (sys.stdin is not None and sys.stdin.isatty()):
        threading.Thread(target=_paper_from_stdin, args=(bridge,), name="paper-key", daemon=True).start()
        log.info("press Enter here when a fresh sheet is in place (jobs that ask for a new sheet wait for it)")
    bridge.serve(args.seconds, window=args.window)
    return 0
