"""Command-line arguments shared by the live verbs (live, demo, record) and how they become a config."""

from __future__ import annotations

import argparse
from pathlib import Path

from installation.core.config import LAYOUTS, AppConfig, load_config
from installation.core.files import check_writable


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="venue TOML file layered over the packaged defaults")
    parser.add_argument(
        "--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override one config value"
    )
    parser.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    parser.add_argument("--headless", action="store_true", help="no window (SDL dummy driver); needs --out")
    parser.add_argument("--seconds", type=float, help="stop after this many seconds")
    parser.add_argument("--out", type=Path, help="headless: write frames/ and metrics.json here")
    parser.add_argument("--layout", choices=LAYOUTS, help="side, ai or overlay")
    parser.add_argument("--hud", action="store_true", help="show the HUD from the start")
    parser.add_argument("--model", help="ONNX model file (default: the embedded model)")
    parser.add_argument("--require-gpu", action="store_true", help="fail at start-up if inference is on CPU")


def config_from_args(args: argparse.Namespace, extra: list[str] | None = None) -> AppConfig:
    """Defaults → venue file → verb-implied settings (`extra`) → explicit flags → --set overrides."""
    check_writable(args.out, "--out", folder=True)  # before a show that would lose its frames
    overrides = list(extra or [])
    if args.windowed or args.headless:
        overrides.append("display.fullscreen=false")
    if args.layout:
        overrides.append(f'display.layout="{args.layout}"')
    if args.hud:
        overrides.append("display.hud=true")
    if args.model:
        overrides.append(f"model.path={_toml_str(args.model)}")
        overrides.append('model.gpu_path=""')  # the named file is the model, on any provider
        overrides.append('model.tier="auto"')
    if args.require_gpu:
        overrides.append("model.require_gpu=true")
    overrides += args.set
    return load_config(args.config, overrides)


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


ROOT = Path(__file__).resolve().parents[2]


def repo_path(path: Path) -> str:
    """A path as a report records it: relative to the repository when inside it (reports travel between
    machines), else as given."""
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(path)
