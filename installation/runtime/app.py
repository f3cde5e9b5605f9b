"""`run.py` / `run.py live`: the installation, from the config (tablet, replay or camera input)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
from pathlib import Path

from installation.core.config import SOURCES
from installation.runtime.cli import add_common_arguments, config_from_args
from installation.runtime.demo import _write_metrics
from installation.runtime.show import Show, ShowOptions

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--source", choices=SOURCES, help="input: tablet, replay or camera")
    parser.add_argument("--camera", help="camera index or video file (with --source camera)")
    parser.add_argument("--session", action="append", type=Path, default=[], help="sessions for replay/attract")


def main(args: argparse.Namespace) -> int:
    extra = []
    if args.source:
        extra.append(f'input.source="{args.source}"')
    if args.camera:
        extra.append(f'input.camera="{args.camera}"')
    cfg = config_from_args(args, extra)
    log.info("effective config: %s", json.dumps(cfg.to_dict()))
    opts = ShowOptions(headless=args.headless, seconds=args.seconds, out_dir=args.out, sessions=args.session)
    show = Show(cfg, opts)
    # a service manager's stop (SIGTERM) ends the show like Q: workers stop, pending works are archived
    signal.signal(signal.SIGTERM, lambda *_: show.stop.set())
    metrics = show.run()
    log.info("metrics: %s", json.dumps(metrics))
    if args.out is not None:
        _write_metrics(args.out, metrics, cfg)
    return 0
