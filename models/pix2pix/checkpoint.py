"""Checkpoints that rebuild their own model: the config travels inside the file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from installation.core.errors import UserError
from models.pix2pix.config import Pix2PixConfig
from models.pix2pix.networks import UnetGenerator

FORMAT = "pix2pix-checkpoint"
VERSION = 1


def save_checkpoint(path: Path, generator: nn.Module, cfg: Pix2PixConfig, **extra: Any) -> None:
    """Atomic: written beside the target, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"format": FORMAT, "version": VERSION, "config": cfg.to_dict(), "generator": generator.state_dict()}
    state.update(extra)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def read_checkpoint(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"checkpoint {path} does not exist: train one with `python run.py train` or fix the path")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for truncated or foreign files
        raise UserError(f"checkpoint {path} cannot be read ({type(e).__name__}): it is truncated or not ours") from e
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise UserError(f"{path} is not a pix2pix checkpoint of this project (no '{FORMAT}' marker)")
    if state.get("version") != VERSION:
        raise UserError(f"checkpoint {path} has version {state.get('version')}, this build reads {VERSION}")
    return state


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_generator(
    path: Path, expect_resolution: int | None = None
) -> tuple[UnetGenerator, Pix2PixConfig, dict[str, Any]]:
    """The generator rebuilt from the checkpoint's own config, in eval mode, plus metadata."""
    state = read_checkpoint(path)
    cfg = Pix2PixConfig.from_dict(state["config"])
    if expect_resolution is not None and cfg.resolution != expect_resolution:
        raise UserError(
            f"checkpoint {path} is for {cfg.resolution}² but {expect_resolution}² is asked for: "
            "use a matching checkpoint or change the resolution"
        )
    g = UnetGenerator(cfg)
    try:
        g.load_state_dict(state["generator"])
    except RuntimeError as e:
        raise UserError(f"checkpoint {path} does not match its own config: it is corrupt") from e
    g.eval()
    meta = {k: v for k, v in state.items() if k in ("epoch", "step", "metrics", "seed", "data", "wall_s")}
    meta["sha256"] = file_sha256(path)
    return g, cfg, meta
