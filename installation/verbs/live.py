"""`run.py` / `run.py live`: the installation, from the config (tablet, replay or camera input)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
from pathlib import Path

from installation.core.config import SOURCES, AppConfig
from installation.runtime.show import Show, ShowOptions
from installation.verbs.common import add_common_arguments, config_from_args
from installation.verbs.demo import _write_metrics

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--source", choices=SOURCES, help="input: tablet, replay or camera")
    parser.add_argument("--camera", help="camera index or video file (with --source camera)")
    parser.add_argument("--session", action="append", type=Path, default=[], help="sessions for replay/attract")


def main(args: argparse.Namespace) -> int:
    show, cfg = build_show(args)
    return serve(show, cfg, args.out)


def build_show(args: argparse.Namespace) -> tuple[Show, AppConfig]:
    extra = []
    if args.source:
        extra.append(f'input.source="{args.source}"')
    if args.camera:
        extra.append(f'input.camera="{args.camera}"')
    cfg = config_from_args(args, extra)
    log.info("effective config: %s", json.dumps(cfg.to_dict()))
    opts = ShowOptions(headless=args.headless, seconds=args.seconds, out_dir=args.out, sessions=args.session)
    return Show(cfg, opts), cfg


def serve(show: Show, cfg: AppConfig, out: Path | None) -> int:
    """Run the show until Q, `--seconds` or SIGTERM; metrics.json under `out`. A service manager's stop
    (SIGTERM) ends the show like Q: pending works are archived, within the show's shutdown budget (a stuck
    worker is left behind), so the process exits within 5 s with its metrics written."""
    signal.signal(signal.SIGTERM, lambda *_: show.stop.set())
    metrics = show.run()
    log.info("metrics: %s", json.dumps(metrics))
    if out is not None:
        _write_metrics(out, metrics, cfg)
    return 0
