"""`run.py demo`: the embedded sessions replayed through the real pipeline (window, or headless to files)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from installation.core.config import AppConfig
from installation.core.errors import UserError
from installation.runtime.cli import add_common_arguments, config_from_args
from installation.runtime.show import Show, ShowOptions

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--session", action="append", type=Path, default=[], help="session file(s) to replay")
    parser.add_argument("--speed", type=float, help="replay speed (2 = twice as fast)")


def run_headless(config: AppConfig, seconds: float, out_dir: Path | None, sessions: list[Path] | None = None) -> dict:
    """Run the show without a window for `seconds`; returns the metrics (and writes them under out_dir)."""
    opts = ShowOptions(headless=True, seconds=seconds, out_dir=out_dir, sessions=sessions or [])
    metrics = Show(config, opts).run()
    if out_dir is not None:
        _write_metrics(out_dir, metrics, config)
    return metrics


def main(args: argparse.Namespace) -> int:
    extra = ['input.source="replay"', "archive.enabled=false"]  # a demo is not visitors' work
    if args.speed:
        extra.append(f"input.replay_speed={args.speed}")
    cfg = config_from_args(args, extra)
    log.info("effective config: %s", json.dumps(cfg.to_dict()))
    if args.headless:
        if args.out is None:
            raise UserError("--headless needs --out DIR for the frames and metrics.json")
        metrics = run_headless(cfg, args.seconds or 20.0, args.out, args.session)
    else:
        opts = ShowOptions(seconds=args.seconds, out_dir=args.out, sessions=args.session)
        metrics = Show(cfg, opts).run()
        if args.out is not None:
            _write_metrics(args.out, metrics, cfg)
    log.info("metrics: %s", json.dumps(metrics))
    return 0


def _write_metrics(out_dir: Path, metrics: dict, cfg: AppConfig) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "metrics.json").write_text(json.dumps({**metrics, "config": cfg.to_dict()}, indent=2))
    except OSError as e:
        raise UserError(f"cannot write metrics to {out_dir} ({e}): choose a writable --out folder") from e
