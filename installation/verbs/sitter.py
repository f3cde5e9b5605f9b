"""`run.py sitter`: sitter mode live: the camera in input.camera, the robot bridge in plotter.robot."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from installation.verbs.common import add_common_arguments, config_from_args

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--camera", help="camera index or video file (default: input.camera)")
    parser.add_argument("--sim", action="store_true", help="draw on the in-process robot simulator (no hardware)")
    parser.add_argument("--sim-speed", type=float, default=1.0, help="simulator speed factor")


def main(args: argparse.Namespace) -> int:
    from installation.runtime.sitter.show import SitterOptions, SitterShow

    extra = [f"input.camera={json.dumps(args.camera)}"] if args.camera else []
    cfg = config_from_args(args, extra)
    log.info("effective config: %s", json.dumps(cfg.to_dict()))
    opts = SitterOptions(
        headless=args.headless, seconds=args.seconds, out_dir=args.out, simulate=args.sim, sim_speed=args.sim_speed
    )
    if args.headless and args.out is None:
        opts.out_dir = Path("out/sitter")
    metrics = SitterShow(cfg, opts).run()
    log.info("sitter portraits: %s", json.dumps(metrics["portraits"]))
    return 0
