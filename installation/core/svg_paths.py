"""Ordered paths to SVG in millimetres (vpype, Inkscape and AxiDraw read it), and SVG paths back to polylines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from installation.core.errors import UserError


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
    return lines, (float(svg.width or 0), float(svg.height or 0))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
