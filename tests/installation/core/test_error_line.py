"""The /state/error line of several sources: the newest error still set wins (core/error_line)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from installation.core.error_line import NewestError


def test_a_new_error_is_not_hidden_by_an_older_one_still_held() -> None:
    line = NewestError()
    assert line.update({"commands": "", "model": ""}) == ""
    assert line.update({"commands": "/param x: not live", "model": ""}) == "/param x: not live"
    assert line.update({"commands": "/param x: not live", "model": "/model nope: no such model"}) == (
        "/model nope: no such model"
    )
    # the newest is cleared (a good /model): the older one, still held, is shown again
    assert line.update({"commands": "/param x: not live", "model": ""}) == "/param x: not live"
    assert line.update({"commands": "", "model": ""}) == ""


@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(["", "e1", "e2", "e3"])), max_size=30))
def test_the_line_is_always_the_most_recently_changed_error_still_set(changes: list[tuple[str, str]]) -> None:
    line = NewestError()
    now = {"a": "", "b": "", "c": ""}
    order: list[str] = []  # sources in the order their error last changed
    for source, text in changes:
        if now[source] != text:
            order = [s for s in order if s != source] + [source]
        now[source] = text
        got = line.update(dict(now))
        still_set = [s for s in order if now[s]]
        assert got == (now[still_set[-1]] if still_set else "")


def test_the_same_error_made_again_after_another_is_shown_again() -> None:
    line = NewestError()
    bad = "/param x: not live"
    assert line.update({"commands": (bad, 1), "model": ""}) == bad
    assert line.update({"commands": (bad, 1), "model": "/model nope: no such model"}) == "/model nope: no such model"
    # the artist sends the same bad /param again: the same text, a new error, so it is the newest again
    assert line.update({"commands": (bad, 2), "model": "/model nope: no such model"}) == bad
    # a source that reports bare text cannot tell a repeat from the same error still held: not a change
    bare = NewestError()
    bare.update({"commands": bad, "model": ""})
    bare.update({"commands": bad, "model": "/model nope: no such model"})
    assert bare.update({"commands": bad, "model": "/model nope: no such model"}) == "/model nope: no such model"
