"""CLIP's byte-level BPE tokenizer, torch-free, so the live runtime can score prompts without importing torch.

The vocabulary and merges are open_clip's `bpe_simple_vocab_16e6.txt.gz` (it ships inside open-clip-torch);
the same ids as open_clip's SimpleTokenizer (tests compare the two). Ids: start token, the text's BPE tokens,
end token, zero padding to `context_length`; a longer text is cut and its last id replaced by the end token.
"""

from __future__ import annotations

import gzip
import html
import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

START, END = "<|startoftext|>", "<|endoftext|>"
MERGES = 49152 - 256 - 2  # merges used by CLIP's vocabulary (49,408 ids in all)
_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def vocab_file() -> Path:
    """open_clip's BPE file, found without importing open_clip (and so torch)."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("open-clip-torch is not installed: its BPE vocabulary is needed (see requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "bpe_simple_vocab_16e6.txt.gz"


def _byte_chars() -> dict[int, str]:
    """Every byte → a printable unicode character (printable latin-1 bytes map to themselves)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    out, extra = {b: chr(b) for b in keep}, 0
    for b in range(256):
        if b not in out:
            out[b] = chr(256 + extra)
            extra += 1
    return out


@dataclass
class BpeTokenizer:
    encoder: dict[str, int]
    ranks: dict[tuple[str, str], int]
    byte_chars: dict[int, str] = field(default_factory=_byte_chars)
    cache: dict[str, list[str]] = field(default_factory=dict)

    @property
    def start_id(self) -> int:
        return self.encoder[START]

    @property
    def end_id(self) -> int:
        return self.encoder[END]

    def bpe(self, token: str) -> list[str]:
        """One pre-token (already byte-mapped) → its BPE pieces, the last one marked with </w>."""
        if token in self.cache:
            return self.cache[token]
        word = [*token[:-1], token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(a, b) for a, b in zip(word, word[1:], strict=False)}
            best = min(pairs, key=lambda p: self.ranks.get(p, 1 << 30))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        self.cache[token] = word
        return word

    def encode(self, text: str) -> list[int]:
        import regex

        ids: list[int] = []
        for tok in regex.findall(_PATTERN, clean(text), regex.IGNORECASE):
            mapped = "".join(self.byte_chars[b] for b in tok.encode("utf-8"))
            ids.extend(self.encoder[p] for p in self.bpe(mapped))
        return ids

    def decode(self, ids: list[int]) -> str:
        inv = {v: k for k, v in self.encoder.items()}
        back = {c: b for b, c in self.byte_chars.items()}
        skip = {0, self.start_id, self.end_id}
        words = "".join(inv[i] for i in ids if i not in skip).split("</w>")
        raw = b" ".join(bytes(back[c] for c in w) for w in words)
        return " ".join(raw.decode("utf-8", "replace").split())

    def __call__(self, texts: list[str], context_length: int) -> np.ndarray:
        """(B, context_length) int32 ids."""
        out = np.zeros((len(texts), context_length), np.int32)
        for row, text in enumerate(texts):
            ids = [self.start_id, *self.encode(text), self.end_id][:context_length]
            ids[-1] = self.end_id
            out[row, : len(ids)] = ids
        return out


def clean(text: str) -> str:
    """As CLIP cleans text: mojibake fixed (ftfy when installed), HTML entities undone, spaces collapsed, lower."""
    try:
        import ftfy

        text = ftfy.fix_text(text)
    except ImportError:
        pass
    text = html.unescape(html.unescape(text))
    return " ".join(text.split()).strip().lower()


@lru_cache(maxsize=2)
def load_tokenizer(path: Path | None = None) -> BpeTokenizer:
    with gzip.open(path or vocab_file(), "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")[1 : MERGES + 1]
    merges = [tuple(line.split()) for line in lines]
    chars = list(_byte_chars().values())
    words = [*chars, *(c + "</w>" for c in chars), *("".join(m) for m in merges), START, END]
    return BpeTokenizer(
        encoder={w: i for i, w in enumerate(words)}, ranks={(m[0], m[1]): i for i, m in enumerate(merges)}
    )


def tokenize(texts: list[str], context_length: int) -> np.ndarray:
    """(B, context_length) int32 CLIP token ids."""
    return load_tokenizer()(list(texts), context_length)
