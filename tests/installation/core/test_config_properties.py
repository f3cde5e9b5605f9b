"""Property-based tests of the config loader and validator: any value, any file, one UserError or a valid config."""

from __future__ import annotations

import dataclasses
import math
import typing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.core.config import RANGES, AppConfig, load_config, numeric_values, parse_host_port
from installation.core.errors import UserError

NUMERIC_KEYS = sorted(numeric_values(AppConfig()))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _kind(key: str) -> type:
    section, name = key.split(".")
    hints = typing.get_type_hints(type(getattr(AppConfig(), section)))
    kind = hints[name]
    return typing.get_args(kind)[0] if typing.get_origin(kind) is list else kind


def _override(key: str, value: float) -> str:
    text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if key == "display.background":
        return f"{key}=[{text}, 18, 20]"
    return f"{key}={text}"


def test_every_numeric_key_has_a_finite_range() -> None:
    assert set(NUMERIC_KEYS) == set(RANGES), "add the new key's range to installation/core/config.py RANGES"
    for key, (lo, hi) in RANGES.items():
        assert math.isfinite(lo) and math.isfinite(hi) and lo <= hi, key
    cfg = load_config()  # the packaged defaults lie inside every range
    for key, values in numeric_values(cfg).items():
        lo, hi = RANGES[key]
        assert all(lo <= v <= hi for v in values), key


@SETTINGS
@given(key=st.sampled_from(NUMERIC_KEYS), value=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_non_finite_numbers_name_the_key(key: str, value: float) -> None:
    # TOML's nan and inf are floats: an int key refuses them by type, a float key by finiteness
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        load_config(None, [_override(key, value)])


@SETTINGS
@given(key=st.sampled_from(NUMERIC_KEYS), data=st.data())
def test_numbers_outside_the_range_name_the_key(key: str, data: st.DataObject) -> None:
    lo, hi = RANGES[key]
    below = st.floats(max_value=lo, exclude_max=True, allow_nan=False, allow_infinity=False, min_value=-1e300)
    above = st.floats(min_value=hi, exclude_min=True, allow_nan=False, allow_infinity=False, max_value=1e300)
    value = data.draw(st.one_of(below, above))
    if _kind(key) is int:
        value = float(math.floor(value) if value < lo else math.ceil(value))
        if lo <= value <= hi:
            return
        value = int(value)  # type: ignore[assignment]
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        load_config(None, [_override(key, value)])


@SETTINGS
@given(key=st.sampled_from(NUMERIC_KEYS), data=st.data())
def test_numbers_inside_the_range_are_kept_or_refused_for_another_key(key: str, data: st.DataObject) -> None:
    lo, hi = RANGES[key]
    if _kind(key) is int:
        value: float = data.draw(st.integers(int(math.ceil(lo)), int(hi)))
    else:
        value = data.draw(st.floats(lo, hi, allow_nan=False))
    try:
        cfg = load_config(None, [_override(key, value)])
    except UserError as e:  # a rule between keys (min_width ≤ max_width, open ends such as 0 < min_face < 1)
        assert "finite" not in str(e) and "within" not in str(e), str(e)
        return
    assert value in numeric_values(cfg)[key]


TOML_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)


@SETTINGS
@given(key=st.sampled_from([*NUMERIC_KEYS, "display.layout", "plotter.robot", "osc.state_out"]), raw=TOML_TEXT)
def test_any_override_text_is_a_config_or_one_user_error(key: str, raw: str) -> None:
    try:
        cfg = load_config(None, [f"{key}={raw}"])
    except UserError as e:
        assert "\n" not in str(e) and len(str(e)) < 400  # one readable line
        return
    for k, values in numeric_values(cfg).items():
        assert all(math.isfinite(v) and RANGES[k][0] <= v <= RANGES[k][1] for v in values)


@SETTINGS
@given(content=st.binary(max_size=300))
def test_any_venue_file_bytes_are_a_config_or_one_user_error(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    path = tmp_path_factory.mktemp("venue") / "venue.toml"
    path.write_bytes(content)
    try:
        load_config(path)
    except UserError as e:
        assert str(path) in str(e)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'[display]\nlayout = "\xff\xfe"\n', "not UTF-8"),
        (b"[display]\nbackground = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply|not valid TOML"),
        (b"[display]\nfps = " + b"7" * 5000 + b"\n", "cannot be read|must be within"),
        (b"[display]\ncrossfade_s = nan\n", r"display\.crossfade_s.*finite"),
        (b"[canvas]\nmax_width = inf\n", r"canvas\.max_width.*finite"),
        (b"[canvas]\nmin_width = -1.0\n", r"canvas\.min_width.*within"),
        (b"[input]\nreplay_speed = 1e300\n", r"input\.replay_speed.*within"),
    ],
)
def test_broken_venue_files_are_one_line(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "venue.toml"
    path.write_bytes(content)
    with pytest.raises(UserError, match=words):
        load_config(path)


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ('osc.state_out=["127.0.0.1:70000"]', r"osc\.state_out.*port must be 1\.\.65535"),
        ('osc.state_out=["127.0.0.1:-1"]', r"osc\.state_out.*HOST:PORT"),
        ('osc.state_out=["127.0.0.1"]', r"osc\.state_out.*HOST:PORT"),
        ('plotter.robot="robot"', r"plotter\.robot.*HOST:PORT"),
        ('plotter.robot=":9100"', r"plotter\.robot.*HOST:PORT"),
        ('plotter.robot="127.0.0.1:0"', r"plotter\.robot.*port must be 1\.\.65535"),
        ('plotter.robot="127.0.0.1:99999999999"', r"plotter\.robot"),
    ],
)
def test_addresses_are_checked_at_load(override: str, words: str) -> None:
    with pytest.raises(UserError, match=words):
        load_config(None, [override])


@SETTINGS
@given(text=st.text(max_size=40))
def test_host_port_parser_accepts_only_host_and_port(text: str) -> None:
    try:
        host, port = parse_host_port(text, "k")
    except UserError as e:
        assert "'k'" in str(e)
        return
    assert host == text.strip().rpartition(":")[0] and 1 <= port <= 65535


@SETTINGS
@given(host=st.from_regex(r"\A[a-z0-9.\-]{1,30}\Z"), port=st.integers(1, 65535))
def test_host_port_round_trips(host: str, port: int) -> None:
    assert parse_host_port(f"{host}:{port}", "k") == (host, port)


def test_sections_are_dataclasses_of_typed_fields() -> None:
    """The range table relies on this shape: sections of scalar or list fields."""
    for section in dataclasses.fields(AppConfig):
        assert dataclasses.is_dataclass(typing.get_type_hints(AppConfig)[section.name])


@pytest.mark.parametrize("raw", ["7" * 5000, "[" * 3000 + "]" * 3000, "1e400", "-inf"])
def test_absurd_override_values_are_one_line(raw: str) -> None:
    with pytest.raises(UserError, match="display.fps") as err:
        load_config(None, [f"display.fps={raw}"])
    assert "\n" not in str(err.value) and len(str(err.value)) < 300
