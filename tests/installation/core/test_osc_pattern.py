"""OSC address patterns: the same answers as a plain backtracking reference, in time linear in the input."""

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from installation.core.osc_pattern import compile_pattern
from installation.core.osc_protocol import CONTROL, MAX_ADDRESS, MAX_WILDCARDS, Rejection, interpret, match

ROOT = Path(__file__).resolve().parents[3]
PATHS = [a.path for a in CONTROL]
CHECKED = settings(deadline=None, max_examples=300)  # answers compared: no time bound (the reference backtracks)
BOUND = settings(deadline=1000, max_examples=200)  # ms a case: generous on a loaded machine, seconds for a regex


def reference(pattern: str, text: str) -> bool:
    """The OSC 1.0 rules written the obvious (exponential) way; only ever given small inputs."""
    if not pattern:
        return not text
    c = pattern[0]
    if c == "*":
        return any(reference(pattern[1:], text[k:]) for k in range(len(text) + 1) if "/" not in text[:k])
    if c == "?":
        return bool(text) and text[0] != "/" and reference(pattern[1:], text[1:])
    if c == "[" and "]" in pattern[1:]:
        j = pattern.index("]", 1)
        body, neg = pattern[1:j], pattern[1:j].startswith("!")
        body = body[1:] if neg else body
        chars, k = set(), 0
        while k < len(body):
            if k + 2 < len(body) and body[k + 1] == "-":
                lo, hi = sorted((body[k], body[k + 2]))
                chars |= {chr(x) for x in range(ord(lo), ord(hi) + 1)}
                k += 3
            else:
                chars.add(body[k])
                k += 1
        ok = bool(text) and text[0] != "/" and ((text[0] in chars) != neg)
        return ok and reference(pattern[j + 1 :], text[1:])
    if c == "{" and "}" in pattern[1:]:
        j = pattern.index("}", 1)
        return any(text.startswith(o) and reference(pattern[j + 1 :], text[len(o) :]) for o in pattern[1:j].split(","))
    return bool(text) and text[0] == c and reference(pattern[1:], text[1:])


def test_wildcards_follow_the_osc_rules() -> None:
    assert [a.path for a in match("/clear")] == ["/clear"]
    assert [a.path for a in match("/[a-z]ud")] == ["/hud"]
    assert [a.path for a in match("/[!h]ud")] == []
    assert [a.path for a in match("/p*g")] == ["/ping"]
    assert {a.path for a in match("/*/*")} == {p for p in PATHS if p.count("/") == 2}
    assert {a.path for a in match("/{plotter/start,clear}")} == {"/plotter/start", "/clear"}  # braces: literal
    assert match("/plotter[!x]start") == []  # a negated set does not match "/"
    assert match("/cl[]ar") == []  # an empty set matches nothing
    assert compile_pattern("/a[b").matches("/a[b") and compile_pattern("/a{b").matches("/a{b")  # unterminated


ALPHABET = "/abclpr*?[]{},!-"


@CHECKED
@given(pattern=st.text(ALPHABET, max_size=14), text=st.text("/abclpr", max_size=9))
def test_same_answer_as_the_reference_on_small_inputs(pattern: str, text: str) -> None:
    assert compile_pattern(pattern).matches(text) == reference(pattern, text)


@CHECKED
@given(
    path=st.sampled_from(PATHS),
    edits=st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["?", "*", "[{}]", "{{x,{},y}}", "[!/]"]))),
)
def test_a_pattern_made_from_an_address_still_names_it(path: str, edits: list[tuple[int, str]]) -> None:
    chars = list(path)
    for pos, kind in edits[:MAX_WILDCARDS]:
        k = 1 + pos % (len(chars) - 1)
        if path[k] != "/":
            chars[k] = kind.format(path[k]) if "{}" in kind else kind
    pattern = "".join(chars)
    assert path in [a.path for a in match(pattern)]


@st.composite
def hostile(draw: st.DrawFn) -> str:
    """Patterns built to make a backtracking matcher explode, within today's limits (256 chars, 16 wildcards).

    Sized so that a backtracking matcher needs at most about 15 million steps (several seconds: a deadline
    failure here, not an hours-long hang); the worst case within the limits is timed in a child process below."""
    options = draw(st.integers(2, 7))
    empty = draw(st.sampled_from(["", "a", "/", "p"]))
    brace = "{" + ",".join([empty] * options) + "}"
    piece = draw(st.sampled_from([brace, brace, brace, "*", "?*", "{p,pl,plo,plot}*", "[a-z]*"]))
    most = min(MAX_WILDCARDS, int(math.log(1.5e7) / math.log(options)))
    n = most - draw(st.integers(0, min(2, most - 1)))  # near the most: the costly end for a backtracker
    tail = draw(st.sampled_from(["x", "/x", "", "ing", "/start!"]))
    return ("/" + piece * n)[: MAX_ADDRESS - len(tail)] + tail


@BOUND
@given(pattern=hostile())
def test_hostile_patterns_are_matched_in_bounded_time(pattern: str) -> None:
    result = interpret(pattern, ())
    assert isinstance(result, Rejection | list)


WORST = """
import sys, time
from installation.core.osc_protocol import match
pattern = "/" + "{,,,,,,,,,,,,}" * int(sys.argv[1]) + "x"
t0 = time.perf_counter()
for i in range(20):
    assert match(pattern + str(i)) == []  # a new pattern each time: nothing cached
print((time.perf_counter() - t0) / 20)
"""


@pytest.mark.parametrize("groups", [8, 16])
def test_brace_alternations_within_the_limits_match_in_milliseconds(groups: int) -> None:
    """13 empty alternatives x 16 groups: the old regex needed 13**16 steps. In a child, so a regression fails
    by its timeout instead of freezing the test run (the regex holds the interpreter lock)."""
    assert len("/" + "{,,,,,,,,,,,,}" * groups + "x") <= MAX_ADDRESS
    r = subprocess.run([sys.executable, "-c", WORST, str(groups)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout) < 0.05  # seconds per match; generous: the point is "not exponential"
