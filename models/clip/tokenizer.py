"""The small CLIP's tokenizer: CLIP's BPE (installation/core/clip_tokens.py, the same ids as open_clip's
SimpleTokenizer), int32 (B, context_length). One tokenizer for training, export and the live ONNX scorer."""

from __future__ import annotations

import numpy as np

from installation.core.clip_tokens import load_tokenizer
from installation.core.clip_tokens import tokenize as _tokenize


def tokenize(texts: list[str], context_length: int) -> np.ndarray:
    """(B, context_length) int32 token ids."""
    return _tokenize(texts, context_length)


def decode(ids: np.ndarray | list[int]) -> str:
    """Token ids back to (cleaned) text, without start/end/padding."""
    return load_tokenizer().decode([int(i) for i in ids])
