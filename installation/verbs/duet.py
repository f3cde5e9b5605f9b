"""`run.py duet`: the artist and the robot take turns on one sheet (the window's pen, or a recorded artist).

python run.py duet --sim                                  # draw in the window; the simulator is the robot
python run.py duet --session installation/assets/sessions/face_02.jsonl --sim --headless --out out/duet --turns 3
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from installation.core.config import AppConfig
from installation.core.errors import UserError
from installation.verbs.common import add_common_arguments, config_from_args

log = logging.getLogger(__name__)
DEFAULT_SESSION = Path(__file__).resolve().parents[1] / "assets" / "sessions" / "face_02.jsonl"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    add_duet_arguments(parser)
    parser.add_argument("--session", type=Path, help="a recorded session plays the artist's part (no tablet needed)")


def add_duet_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sim", action="store_true", help="the robot simulator in this process (no bridge needed)")
    parser.add_argument("--turns", type=int, help="stop after this many AI turns (and archive the duet)")
    parser.add_argument("--prompt", help="what the AI draws towards (default duet.prompt, else steer.prompts[0])")


def duet_config(args: argparse.Namespace, extra: list[str] | None = None) -> AppConfig:
    extra = list(extra or [])
    if args.prompt:
        extra.append(f"duet.prompt={json.dumps(args.prompt)}")
    if args.out is not None:
        extra.append(f"duet.archive={json.dumps(str((args.out / 'archive').resolve()))}")
    return config_from_args(args, extra)


def run_duet(args: argparse.Namespace, session: Path | None, speed: float = 1.0) -> dict:
    from installation.runtime.duet import DuetOptions, DuetShow
    from installation.verbs.demo import _write_metrics

    if args.headless and args.out is None:
        raise UserError("--headless needs --out DIR for the frames, metrics.json and the archive")
    if args.turns is not None and args.turns < 1:
        raise UserError(f"--turns {args.turns}: give at least 1 AI turn")
    if session is not None and not session.is_file():
        raise UserError(f"session {session} does not exist: give a recorded session (.jsonl) with --session")
    if args.headless and session is None:
        raise UserError("a headless duet needs a recorded artist: pass --session FILE.jsonl")
    cfg = duet_config(args)
    log.info("effective config: %s", json.dumps(cfg.to_dict()))
    opts = DuetOptions(
        headless=args.headless, seconds=args.seconds, out_dir=args.out, session=session, simulate=args.sim,
        turns=args.turns, replay_speed=speed,
    )  # fmt: skip
    metrics = DuetShow(cfg, opts).run()
    if args.out is not None:
        _write_metrics(args.out, metrics, cfg)
    log.info("duet: %s", json.dumps({k: metrics[k] for k in ("turns", "ai_strokes", "ai_crossing_final", "archived")}))
    return metrics


def main(args: argparse.Namespace) -> int:
    run_duet(args, args.session)
    return 0
