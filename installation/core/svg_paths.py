"""Ordered paths to SVG in millimetres (vpype, Inkscape and AxiDraw read it), and SVG paths back to polylines.

Reading is bounded before the SVG library sees the file: its size, and the subpaths and numbers it would
expand to (each <use> counts what it copies, so a 2 KB file of nested <use> cannot unfold into billions of
shapes), are counted on the plain XML tree first; over a limit, or a <use> that refers to itself, is one line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from installation.core.errors import UserError

MAX_SVG_BYTES = 10_000_000
MAX_SUBPATHS = 20_000  # about 5 s to sample on one core; a plotter drawing is rarely over a few thousand
MAX_NUMBERS = 1_000_000  # coordinates in path data and points, as expanded; about 10 s for the SVG parser
SHAPES = {"path", "line", "polyline", "polygon", "rect", "circle", "ellipse"}
_MOVES = re.compile(r"[Mm]")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_SVG_FLOAT = re.compile(r"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?")  # svgelements' own float syntax
_GAP = re.compile(r"[ \t\n\r]*(?:,[ \t\n\r]*)?")
MAX_NUMBER_CHARS = 32


def to_svg(
    paths_mm: list[np.ndarray],
    paper_mm: tuple[float, float],
    title: str = "drawing",
    widths_mm: list[float | None] | None = None,
) -> str:
    """One layer, one <path> per plotter path in drawing order; user units are millimetres.

    `widths_mm` (one per path, or None) is kept as metadata: the ink width the path was traced from, as a
    `data-width-mm` attribute (plotting software ignores it; a multi-pass or brush plotter can read it).
    """
    w, h = paper_mm
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
        f'width="{w:.3f}mm" height="{h:.3f}mm" viewBox="0 0 {w:.3f} {h:.3f}">',
        f"<title>{_escape(title)}</title>",
        '<g inkscape:groupmode="layer" inkscape:label="1" id="layer1" fill="none" stroke="black" '
        'stroke-width="0.3" stroke-linecap="round" stroke-linejoin="round">',
    ]
    for i, p in enumerate(paths_mm):
        pts = " L ".join(f"{x:.3f} {y:.3f}" for x, y in p)
        width = widths_mm[i] if widths_mm is not None else None
        out.append(f'<path d="M {pts}"' + (f' data-width-mm="{width:.2f}"' if width is not None else "") + "/>")
    out += ["</g>", "</svg>"]
    return "\n".join(out) + "\n"


def write_svg(
    path: Path,
    paths_mm: list[np.ndarray],
    paper_mm: tuple[float, float],
    title: str = "drawing",
    widths_mm: list[float | None] | None = None,
) -> None:
    import os

    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(to_svg(paths_mm, paper_mm, title, widths_mm))
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(f"cannot write {path} ({e.strerror}): choose a writable place for --svg") from e


def read_svg_paths(path: Path, step: float = 1.0) -> tuple[list[np.ndarray], tuple[float, float]]:
    """Polylines of every shape in an SVG (document units, curves sampled every `step`) and the page size."""
    from svgelements import SVG, Shape
    from svgelements import Path as SPath

    check_svg_budget(path)
    try:
        svg = SVG.parse(str(path), reify=True)
    except Exception as e:  # svgelements raises many kinds on bad files
        raise UserError(f"{path} is not a readable SVG ({type(e).__name__}): export it again as plain SVG") from e
    lines = []
    for el in svg.elements():
        if not isinstance(el, Shape):
            continue
        try:
            for sub in SPath(el).as_subpaths():
                sp = SPath(sub)
                n = int(min(2000, max(2, sp.length(error=1e-3) / step)))
                pts = np.asarray(sp.npoint(np.linspace(0, 1, n)), float)
                if len(pts) >= 2 and np.isfinite(pts).all():
                    lines.append(pts)
        except Exception:
            continue
        if len(lines) > MAX_SUBPATHS:  # the budget estimate is an upper bound; this is the guarantee
            raise UserError(_too_many(path, "subpaths", MAX_SUBPATHS))
    w, h = float(svg.width or 0), float(svg.height or 0)
    if not (np.isfinite(w) and np.isfinite(h) and 0 <= w <= 1e7 and 0 <= h <= 1e7):
        raise UserError(f"{path} declares a page of {w:g}×{h:g}: give the SVG a real width and height")
    return lines, (w, h)


def _too_many(path: Path, what: str, limit: int) -> str:
    return (
        f"{path} holds more than {limit:,} {what}: too many to plot; simplify it (e.g. `vpype read {path.name} "
        "linemerge linesimplify write out.svg`) or plot a PNG of it"
    )


def check_svg_budget(path: Path) -> tuple[int, int]:
    """(subpaths, numbers) the SVG would expand to, counted on its XML tree; UserError when over a limit."""
    try:
        size = path.stat().st_size
        if size > MAX_SVG_BYTES:
            raise UserError(f"{path} is {size:,} bytes, over {MAX_SVG_BYTES:,}: simplify it or plot a PNG of it")
        root = ET.fromstring(path.read_bytes())
    except OSError as e:
        raise UserError(f"{path} cannot be read ({e.strerror}): check the path") from None
    except ET.ParseError as e:
        raise UserError(f"{path} is not a readable SVG (XML: {e}): export it again as plain SVG") from None
    subpaths, numbers = _expanded(root, path)
    if subpaths > MAX_SUBPATHS:
        raise UserError(_too_many(path, "subpaths", MAX_SUBPATHS))
    if numbers > MAX_NUMBERS:
        raise UserError(_too_many(path, "coordinates", MAX_NUMBERS))
    return subpaths, numbers


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _points_count(text: str) -> int:
    """Numbers in a <polyline>/<polygon> points list that svgelements reads in one pass; ValueError otherwise.

    svgelements pairs the numbers with a backtracking regex whose cost is cubic in a number's length wherever a
    pair fails to match (400 digits: seconds; 1,000: minutes). So the list must be what it pairs at the first
    try: numbers in its own float syntax of at most MAX_NUMBER_CHARS, an even count, and between two numbers
    spaces, one comma, or nothing before a minus sign.
    """
    count, end = 0, 0
    for m in _SVG_FLOAT.finditer(text):
        gap = text[end : m.start()]
        if not _GAP.fullmatch(gap) or (count and not gap and m.group()[0] != "-"):
            raise ValueError(f"{gap[:12]!r} between numbers")
        if m.end() - m.start() > MAX_NUMBER_CHARS:
            raise ValueError(f"a number of {m.end() - m.start()} characters")
        count, end = count + 1, m.end()
    if not _GAP.fullmatch(text[end:]) or count % 2:
        raise ValueError("an odd count" if count % 2 else f"{text[end:][:12]!r} at the end")
    return count


def _own(el: ET.Element) -> tuple[int, int]:
    """Subpaths and numbers of one element alone (its children and what it <use>s not counted)."""
    tag = _local(el.tag)
    if tag not in SHAPES:
        return 0, 0
    if tag == "path":
        d = el.get("d") or ""
        return max(1, len(_MOVES.findall(d))), len(_NUMBER.findall(d))
    if tag in ("polyline", "polygon"):
        return 1, _points_count(el.get("points") or "")
    return 1, 8


def _expanded(root: ET.Element, path: Path) -> tuple[int, int]:
    """Totals over the tree with each <use> replaced by what it refers to; memoised, iterative, saturating."""
    cap = 1 + max(MAX_SUBPATHS, MAX_NUMBERS)
    ids = {el.get("id"): el for el in root.iter() if el.get("id")}
    memo: dict[int, tuple[int, int]] = {}
    busy: set[int] = set()

    def deps(el: ET.Element) -> list[ET.Element]:
        out = list(el)
        if _local(el.tag) == "use":
            ref = next((v for k, v in el.attrib.items() if _local(k) == "href"), "")
            target = ids.get(ref[1:]) if ref.startswith("#") else None
            if target is not None:
                out.append(target)
        return out

    stack: list[tuple[ET.Element, bool]] = [(root, False)]
    while stack:
        el, done = stack.pop()
        key = id(el)
        if key in memo:
            continue
        if not done:
            busy.add(key)
            stack.append((el, True))
            for d in deps(el):
                if id(d) in busy and id(d) not in memo:
                    raise UserError(f"{path} has a <use> that refers to itself: fix the SVG")
                if id(d) not in memo:
                    stack.append((d, False))
            continue
        try:
            s, n = _own(el)
        except ValueError as e:
            raise UserError(
                f"{path}: a <{_local(el.tag)}> points list is not pairs of plain numbers ({e}): fix the SVG"
            ) from None
        for d in deps(el):
            ds, dn = memo[id(d)]
            s, n = min(cap, s + ds), min(cap, n + dn)
        memo[key] = (s, n)
        busy.discard(key)
    return memo[id(root)]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
