"""Property-based tests of SVG input for plotting: finite polylines or one UserError, in bounded time."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.core import svg_paths
from installation.core.errors import UserError
from installation.core.svg_paths import check_svg_budget, read_svg_paths

# a generous bound per case: it catches an exponential blow-up, not a slow machine
SETTINGS = settings(max_examples=80, deadline=timedelta(seconds=30), suppress_health_check=[HealthCheck.too_slow])
HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">'

num = st.one_of(
    st.floats(-200, 200, allow_nan=False).map(lambda v: f"{v:.2f}"),
    st.sampled_from(["nan", "inf", "-inf", "1e300", "-1e300", "1e999", "", ".", "--1", "7" * 400]),
)
command = st.one_of(
    st.tuples(st.sampled_from("MmLlTt"), num, num).map(lambda c: f"{c[0]}{c[1]} {c[2]}"),
    st.tuples(st.sampled_from("HhVv"), num).map(lambda c: f"{c[0]}{c[1]}"),
    st.tuples(st.sampled_from("CcSsQq"), st.lists(num, min_size=6, max_size=6)).map(lambda c: c[0] + " ".join(c[1])),
    st.tuples(st.sampled_from("Aa"), st.lists(num, min_size=7, max_size=7)).map(lambda c: c[0] + " ".join(c[1])),
    st.just("Z"),
)
path_el = st.lists(command, max_size=12).map(lambda cs: f'<path d="{" ".join(cs)}" stroke="black"/>')
line_el = st.lists(num, min_size=4, max_size=4).map(
    lambda v: f'<line x1="{v[0]}" y1="{v[1]}" x2="{v[2]}" y2="{v[3]}" stroke="black"/>'
)
circle_el = st.lists(num, min_size=3, max_size=3).map(lambda v: f'<circle cx="{v[0]}" cy="{v[1]}" r="{v[2]}"/>')
poly_el = st.lists(st.tuples(num, num), max_size=6).map(
    lambda v: f'<polyline points="{" ".join(f"{a},{b}" for a, b in v)}" stroke="black"/>'
)
shape = st.one_of(path_el, line_el, circle_el, poly_el)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Shapes in nested groups, some with ids, and <use> elements referring to any id (itself included)."""
    parts, ids = [], []
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["shape", "group", "use"]))
        if kind == "shape":
            parts.append(draw(shape))
        elif kind == "group":
            ids.append(f"g{i}")
            inner = "".join(draw(st.lists(shape, max_size=3)))
            refs = "".join(f'<use xlink:href="#{r}"/>' for r in draw(st.lists(st.sampled_from(ids), max_size=3)))
            parts.append(f'<g id="g{i}" transform="scale({draw(num)})">{inner}{refs}</g>')
        elif ids:
            parts.append(f'<use xlink:href="#{draw(st.sampled_from(ids))}" x="{draw(num)}"/>')
    return HEAD + "".join(parts) + "</svg>"


def _write(tmp: pytest.TempPathFactory, text: str) -> Path:
    path = tmp.mktemp("svg") / "in.svg"
    path.write_text(text)
    return path


@SETTINGS
@given(doc=documents())
def test_any_document_gives_finite_polylines_or_one_user_error(
    tmp_path_factory: pytest.TempPathFactory, doc: str
) -> None:
    path = _write(tmp_path_factory, doc)
    try:
        lines, (w, h) = read_svg_paths(path)
    except UserError as e:
        assert "\n" not in str(e) and str(path) in str(e)
        return
    assert np.isfinite([w, h]).all()
    for p in lines:
        assert p.ndim == 2 and p.shape[1] == 2 and len(p) >= 2 and np.isfinite(p).all()
    subpaths, _ = check_svg_budget(path)
    assert len(lines) <= subpaths  # the budget, counted before parsing, bounds what the parser finds


@SETTINGS
@given(content=st.binary(max_size=400))
def test_any_bytes_give_polylines_or_one_user_error(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    path = tmp_path_factory.mktemp("svg") / "in.svg"
    path.write_bytes(content)
    try:
        read_svg_paths(path)
    except UserError as e:
        assert "\n" not in str(e)


def _nested_use(levels: int, fan: int) -> str:
    """A few KB that unfold into fan**levels shapes if <use> is expanded blindly."""
    parts = ['<defs><g id="g0"><path d="M0 0L1 1" stroke="black"/></g>']
    for i in range(1, levels + 1):
        parts.append(f'<g id="g{i}">' + "".join(f'<use xlink:href="#g{i - 1}" x="{j}"/>' for j in range(fan)) + "</g>")
    return HEAD + "".join(parts) + f'</defs><use xlink:href="#g{levels}"/></svg>'


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (_nested_use(9, 10), "more than 20,000 subpaths"),  # a billion shapes from 3 KB
        (HEAD + '<path d="' + "M0 0l1 1 " * 30_000 + '" stroke="black"/></svg>', "more than 20,000 subpaths"),
        (HEAD + '<line x1="0" y1="0" x2="1" y2="1" stroke="black"/>' * 25_000 + "</svg>", "more than 20,000"),
        (HEAD + '<path d="M0 0' + " L1 1" * 600_000 + '" stroke="black"/></svg>', "more than 1,000,000 coordinates"),
        (HEAD + '<g id="a"><use xlink:href="#a"/></g></svg>', "refers to itself"),
        # svgelements pairs points with a regex that is cubic in a number's length when a pair fails
        (HEAD + f'<polyline points="{"7" * 1000} -" stroke="black"/></svg>', "not pairs of plain numbers"),
        (HEAD + f'<polygon points="1 {"7" * 1000}" stroke="black"/></svg>', "not pairs of plain numbers"),
        (HEAD + '<polyline points="' + "0.5.5 " * 20_000 + '" stroke="black"/></svg>', "not pairs of plain numbers"),
        (HEAD + '<polyline points="' + "1,,2 " * 20_000 + '" stroke="black"/></svg>', "not pairs of plain numbers"),
        (HEAD + '<polyline points="1 2 3" stroke="black"/></svg>', "odd count"),
        (HEAD + "<g>" * 50_000 + "</g>" * 50_000 + "</svg>", "not a readable SVG"),
        ("<svg", "not a readable SVG"),
    ],
)
def test_small_files_with_unbounded_work_are_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "in.svg"
    path.write_text(text)
    t0 = time.perf_counter()
    with pytest.raises(UserError, match=words) as err:
        read_svg_paths(path)
    assert "\n" not in str(err.value)
    assert time.perf_counter() - t0 < 60  # generous: blind expansion takes hours


def test_within_the_limits_every_subpath_is_read(tmp_path: Path) -> None:
    n = 3_000
    path = tmp_path / "many.svg"
    path.write_text(
        HEAD + '<path d="' + " ".join(f"M{i % 90} {i // 90}l5 5" for i in range(n)) + '" stroke="black"/></svg>'
    )
    lines, _ = read_svg_paths(path)
    assert len(lines) == n == check_svg_budget(path)[0]


def test_limits_are_checked_before_the_svg_library_parses(tmp_path: Path) -> None:
    path = tmp_path / "big.svg"
    path.write_bytes(b" " * (svg_paths.MAX_SVG_BYTES + 1))
    with pytest.raises(UserError, match="bytes, over"):
        read_svg_paths(path)


def test_the_data_builder_skips_an_svg_that_unfolds_without_bound(tmp_path: Path) -> None:
    from models.data.svg import SvgSkip, load_drawing

    path = tmp_path / "bomb.svg"
    path.write_text(_nested_use(9, 10))
    t0 = time.perf_counter()
    with pytest.raises(SvgSkip, match="too many shapes"):
        load_drawing(path, 64)
    assert time.perf_counter() - t0 < 60


@pytest.mark.parametrize(
    ("points", "first"),
    [("1,2 30,40", (1, 2)), ("1-2-3-4", (1, -2)), (" 1 , 2\n3\t4 ", (1, 2)), ("1e1,2E-1 3 4,", (10, 0.2))],
)
def test_plain_points_lists_in_any_spacing_are_read(tmp_path: Path, points: str, first: tuple[float, float]) -> None:
    path = tmp_path / "p.svg"
    path.write_text(HEAD + f'<polyline points="{points}" stroke="black"/></svg>')
    lines, _ = read_svg_paths(path)
    assert len(lines) == 1 and np.allclose(lines[0][0], first)
