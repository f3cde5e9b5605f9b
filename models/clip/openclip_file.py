"""OpenAI CLIP and open_clip checkpoints from a local file, through open-clip-torch's model definitions.

Nothing is downloaded: the architecture is built with `pretrained=None` and the user's file supplies every
weight. The file is an OpenAI TorchScript archive (e.g. ViT-B-32.pt) or an open_clip state dict; the model
name comes from the caller or is inferred from the state dict's shapes against open_clip's registered configs.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from installation.core.errors import UserError
from models.clip.base import ClipModel

log = logging.getLogger(__name__)
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
_OPENAI_EXTRA = ("input_resolution", "context_length", "vocab_size")


class OpenClipModel(ClipModel):
    """An open_clip CLIP behind the project's API (mean/std and resizing inside encode_image)."""

    def __init__(self, model: torch.nn.Module, name: str) -> None:
        super().__init__()
        self.model, self.name = model, name
        size = model.visual.image_size
        self.image_size = int(size[0] if isinstance(size, tuple | list) else size)
        self.context_length = int(model.context_length)
        self.embed_dim = int(model.text_projection.shape[1]) if hasattr(model, "text_projection") else 0
        pre = getattr(model.visual, "preprocess_cfg", {}) or {}
        self.register_buffer("mean", torch.tensor(pre.get("mean", OPENAI_MEAN)).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(pre.get("std", OPENAI_STD)).view(1, 3, 1, 1), persistent=False)

    def _image_features(self, x: Tensor) -> Tensor:
        return self.model.encode_image(x)

    def encode_tokens(self, ids: Tensor) -> Tensor:
        return F.normalize(self.model.encode_text(ids.to(self.mean.device).long()), dim=-1)

    def tokenize(self, texts: list[str]) -> Tensor:
        import open_clip

        ids = open_clip.get_tokenizer(self.name)(list(texts))  # (B, L) int64; SimpleTokenizer for CLIP models
        return ids.to(torch.int32).to(self.mean.device)


def read_state_dict(path: Path) -> tuple[dict[str, Tensor], bool]:
    """The file's weights and whether it was an OpenAI TorchScript archive."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.load's deprecation notice: OpenAI ships TorchScript
            archive = torch.jit.load(str(path), map_location="cpu")
        return {k: v for k, v in archive.state_dict().items() if k not in _OPENAI_EXTRA}, True
    except Exception:  # not TorchScript: a plain state dict
        pass
    try:
        state: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise UserError(
            f"CLIP file {path} cannot be read ({type(e).__name__}): give an OpenAI .pt or an open_clip state dict"
        ) from e
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or "token_embedding.weight" not in {re.sub(r"^module\.", "", k) for k in state}:
        raise UserError(f"CLIP file {path} holds no CLIP state dict (no token_embedding.weight)")
    return {re.sub(r"^module\.", "", k): v for k, v in state.items() if k not in _OPENAI_EXTRA}, False


def signature(sd: dict[str, Tensor]) -> dict[str, int]:
    """Shapes that pick a ViT CLIP architecture out of a state dict."""
    if "visual.conv1.weight" not in sd:
        raise UserError("only ViT CLIP files are inferred; name the architecture with --clip-arch (e.g. RN50)")
    width, _, patch, _ = sd["visual.conv1.weight"].shape
    grid = round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    return {
        "width": int(width),
        "patch_size": int(patch),
        "image_size": int(grid * patch),
        "layers": len({k.split(".")[3] for k in sd if k.startswith("visual.transformer.resblocks.")}),
        "embed_dim": int(sd["text_projection"].shape[1]),
        "text_width": int(sd["token_embedding.weight"].shape[1]),
        "text_layers": len({k.split(".")[2] for k in sd if k.startswith("transformer.resblocks.")}),
    }


def infer_arch(sd: dict[str, Tensor], openai: bool) -> str:
    """The open_clip config name whose shapes match the state dict (QuickGELU variants for OpenAI files)."""
    from open_clip.factory import _MODEL_CONFIGS

    sig = signature(sd)
    found = []
    for name, cfg in _MODEL_CONFIGS.items():
        v, t = cfg.get("vision_cfg", {}), cfg.get("text_cfg", {})
        if v.get("timm_model_name") or t.get("hf_model_name") or not isinstance(v.get("layers"), int):
            continue
        size = v.get("image_size", 224)
        cand = {
            "width": v.get("width", 768),
            "patch_size": v.get("patch_size"),
            "image_size": size[0] if isinstance(size, list | tuple) else size,
            "layers": v.get("layers"),
            "embed_dim": cfg.get("embed_dim"),
            "text_width": t.get("width", 512),
            "text_layers": t.get("layers", 12),
        }
        if cand == sig and not any(s in name for s in ("SigLIP", "CLIPA", "worldwide", "coca", "xlm", "mt5")):
            found.append(name)
    quick = [n for n in found if n.endswith("-quickgelu") == openai]
    pick = sorted(quick or found, key=len)
    if not pick:
        raise UserError(f"no open_clip architecture matches this file's shapes {sig}: name it with --clip-arch")
    return pick[0]


def load_openclip_file(path: Path, arch: str | None = None, device: str = "cpu") -> OpenClipModel:
    import open_clip

    sd, openai = read_state_dict(path)
    name = arch or infer_arch(sd, openai)
    try:
        model = open_clip.create_model(name, pretrained=None, device="cpu")
    except RuntimeError as e:
        raise UserError(f"unknown open_clip architecture {name!r}: see open_clip.list_models()") from e
    try:
        result = model.load_state_dict(sd, strict=False)
    except RuntimeError as e:  # shape mismatches
        raise UserError(f"CLIP file {path} does not fit architecture {name}: {_first_mismatch(e)}") from e
    unexpected = [k for k in result.unexpected_keys if not k.endswith("attn_mask")]  # traced archives keep masks
    if result.missing_keys or unexpected:
        what = f"missing {result.missing_keys[:3]}" if result.missing_keys else f"unexpected {unexpected[:3]}"
        raise UserError(f"CLIP file {path} does not fit architecture {name}: {what}; name it with --clip-arch")
    log.info("CLIP %s loaded from %s (%s)", name, path, "OpenAI archive" if openai else "state dict")
    return OpenClipModel(model, name).to(device).eval()


def _first_mismatch(e: RuntimeError) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if "size mismatch" in ln]
    return (lines[0] if lines else str(e).splitlines()[0])[:200]
