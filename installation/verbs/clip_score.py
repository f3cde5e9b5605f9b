"""`run.py clip-score`: cosine similarity of one image with each prompt, as JSON.

The embedded small CLIP runs through ONNX Runtime (installation/runtime/clip_score.py); `--clip PATH` loads a
checkpoint (this project's small CLIP, an OpenAI CLIP .pt or an open_clip state dict) in torch.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import cv2
import numpy as np

from installation.core.errors import UserError

log = logging.getLogger(__name__)
MAX_PROMPT_CHARS = 1_000  # CLIP reads 77 tokens (a few hundred characters at most); beyond this is not a prompt
MAX_PROMPTS = 256


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", type=Path, required=True, help="PNG/JPEG image to score")
    parser.add_argument("--prompts", required=True, help='prompts separated by "|", e.g. "a cat|a house"')
    parser.add_argument("--clip", type=Path, help="a CLIP checkpoint file, scored in torch (default: embedded ONNX)")
    parser.add_argument("--clip-arch", help="open_clip architecture of --clip (default: inferred from its shapes)")
    parser.add_argument("--models", type=Path, help="folder of clip_image.onnx + clip_text.onnx (default: assets)")
    parser.add_argument("--json", type=Path, required=True, help="output JSON")


def parse_prompts(text: str) -> list[str]:
    prompts = [p.strip() for p in text.split("|")]
    if not prompts or not all(prompts):
        raise UserError(
            f'--prompts {text[:40]!r} has an empty prompt: give texts separated by "|", e.g. "a cat|a house"'
        )
    if len(prompts) > MAX_PROMPTS:
        raise UserError(f"--prompts holds {len(prompts)} prompts: give at most {MAX_PROMPTS}")
    longest = max(prompts, key=len)
    if len(longest) > MAX_PROMPT_CHARS:
        raise UserError(
            f"--prompts: the prompt {longest[:30]!r}… is {len(longest):,} characters long; CLIP reads only the "
            f"first 77 tokens: keep each prompt under {MAX_PROMPT_CHARS:,} characters"
        )
    return prompts


def read_rgb(path: Path) -> np.ndarray:
    if not path.is_file():
        raise UserError(f"--image {path} does not exist: give a PNG or JPEG file")
    from installation.core.image_files import image_size

    image_size(path, "--image")  # from the header: a huge image is refused before it is decoded
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise UserError(f"--image {path} is not a readable image: give a PNG or JPEG file")
    return np.ascontiguousarray(img[:, :, ::-1])  # BGR → RGB


def main(args: argparse.Namespace) -> int:
    prompts = parse_prompts(args.prompts)
    rgb = read_rgb(args.image)  # (H, W, 3) uint8
    if args.clip is None:
        from installation.runtime.clip_score import ASSETS, ClipScorer

        scorer = ClipScorer(args.models or ASSETS)
        scores, model, backend = scorer.score(rgb, prompts), scorer.name, "onnxruntime"
    else:
        import torch

        from models.clip.api import load_clip

        clip = load_clip(args.clip, arch=args.clip_arch)
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255.0  # (1, 3, H, W) in [0, 1]
        scores, model, backend = clip.score(x, prompts)[0], str(args.clip), "torch"
    result = {
        "image": str(args.image),
        "model": model,
        "backend": backend,
        "scores": [{"prompt": p, "cosine": round(float(s), 6)} for p, s in zip(prompts, scores, strict=True)],
        "best": prompts[int(np.argmax(scores))],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    for p, s in zip(prompts, scores, strict=True):
        print(f"{float(s):+.4f}  {p}")
    return 0
