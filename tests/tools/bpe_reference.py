"""The textbook BPE loop (every pair rescanned after every merge, O(n²)): the reference the heap BPE in
installation/core/clip_tokens.py is tested against, and the old code the bad-input benchmark times."""

from __future__ import annotations


def textbook(word: list[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    """The lowest-ranked adjacent pair, every occurrence merged left to right, until none is ranked."""
    while len(word) > 1:
        pairs = set(zip(word, word[1:], strict=False))
        best = min(pairs, key=lambda p: ranks.get(p, 1 << 30))
        if best not in ranks:
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
    return word
