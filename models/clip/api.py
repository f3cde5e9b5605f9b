"""The CLIP API the generators and the runtime use (issue #9).

    model = load_clip()                 # the embedded small CLIP (models/clip/trained/clip_small.pt)
    model = load_clip("ViT-B-32.pt")    # an OpenAI CLIP or open_clip checkpoint from a local file
    img = model.encode_image(x)         # (B, 3, H, W) RGB in [0, 1], any H, W → (B, D), L2-normalised
    txt = model.encode_text(["a cat"])  # → (B, D), L2-normalised; cosine = img @ txt.T

Mean/std normalisation and resizing to `model.image_size` happen inside encode_image, differentiably.
Nothing is ever downloaded: a missing or unreadable file is a UserError naming the file and what to do.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from installation.core.errors import UserError
from models.clip.base import ClipModel
from models.clip.config import TINY

__all__ = ["ClipModel", "load_clip", "load_judge", "tiny_clip", "DEFAULT_PATH", "JUDGE_PATH"]

TRAINED = Path(__file__).resolve().parent / "trained"
DEFAULT_PATH = TRAINED / "clip_small.pt"  # the embedded default
JUDGE_PATH = TRAINED / "clip_judge.pt"  # trained with another seed and data order, for independent evaluation


def load_clip(path: str | Path | None = None, device: str = "cpu", arch: str | None = None) -> ClipModel:
    """A CLIP in eval mode: None → the embedded small CLIP; a small-CLIP checkpoint of this project, an OpenAI
    TorchScript archive or an open_clip state dict (architecture `arch`, or inferred from the shapes)."""
    if path is None:
        return _load_shipped(DEFAULT_PATH, "embedded default CLIP", device)
    p = Path(path)
    if not p.is_file():
        raise UserError(
            f"CLIP file {p} does not exist: place the checkpoint there (e.g. OpenAI's ViT-B-32.pt or an open_clip "
            "state dict) or leave --clip out to use the embedded small CLIP"
        )
    from models.clip.checkpoint import FORMAT, load_small_clip

    if _peek_format(p) == FORMAT:
        return load_small_clip(p).to(device)
    from models.clip.openclip_file import load_openclip_file

    return load_openclip_file(p, arch, device)


def load_judge(device: str = "cpu") -> ClipModel:
    """The independently trained second small CLIP (another seed and data order): for evaluation only."""
    return _load_shipped(JUDGE_PATH, "judge CLIP", device)


def tiny_clip(seed: int = 0) -> ClipModel:
    """A random-weight tiny small CLIP (32² images, 16-d embeddings) for unit tests: fast on CPU."""
    from models.clip.networks import SmallClip

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return SmallClip(TINY).eval()


def _load_shipped(path: Path, what: str, device: str) -> ClipModel:
    from models.clip.checkpoint import load_small_clip

    if not path.is_file():
        raise UserError(
            f"the {what} {path} is missing: restore it from the repository (git checkout -- {path.name}) or train "
            "one with `python run.py train-clip --data data/clip/clip.npz --out runs/clip` and copy best.pt there"
        )
    return load_small_clip(path).to(device)


def _peek_format(path: Path) -> str | None:
    """The 'format' marker of a torch.save'd dict, without failing on other kinds of file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a TorchScript archive (OpenAI) is dispatched to torch.jit.load
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return None
    return state.get("format") if isinstance(state, dict) else None
