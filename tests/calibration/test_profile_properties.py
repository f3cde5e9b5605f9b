"""Property-based tests of calibration profiles: any JSON is a usable profile or one UserError, never a silent loss."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibration.profile import SCHEMA, load_profile, parse_profile, save_profile
from installation.core.errors import UserError
from installation.core.registration import Registration

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
A4 = [210.0, 297.0]
GOOD: dict[str, Any] = {
    "schema": SCHEMA,
    "venue": "gallery",
    "updated": "2026-01-01T00:00:00+00:00",
    "camera": {
        "camera_matrix": [[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]],
        "dist_coeffs": [0.1, 0.0, 0.0, 0.0, 0.0],
        "image_size": [640, 480],
        "rms": 0.2,
    },
    "paper": {"paper_mm": A4, "markers": True, "threshold": 0.5},
    "tablet": {"area": [0.05, 0.05, 0.95, 0.95], "rotation": 90, "margin": 0.02, "aspect": 1.6},
    "plotter": {
        "matrix": [[1.0, 0.01, 12.0], [-0.01, 1.0, 10.0], [0.0, 0.0, 1.0]],
        "kind": "affine",
        "residual_mm": 0.1,
        "max_residual_mm": 0.2,
        "points": [[0.0, 0.0, 12.0, 10.0], [210.0, 0.0, 222.0, 8.0], [0.0, 297.0, 15.0, 307.0]],
        "paper_mm": A4,
        "margin_mm": 15.0,
    },
}
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**400, 1e300, -1e300, "12", "", "nan", [], {}, [[]], [1, 2, 3]]),
    st.text(max_size=6),
)


def _leaves(obj: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaves(v, (*path, k))] or [path]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaves(v, (*path, i))] or [path]
    return [path]


LEAVES = [p for p in _leaves(GOOD) if p and p[0] != "schema"]


def _set(obj: Any, path: tuple, value: Any) -> Any:
    out = copy.deepcopy(obj)
    cur = out
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return out


def _usable(profile: Any) -> None:
    """What the show may be handed: every number finite, the plotter map finite over the whole sheet."""

    def numbers(x: Any) -> list[float]:
        if isinstance(x, list):
            return [v for item in x for v in numbers(item)]
        return [x] if isinstance(x, int | float) and not isinstance(x, bool) else []

    for name in ("camera", "paper", "tablet", "plotter"):
        sec = getattr(profile, name)
        if sec is not None:
            assert all(math.isfinite(v) for f in vars(sec).values() for v in numbers(f)), name
    if profile.plotter is not None:
        reg = profile.plotter.registration(1024)
        grid = np.stack(np.meshgrid(np.linspace(0, 1024, 9), np.linspace(0, 1024, 9)), -1).reshape(-1, 2)
        assert np.isfinite(reg.to_mm(grid)).all()


def test_the_good_profile_is_accepted() -> None:
    _usable(parse_profile(GOOD))


@SETTINGS
@given(leaf=st.sampled_from(LEAVES), value=HOSTILE)
def test_any_value_anywhere_is_a_usable_profile_or_one_user_error(leaf: tuple, value: Any) -> None:
    data = _set(GOOD, leaf, value)
    try:
        profile = parse_profile(data, "venue.json")
    except UserError as e:
        assert "\n" not in str(e) and str(e).startswith("venue.json")
        return
    _usable(profile)


@SETTINGS
@given(
    m=st.lists(
        st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=3, max_size=3),
        min_size=3,
        max_size=3,
    )
)
def test_any_plotter_matrix_is_usable_or_one_user_error(m: list[list[float]]) -> None:
    data = _set(GOOD, ("plotter", "matrix"), m)
    try:
        profile = parse_profile(data)
    except UserError as e:
        assert "plotter.matrix" in str(e)
        return
    _usable(profile)


@SETTINGS
@given(
    angle=st.floats(-0.2, 0.2),
    scale=st.floats(0.8, 1.25),
    shift=st.tuples(st.floats(-50, 300), st.floats(-50, 300)),
    tilt=st.tuples(st.floats(-1e-4, 1e-4), st.floats(-1e-4, 1e-4)),
    noise=st.floats(0, 0.5),
    seed=st.integers(0, 2**16),
)
def test_measured_registrations_are_never_refused(
    angle: float, scale: float, shift: tuple, tilt: tuple, noise: float, seed: int
) -> None:
    """A paper a little askew under a real plotter (rotation, scale, shift, a slight perspective, measuring noise)
    passes: the checks refuse broken matrices, not real calibrations."""
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    truth = np.array([[c, -s, shift[0]], [s, c, shift[1]], [tilt[0], tilt[1], 1.0]])
    w, h = A4
    paper_pts = np.array([[0, 0], [w, 0], [w, h], [0, h], [w / 2, h / 3]], float)
    hom = np.column_stack([paper_pts, np.ones(len(paper_pts))]) @ truth.T
    mm = hom[:, :2] / hom[:, 2:] + np.random.default_rng(seed).normal(0, noise, (len(paper_pts), 2))
    for kind in ("affine", "homography"):
        reg = Registration.fit(paper_pts, mm, kind)
        data = _set(GOOD, ("plotter", "matrix"), [list(r) for r in reg.matrix])
        data = _set(data, ("plotter", "kind"), kind)
        _usable(parse_profile(data))


@pytest.mark.parametrize(
    "matrix",
    [
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],  # singular
        [[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]],  # the sheet collapses onto a line
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.01, 0.0, -1.0]],  # the horizon crosses the sheet
        [[math.nan, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        [[1e30, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    ],
)
def test_singular_and_nan_homographies_are_refused(tmp_path: Path, matrix: list[list[float]]) -> None:
    path = tmp_path / "venue.json"
    path.write_text(json.dumps(_set(GOOD, ("plotter", "matrix"), matrix)))  # json writes NaN as NaN
    with pytest.raises(UserError, match="plotter.matrix"):
        load_profile(path)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"schema": 1, "venue": "\xff"}', "cannot be read"),
        (b"[" * 100_000 + b"]" * 100_000, "too deep or too long"),
        (b'{"schema": 1, "paper": {"paper_mm": [' + b"9" * 5000 + b", 1]}}", "too deep or too long"),
        (b'{"schema": 1, "paper": {"paper_mm": [210, 297], "threshold": "0.5"}}', r"paper\.threshold must be"),
        (b'{"schema": 1, "tablet": {"aspect": NaN}}', r"tablet\.aspect must be a finite number"),
        (b'{"schema": 1, "camera": {"camera_matrix": [[1,0,0],[0,1,0],[0,0,1]], "dist_coeffs": [0,0,0,0],'
         b' "image_size": [640, 480], "rms": "low"}}', r"camera\.rms"),
    ],
)  # fmt: skip
def test_broken_profile_files_are_one_line(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "venue.json"
    path.write_bytes(content)
    with pytest.raises(UserError, match=words) as err:
        load_profile(path)
    assert "\n" not in str(err.value)


def test_a_nan_never_reaches_the_disk(tmp_path: Path) -> None:
    good = parse_profile(GOOD)
    path = tmp_path / "venue.json"
    save_profile(path, good)
    before = path.read_bytes()
    bad = good.replace(paper=type(good.paper)([math.nan, 297.0]))  # type: ignore[misc]
    with pytest.raises(UserError, match="paper_mm"):
        save_profile(path, bad)
    assert path.read_bytes() == before
