"""`/param` checks a value exactly as the config loader checks the same key: property tests against load_config."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from installation.core.config import LAYOUTS, RANGES, load_config
from installation.core.errors import UserError
from installation.core.live_params import live_params, set_live

DEFAULT = load_config(None)
LIVE = sorted(live_params())

values = st.one_of(
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([*LAYOUTS, "", "SIDE", "side ", "overlay2"]),
    st.text(max_size=12),
    st.none(),
    st.lists(st.integers(0, 3), max_size=2),
)


def _toml(v: Any) -> str:
    """A Python value as the TOML text of an override (`--set key=TEXT`)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    return json.dumps(v, ensure_ascii=False)


def _loader(name: str, text: str) -> tuple[bool, Any]:
    try:
        cfg = load_config(None, [f"{name}={text}"])
    except UserError:
        return False, None
    section, key = name.split(".")
    return True, getattr(getattr(cfg, section), key)


def _set(name: str, v: Any) -> tuple[bool, Any]:
    try:
        new, stored = set_live(DEFAULT, name, v)
    except UserError as e:
        assert str(e).startswith(f"/param {name}: ") and "\n" not in str(e)  # one line naming the key
        return False, None
    section, key = name.split(".")
    assert getattr(getattr(new, section), key) == stored
    others = [f.name for f in dataclasses.fields(new) if f.name != section]
    assert all(getattr(new, s) == getattr(DEFAULT, s) for s in others)  # nothing else moved
    return True, stored


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and (a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b)))


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(LIVE), v=values.filter(lambda v: v is not None and not isinstance(v, list)))
def test_typed_values_are_taken_exactly_when_the_loader_takes_them(name: str, v: Any) -> None:
    p = live_params()[name]
    ok, stored = _set(name, v)
    if p.kind is bool and type(v) is int and v in (0, 1):  # the one documented addition for OSC rigs
        assert ok and stored is bool(v)
        return
    text = v if isinstance(v, str) and p.kind is not str else _toml(v)  # a string is read as an override's text
    loader = _loader(name, text)
    assert ok == loader[0], (name, v, stored, loader)
    if ok:
        assert _same(stored, loader[1])
        if p.lo is not None:
            assert p.lo <= stored <= p.hi and math.isfinite(stored)
        if p.choices:
            assert stored in p.choices


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(LIVE), v=st.one_of(st.none(), st.lists(st.integers(0, 3), max_size=2), st.binary()))
def test_values_no_config_key_can_hold_are_refused(name: str, v: Any) -> None:
    assert _set(name, v) == (False, None)


@settings(max_examples=100, deadline=None)
@given(name=st.text(max_size=30).filter(lambda n: n not in LIVE))
def test_unknown_names_are_refused_with_the_list(name: str) -> None:
    with pytest.raises(UserError, match=r"^/param: .* is not a live parameter \(live: display\.fps, "):
        set_live(DEFAULT, name, 1)


def test_every_live_number_has_a_range_and_the_marks_are_the_ones_documented() -> None:
    params = live_params()
    assert set(params) == {
        "display.fps",
        "display.layout",
        "display.crossfade_s",
        "display.steady_s",
        "display.steady_near_px",
        "display.steady_feather_px",
        "display.steady_hold_s",
        "display.hud",
        "display.attract_after_s",
        "plotter.margin_mm",
        "archive.finish_idle_s",
    }
    for p in params.values():
        assert p.kind in (int, float, bool, str)
        if p.kind in (int, float):
            assert (p.lo, p.hi) == RANGES[p.name]
    assert params["display.layout"].choices == LAYOUTS
    new, v = set_live(DEFAULT, "display.fps", "30")  # as --set display.fps=30
    assert v == 30 and new.display.fps == 30 and DEFAULT.display.fps == 60


def test_the_packaged_defaults_mark_the_same_keys_live() -> None:
    from installation.core.config import DEFAULTS_FILE

    marked, section = set(), ""
    for line in DEFAULTS_FILE.read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[] ")
        elif "(live: /param" in line:
            marked.add(f"{section}.{line.split('=')[0].strip()}")
    assert marked == set(live_params())
