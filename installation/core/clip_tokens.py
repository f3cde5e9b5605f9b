"""CLIP's byte-level BPE tokenizer, torch-free, so the live runtime can score prompts without importing torch.

The vocabulary and merges are open_clip's `bpe_simple_vocab_16e6.txt.gz` (it ships inside open-clip-torch);
the same ids as open_clip's SimpleTokenizer (tests compare the two). Ids: start token, the text's BPE tokens,
end token, zero padding to `context_length`; a longer text is cut and its last id replaced by the end token.

Work is bounded by the input, not its square: each word is merged with a heap of its adjacent pairs and a linked
list of its pieces (O(n log n) in its length, where the textbook loop rescans every pair after every merge),
only as many words are encoded as fit in the context, and the word cache has a size limit.
"""

from __future__ import annotations

import gzip
import heapq
import html
import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

START, END = "<|startoftext|>", "<|endoftext|>"
MERGES = 49152 - 256 - 2  # merges used by CLIP's vocabulary (49,408 ids in all)
CACHE_WORDS = 10_000  # cached words (a live show sees endless new prompts); longer words are not cached
CACHE_WORD_CHARS = 64
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
        cached = self.cache.get(token)
        if cached is not None:
            return cached
        word = merge_pieces([*token[:-1], token[-1] + "</w>"], self.ranks)
        if len(token) <= CACHE_WORD_CHARS:
            if len(self.cache) >= CACHE_WORDS:
                self.cache.clear()
            self.cache[token] = word
        return word

    def encode(self, text: str, limit: int | None = None) -> list[int]:
        """The text's BPE ids; with `limit`, encoding stops once that many ids are known (the rest are cut)."""
        import regex

        ids: list[int] = []
        for m in regex.finditer(_PATTERN, clean(text), regex.IGNORECASE):
            mapped = "".join(self.byte_chars[b] for b in m.group().encode("utf-8"))
            ids.extend(self.encoder[p] for p in self.bpe(mapped))
            if limit is not None and len(ids) >= limit:
                return ids[:limit]
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
            ids = [self.start_id, *self.encode(text, context_length - 1), self.end_id][:context_length]
            ids[-1] = self.end_id
            out[row, : len(ids)] = ids
        return out


def merge_pieces(word: list[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    """BPE merges on `word` with exactly the textbook result, in O(n log n).

    Textbook: find the adjacent pair of lowest rank, merge every occurrence of it left to right without
    overlaps, repeat until no adjacent pair has a rank. Here the pieces are a linked list and the ranked
    adjacent pairs a heap; all entries of the lowest rank (one pair: ranks are unique) are merged together,
    in position order, before the pairs they create are added, so the order of merges is the same.
    """
    n = len(word)
    if n < 2:
        return list(word)
    sym = list(word)
    nxt = [*range(1, n), -1]
    prv = list(range(-1, n - 1))
    alive = [True] * n
    heap = [(r, i) for i in range(n - 1) if (r := ranks.get((sym[i], sym[i + 1]))) is not None]
    heapq.heapify(heap)
    while heap:
        rank = heap[0][0]
        batch = set()
        while heap and heap[0][0] == rank:
            batch.add(heapq.heappop(heap)[1])
        merged = []
        for i in sorted(batch):  # left to right, as the textbook scan
            j = nxt[i]
            if not alive[i] or j < 0 or ranks.get((sym[i], sym[j])) != rank:
                continue  # a stale entry: one of its pieces was merged since
            sym[i] += sym[j]
            alive[j] = False
            nxt[i] = nxt[j]
            if nxt[j] >= 0:
                prv[nxt[j]] = i
            merged.append(i)
        for i in merged:
            for a, b in ((prv[i], i), (i, nxt[i])):
                if a >= 0 and b >= 0 and (r := ranks.get((sym[a], sym[b]))) is not None:
                    heapq.heappush(heap, (r, a))
    out, i = [], 0
    while i >= 0:
        out.append(sym[i])
        i = nxt[i]
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
