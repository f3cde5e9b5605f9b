"""`run.py record`: draw with the tablet or mouse; every pen event is written to a session file as it happens."""

from __future__ import annotations

import argparse
import json
import logging
from datetime import datetime
from pathlib import Path

from installation.core.errors import UserError
from installation.core.files import check_writable
from installation.runtime.show import Show, ShowOptions
from installation.verbs.common import add_common_arguments, config_from_args

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--file", type=Path, help="session file to write (default: paths.recordings/DATE.jsonl)")


def main(args: argparse.Namespace) -> int:
    cfg = config_from_args(args, ['input.source="tablet"', "display.attract_after_s=0"])
    if args.file is not None and args.file.exists():
        raise UserError(f"--file {args.file} already exists (an earlier session?): choose another name or move it away")
    target = args.file or _new_recording(cfg.resolve(cfg.paths.recordings))
    check_writable(target, "recording" if args.file is None else "--file")  # before the artist draws, not after
    opts = ShowOptions(headless=args.headless, seconds=args.seconds, out_dir=args.out, record_to=target)
    metrics = Show(cfg, opts).run()
    log.info("metrics: %s", json.dumps(metrics))
    print(f"recorded to {target}")
    return 0


def _new_recording(folder: Path) -> Path:
    """DATE-TIME.jsonl in the recordings folder; -2, -3, … when two sessions start in the same second."""
    stem = f"{datetime.now():%Y%m%d-%H%M%S}"
    path, k = folder / f"{stem}.jsonl", 1
    while path.exists():
        k += 1
        path = folder / f"{stem}-{k}.jsonl"
    return path
