"""Text → token ids with open_clip's SimpleTokenizer (its BPE vocabulary ships inside the package).

One tokenizer for the small CLIP, the ONNX scorer and open_clip models: ids as int32 (B, L), start and end
tokens included, zero-padded; longer texts are truncated and keep their end token.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=4)
def _simple(context_length: int):  # noqa: ANN202
    from open_clip.tokenizer import SimpleTokenizer

    return SimpleTokenizer(context_length=context_length)


def tokenize(texts: list[str], context_length: int) -> np.ndarray:
    """(B, context_length) int32 token ids."""
    ids = _simple(context_length)(list(texts), context_length=context_length)  # (B, L) int64 torch
    return ids.numpy().astype(np.int32)


def decode(ids: np.ndarray | list[int]) -> str:
    """Token ids back to text, without start/end/padding (for tests and logs)."""
    t = _simple(77)
    keep = [int(i) for i in ids if int(i) not in (0, t.sot_token_id, t.eot_token_id)]
    return t.decode(keep).strip()
