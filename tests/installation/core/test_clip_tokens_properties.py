"""The heap BPE gives the textbook BPE's pieces for any word, and long words cost O(n log n), not O(n²)."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.core.clip_tokens import load_tokenizer, merge_pieces, tokenize
from tests.tools.bpe_reference import textbook

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pieces(token: str) -> list[str]:
    return [*token[:-1], token[-1] + "</w>"]


# repetitive alphabets make overlapping pairs ("aaaa", "abab"), the cases an eager merge gets wrong
ALPHABETS = st.sampled_from(["a", "ab", "aab", "eatsnr", "abcdefghijklmnopqrstuvwxyz", "th e", "0123456789!?."])


@SETTINGS
@given(data=st.data(), alphabet=ALPHABETS)
def test_heap_bpe_equals_the_textbook_loop(data: st.DataObject, alphabet: str) -> None:
    tok = load_tokenizer()
    chars = [tok.byte_chars[b] for b in alphabet.replace(" ", "").encode()] or ["a"]
    word = data.draw(st.lists(st.sampled_from(chars), min_size=1, max_size=80))
    token = "".join(word)
    assert merge_pieces(_pieces(token), tok.ranks) == textbook(_pieces(token), tok.ranks)


@SETTINGS
@given(text=st.text(max_size=120))
def test_any_text_tokenises_to_a_fixed_row(text: str) -> None:
    row = tokenize([text], 77)[0]
    tok = load_tokenizer()
    assert row.shape == (77,) and row[0] == tok.start_id and tok.end_id in row
    # the early stop is invisible: the same ids as encoding everything and cutting
    full = [tok.start_id, *tok.encode(text), tok.end_id][:77]
    full[-1] = tok.end_id
    assert list(row[: len(full)]) == full and not row[len(full) :].any()


def test_ten_thousand_letters_are_not_quadratic() -> None:
    tok = load_tokenizer()
    word = "".join("abcdefghijklmnopqrstuvwxyz"[(i * 7919) % 26] for i in range(10_000))
    t0 = time.perf_counter()
    pieces = merge_pieces(_pieces(word), tok.ranks)
    tokenize([word], 77)
    assert "".join(pieces) == word + "</w>"
    assert time.perf_counter() - t0 < 10  # generous: the textbook loop takes 10-20 s on one busy core here
