"""`run.py export --kind clip`: the CLIP image and text encoders as two ONNX files, parity checked.

OUT_DIR/clip_image.onnx: input `images` float32 (B, 3, S, S) RGB in [0, 1] → `embedding` (B, D), L2-normalised
(mean/std inside). OUT_DIR/clip_text.onnx: input `tokens` int32 (B, L) CLIP BPE ids → `embedding` (B, D).
Both carry the same `pair_id` (the checkpoint's sha256) so the runtime never mixes encoders of two models.
Nothing is written unless both pass parity against torch on real drawings and prompts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from installation.core.errors import UserError
from models.clip.base import ClipModel
from models.onnx_parity import FORMAT_VERSION, exporter_versions, procedural_sketches, run_cpu, set_metadata

log = logging.getLogger(__name__)
PARITY_PROMPTS = [
    "a drawing of a cat",
    "a portrait of a smiling woman with long hair",
    "house",
    "a drawing of gramastar, stars, shapes, magick",
    "a red car on a road under a big yellow sun with three birds and clouds in the sky, flowers, trees",
    "",
]


class ImageEncoder(nn.Module):
    def __init__(self, model: ClipModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: Tensor) -> Tensor:  # (B, 3, S, S) [0, 1] → (B, D)
        return self.model.encode_image(images)


class TextEncoder(nn.Module):
    def __init__(self, model: ClipModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: Tensor) -> Tensor:  # (B, L) int32 → (B, D)
        return self.model.encode_tokens(tokens)


def parity_images(size: int, data: Path | None, n: int) -> tuple[np.ndarray, str]:
    """(n, 3, S, S) float32 in [0, 1]: held-out drawings of a CLIP pack, or procedural face sketches."""
    import cv2

    if data is not None:
        from models.clip.data import load_pack
        from models.clip.metrics import held_out

        imgs, _ = held_out(*load_pack(data))
        imgs = imgs[:n]
        source = f"{len(imgs)} held-out drawings of {data}"
    else:
        imgs = np.stack([np.repeat(s[..., None], 3, axis=2) for s in procedural_sketches(size, n)])
        source = f"{len(imgs)} procedurally drawn sketches"
    imgs = np.stack([cv2.resize(i, (size, size), interpolation=cv2.INTER_AREA) for i in imgs])
    return (imgs.transpose(0, 3, 1, 2).astype(np.float32) / 255.0), source


def export_clip(
    checkpoint: Path | None, out_dir: Path, opset: int = 17, tolerance: float = 1e-4, parity_data: Path | None = None,
    parity_count: int = 8, arch: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Write OUT_DIR/clip_image.onnx, clip_text.onnx and clip.parity.json; returns the report."""
    from models.clip.api import DEFAULT_PATH, load_clip

    if opset < 17:
        raise UserError(f"--opset {opset} is too old: use 17 or newer")
    if out_dir.suffix == ".onnx":
        raise UserError(f"--out {out_dir} must be a folder for --kind clip (clip_image.onnx and clip_text.onnx)")
    model = load_clip(checkpoint).eval()
    src = Path(checkpoint) if checkpoint else DEFAULT_PATH
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    images, img_source = parity_images(model.image_size, parity_data, parity_count)
    tokens = model.tokenize(PARITY_PROMPTS).cpu().numpy()  # (P, L) int32

    common = {
        "format_version": FORMAT_VERSION,
        "pair_id": sha,
        "checkpoint_sha256": sha,
        "model_name": getattr(model, "name", f"small-clip-{model.image_size}-d{model.embed_dim}"),
        "config": json.dumps(getattr(getattr(model, "cfg", None), "to_dict", dict)()),
        "input_size": str(model.image_size),
        "embed_dim": str(model.embed_dim),
        "context_length": str(model.context_length),
        "tokenizer": "CLIP BPE (open_clip bpe_simple_vocab_16e6), int32 ids, start/end tokens, zero padding",
        "precision": "fp32",
        "opset": str(opset),
        "exporter": exporter_versions(),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    parts = {
        "clip_image.onnx": (ImageEncoder(model).eval(), images, "images", "clip-image", "RGB in [0, 1], NCHW"),
        "clip_text.onnx": (TextEncoder(model).eval(), tokens, "tokens", "clip-text", "int32 token ids (B, L)"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".clip-export-", dir=out_dir))
    report: dict[str, Any] = {"checkpoint": str(src), "checkpoint_sha256": sha, "opset": opset, "files": {}}
    try:
        for name, (module, x, input_name, kind, norm) in parts.items():
            meta = {**common, "kind": kind, "input_name": input_name, "output_name": "embedding", "normalisation": norm}
            path = work / name
            with torch.inference_mode():
                ref = module(torch.from_numpy(x)).float().numpy()  # (N, D), before export touches train/eval
            _export(module, x, path, input_name, opset, meta)
            got, _ = run_cpu(path, x)
            diff = float(np.abs(got - ref).max())
            source = img_source if kind == "clip-image" else f"{len(x)} prompts"
            report["files"][name] = {"max_abs_diff": diff, "tolerance": tolerance, "count": len(x), "source": source}
            if not diff <= tolerance:
                raise UserError(
                    f"CLIP {kind} export failed parity: ONNX Runtime differs from torch by {diff:.2e} "
                    f"(> {tolerance:.0e}) on {source}; nothing was written"
                )
            set_metadata(path, {"parity": json.dumps(report["files"][name])})
        for name in parts:
            (work / name).replace(out_dir / name)
        (out_dir / "clip.parity.json").write_text(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _export(module: nn.Module, x: np.ndarray, path: Path, input_name: str, opset: int, meta: dict[str, str]) -> None:
    import onnx

    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                (torch.from_numpy(x[:2]),),
                str(path),
                input_names=[input_name],
                output_names=["embedding"],
                opset_version=opset,
                dynamic_axes={input_name: {0: "batch"}, "embedding": {0: "batch"}},
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as e:
        raise UserError(f"torch cannot export this CLIP at opset {opset} ({str(e).splitlines()[0][:200]})") from e
    set_metadata(path, meta)
    onnx.checker.check_model(str(path))
