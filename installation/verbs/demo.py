"""`run.py demo`: the embedded sessions replayed through the real pipeline (window, or headless to files)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from installation.core.config import AppConfig
from installation.core.errors import UserError
from installation.runtime.show import Show, ShowOptions
from installation.verbs.common import add_common_arguments, config_from_args

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--session", action="append", type=Path, default=[], help="session file(s) to replay")
    parser.add_argument("--speed", type=float, help="replay speed (2 = twice as fast); sitter: robot speed factor")
    parser.add_argument("--mode", choices=("replay", "sitter"), default="replay", help="what the demo shows")
    parser.add_argument("--image", type=Path, help="sitter: a photo of the sitter (the fake camera replays it)")
    parser.add_argument("--video", type=Path, help="sitter: a video of the sitter, played once")
    parser.add_argument("--present", type=float, help="sitter: seconds the sitter in --image stays in view")


def run_headless(config: AppConfig, seconds: float, out_dir: Path | None, sessions: list[Path] | None = None) -> dict:
    """Run the show without a window for `seconds`; returns the metrics (and writes them under out_dir)."""
    opts = ShowOptions(headless=True, seconds=seconds, out_dir=out_dir, sessions=sessions or [])
    metrics = Show(config, opts).run()
    if out_dir is not None:
        _write_metrics(out_dir, metrics, config)
    return metrics


def run_sitter_demo(config: AppConfig, source: Path, opts_kw: dict) -> dict:
    """The sitter loop on a file through the in-process robot simulator; stops after the first portrait."""
    from installation.runtime.sitter.show import SitterOptions, SitterShow

    opts = SitterOptions(source=source, simulate=True, until_done=True, **opts_kw)
    metrics = SitterShow(config, opts).run()
    if opts.out_dir is not None:
        _write_metrics(opts.out_dir, metrics, config)
    return metrics


def _sitter_main(args: argparse.Namespace) -> int:
    source = args.image or args.video
    if source is None or (args.image and args.video):
        raise UserError("demo --mode sitter needs one of --image FILE or --video FILE")
    if not source.is_file():
        raise UserError(f"sitter input {source} does not exist: give a photo (--image) or a video (--video) file")
    if args.headless and args.out is None:
        raise UserError("--headless needs --out DIR for the frames, metrics.json and the archive")
    extra = []
    if args.out is not None:
        extra.append(f"sitter.archive={json.dumps(str((args.out / 'archive').resolve()))}")
    cfg = config_from_args(args, extra)
    log.info("effective config: %s", json.dumps(cfg.to_dict()))
    speed = args.speed or 1.0
    seconds = args.seconds or 60.0 + cfg.sitter.target_minutes * 60.0 * 1.5 / speed  # room for one portrait
    kw = dict(headless=args.headless, seconds=seconds, out_dir=args.out, present_s=args.present, give_up_s=30.0)
    metrics = run_sitter_demo(cfg, source, {**kw, "sim_speed": speed})
    log.info("sitter portraits: %s", json.dumps(metrics["portraits"]))
    return 0


def main(args: argparse.Namespace) -> int:
    if args.mode == "sitter":
        return _sitter_main(args)
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
