"""Small-CLIP checkpoints that rebuild their own model: the config travels inside the file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from installation.core.errors import UserError
from models.clip.config import ClipConfig
from models.clip.networks import SmallClip

FORMAT = "small-clip-checkpoint"
VERSION = 1


def save_checkpoint(path: Path, model: SmallClip, half: bool = False, **extra: Any) -> None:
    """Atomic: written beside the target, then renamed over it. `half` stores float weights as fp16."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu() for k, v in model.state_dict().items()}
    state = {"format": FORMAT, "version": VERSION, "config": model.cfg.to_dict(), "model": sd}
    state.update(extra)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def is_small_clip(state: Any) -> bool:
    return isinstance(state, dict) and state.get("format") == FORMAT


def model_from_state(state: dict[str, Any], path: Path) -> SmallClip:
    """The model rebuilt from the checkpoint's own config, in eval mode, float32."""
    if state.get("version") != VERSION:
        raise UserError(f"CLIP checkpoint {path} has version {state.get('version')}, this build reads {VERSION}")
    model = SmallClip(ClipConfig.from_dict(state["config"]))
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()})
    except RuntimeError as e:
        raise UserError(f"CLIP checkpoint {path} does not match its own config: it is corrupt") from e
    return model.eval()


def meta_of(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in ("model", "format", "version")}


def load_small_clip(path: Path) -> SmallClip:
    return model_from_state(load_state(path), path)


def load_state(path: Path) -> dict[str, Any]:
    """The checkpoint's dict (weights as stored, config, meta); one clear line if it is not one of ours."""
    if not path.is_file():
        raise UserError(f"CLIP checkpoint {path} does not exist: give the path of a train-clip best.pt or last.pt")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for truncated or foreign files
        raise UserError(
            f"CLIP checkpoint {path} cannot be read ({type(e).__name__}): it is truncated or not one"
        ) from e
    if not is_small_clip(state):
        raise UserError(f"{path} is not a small-CLIP checkpoint of this project (no '{FORMAT}' marker)")
    return state
