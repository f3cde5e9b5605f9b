"""OSC address patterns matched without backtracking: time linear in the pattern times the address.

A pattern is read once into tokens: literal text, `?` (one character), `*` (any run of characters), `[abc]`,
`[a-z]`, `[!abc]` (one character in / not in the set) and `{one,two}` (one of the literal strings). `?`, `*`
and the bracket sets never match `/`, so a wildcard stays inside one part of the address; literal text and the
brace strings are compared as they are. An unterminated `[` or `{` is a literal character; `[]` matches nothing.

Matching keeps the *set* of address positions the pattern can have reached after each token (the DP over
(token, position) that a memoised matcher would fill, row by row). A position is never visited twice per token,
so no pattern, however many stars or overlapping alternatives it holds, costs more than
O(len(pattern) x len(address)): there is no backtracking to blow up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

WILDCARDS = "*?[{"


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class One:
    """`?`: any one character but `/`."""


@dataclass(frozen=True)
class Star:
    """`*`: any run of characters without `/` (consecutive stars are one)."""


@dataclass(frozen=True)
class CharSet:
    ranges: tuple[tuple[str, str], ...]  # inclusive (low, high) pairs; a single character is (c, c)
    negated: bool

    def accepts(self, ch: str) -> bool:
        if ch == "/":
            return False
        inside = any(lo <= ch <= hi for lo, hi in self.ranges)
        return inside != self.negated


@dataclass(frozen=True)
class Choice:
    options: tuple[str, ...]  # literal strings, duplicates removed, in first-seen order


Token = Literal | One | Star | CharSet | Choice


def _char_set(body: str) -> CharSet:
    negated = body.startswith("!")
    if negated:
        body = body[1:]
    ranges: list[tuple[str, str]] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            lo, hi = body[i], body[i + 2]
            ranges.append((lo, hi) if lo <= hi else (hi, lo))
            i += 3
        else:
            ranges.append((body[i], body[i]))
            i += 1
    return CharSet(tuple(ranges), negated)


def tokens(pattern: str) -> tuple[Token, ...]:
    """The pattern read once, left to right: a run of literal text is taken in one step (`str.find`), so the
    steps are about twice the wildcards, whatever the length."""
    out: list[Token] = []
    i, n = 0, len(pattern)
    while i < n:
        nxt = min((k for k in (pattern.find(c, i) for c in WILDCARDS) if k >= 0), default=n)
        if nxt > i:
            out.append(Literal(pattern[i:nxt]))
            i = nxt
            continue
        c = pattern[i]
        close = pattern.find("]" if c == "[" else "}", i + 1) if c in "[{" else -1
        if c == "*":
            out.append(Star())
        elif c == "?":
            out.append(One())
        elif close < 0:  # an unterminated "[" or "{" is a literal character
            out.append(Literal(c))
        elif c == "[":
            out.append(_char_set(pattern[i + 1 : close]))
            i = close
        else:
            out.append(Choice(tuple(dict.fromkeys(pattern[i + 1 : close].split(",")))))
            i = close
        i += 1
    return _simplified(out)


def _simplified(parts: list[Token]) -> tuple[Token, ...]:
    """A brace with one distinct option is literal text (none at all if it is empty); adjacent texts merge."""
    out: list[Token] = []
    for tok in parts:
        if isinstance(tok, Choice) and len(tok.options) == 1:
            tok = Literal(tok.options[0])
        if isinstance(tok, Literal):
            if not tok.text:
                continue
            if out and isinstance(out[-1], Literal):
                out[-1] = Literal(out[-1].text + tok.text)
                continue
        if isinstance(tok, Star) and out and isinstance(out[-1], Star):
            continue
        out.append(tok)
    return tuple(out)


def _length_bounds(parts: tuple[Token, ...]) -> tuple[int, int | None]:
    """The shortest and longest address the tokens can match (None: no longest, there is a star)."""
    lo, hi = 0, 0
    has_star = False
    for tok in parts:
        if isinstance(tok, Literal):
            lo, hi = lo + len(tok.text), hi + len(tok.text)
        elif isinstance(tok, Choice):
            lo, hi = lo + min(map(len, tok.options)), hi + max(map(len, tok.options))
        elif isinstance(tok, Star):
            has_star = True
        else:
            lo, hi = lo + 1, hi + 1
    return lo, None if has_star else hi


@dataclass(frozen=True)
class Pattern:
    source: str
    parts: tuple[Token, ...]
    shortest: int = 0
    longest: int | None = None  # None: unbounded (a star)
    prefix: str = ""  # the literal text every match starts with

    def matches(self, address: str) -> bool:
        """Whether the whole `address` matches: one pass over the tokens, a set of positions per token."""
        n = len(address)
        if n < self.shortest or (self.longest is not None and n > self.longest) or not address.startswith(self.prefix):
            return False  # most of the table is ruled out here, before any position set is built
        here: set[int] = {0}
        for tok in self.parts:
            nxt: set[int] = set()
            if isinstance(tok, Literal):
                nxt = {p + len(tok.text) for p in here if address.startswith(tok.text, p)}
            elif isinstance(tok, One):
                nxt = {p + 1 for p in here if p < n and address[p] != "/"}
            elif isinstance(tok, CharSet):
                nxt = {p + 1 for p in here if p < n and tok.accepts(address[p])}
            elif isinstance(tok, Choice):
                nxt = {p + len(s) for p in here for s in tok.options if address.startswith(s, p)}
            else:  # Star: from each reached position, every position up to the next "/" (each visited once)
                reach = -1
                for p in sorted(here):
                    q = max(p, reach)
                    nxt.add(q)
                    while q < n and address[q] != "/":
                        q += 1
                        nxt.add(q)
                    reach = q
            if not nxt:
                return False
            here = nxt
        return n in here


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Pattern:
    """The pattern's tokens, cached (bounded) so a rig repeating one pattern reads it once."""
    parts = tokens(pattern)
    shortest, longest = _length_bounds(parts)
    prefix = parts[0].text if parts and isinstance(parts[0], Literal) else ""
    return Pattern(pattern, parts, shortest, longest, prefix)


def has_wildcards(pattern: str) -> bool:
    return any(ch in pattern for ch in WILDCARDS)


def wildcard_count(pattern: str) -> int:
    return sum(pattern.count(c) for c in WILDCARDS)
