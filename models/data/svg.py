"""Clipart SVGs → a full-colour render and the outline polylines of the same drawing, in one frame.

Both come from the document's own viewport (96 dpi user units): resvg renders the pixels, svgelements reads
the geometry. The drawing's visible extent (from the render's alpha) is then cropped to a centred square
with a margin and scaled to `size`; the outlines go through the same crop and scale, so they line up.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MAX_BYTES = 1_500_000  # larger files are mostly textures and photo traces: slow, and no use as sketches
MAX_PATHS = 600
MARGIN = 0.06  # of the square side, on each side
PERSON_WORDS = re.compile(
    r"\b(face|faces|head|heads|portrait|man|men|woman|women|girl|boy|person|people|lady|child|kid|baby|"
    r"guy|king|queen|clown|smile|smiling|avatar|human|cartoon character|self.?portrait)\b",
    re.I,
)
VAL_FRACTION = 0.07


class SvgSkip(Exception):
    """This SVG cannot be used; the message is the reason the builder records."""


@dataclass(frozen=True)
class Drawing:
    target: np.ndarray  # (size, size, 3) uint8 RGB on white
    outlines: list[np.ndarray]  # each float32 [K, 2] in target pixel coordinates


def read_meta(path: Path, root: Path | None = None) -> dict[str, str]:
    """Title, keywords and category of an openclipart SVG (from its RDF metadata and folder)."""
    head = path.read_bytes()[:200_000].decode("utf-8", "replace")
    title = _first(re.findall(r"<dc:title>\s*([^<]*?)\s*</dc:title>", head)) or path.stem.replace("_", " ")
    subject = re.search(r"<dc:subject>(.*?)</dc:subject>", head, re.S)
    keywords = re.findall(r"<rdf:li>\s*([^<]*?)\s*</rdf:li>", subject.group(1)) if subject else []
    rel = path.relative_to(root) if root is not None else Path(path.name)
    category = "/".join(rel.parts[:-1])
    return {"title": title, "keywords": ", ".join(k for k in keywords if k), "category": category}


def is_person(meta: dict[str, str], path: Path) -> bool:
    text = " ".join([meta.get("title", ""), meta.get("keywords", ""), path.stem.replace("_", " ")])
    return meta.get("category", "").startswith("people") or bool(PERSON_WORDS.search(text))


def split_of(relpath: str) -> str:
    """'train' or 'val' from a stable hash of the source drawing's relative path."""
    h = int(hashlib.sha256(relpath.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "val" if h < VAL_FRACTION else "train"


def load_drawing(path: Path, size: int) -> Drawing:
    """Render and outlines of one SVG at `size`² (raises SvgSkip with a reason)."""
    if path.stat().st_size > MAX_BYTES:
        raise SvgSkip("too large")
    _check_budget(path)
    rgba = _render_rgba(path, size * 2)
    outlines = _outlines(path, rgba.shape[1] / _doc_size(path)[0])
    alpha = rgba[:, :, 3]
    ys, xs = np.nonzero(alpha > 8)
    if len(xs) < 50:
        raise SvgSkip("empty render")
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    side = max(x1 - x0, y1 - y0) / (1 - 2 * MARGIN)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    k = size / side
    # affine: doc-pixel → target pixel
    m = np.array([[k, 0, size / 2 - k * cx], [0, k, size / 2 - k * cy]], np.float32)
    warped = cv2.warpAffine(rgba, m, (size, size), flags=cv2.INTER_AREA, borderValue=(0, 0, 0, 0))
    a = warped[:, :, 3:4].astype(np.float32) / 255.0
    rgb = warped[:, :, 2::-1].astype(np.float32)  # BGRA → RGB
    target = (rgb * a + 255.0 * (1 - a)).round().clip(0, 255).astype(np.uint8)
    lines = [(p @ m[:, :2].T + m[:, 2]).astype(np.float32) for p in outlines]
    lines = [p for p in lines if len(p) >= 2 and np.ptp(p, axis=0).max() >= 1.5]
    if not lines:
        raise SvgSkip("no outlines")
    if float((target < 250).any(axis=2).mean()) < 0.01:
        raise SvgSkip("nearly blank")
    return Drawing(target, lines)


def _check_budget(path: Path) -> None:
    """The subpaths the file would unfold into, counted on its XML tree before any SVG library parses it: a few
    KB of nested <use> would otherwise keep svgelements and resvg busy for hours."""
    from installation.core.errors import UserError
    from installation.core.svg_paths import check_svg_budget

    try:
        check_svg_budget(path)
    except UserError as e:
        text = str(e)
        raise SvgSkip(
            "use refers to itself"
            if "refers to itself" in text
            else "unparsable (ParseError)"
            if "XML" in text
            else "too many shapes"
        ) from None


def _first(items: list[str]) -> str:
    return items[0].strip() if items else ""


def _doc_size(path: Path) -> tuple[float, float]:
    from svgelements import SVG

    svg = _parse(path, SVG)
    w, h = float(svg.width or 0), float(svg.height or 0)
    if w <= 0 or h <= 0:
        raise SvgSkip("no document size")
    return w, h


def _parse(path: Path, cls):  # noqa: ANN001, ANN202
    try:
        return cls.parse(str(path), reify=True)
    except Exception as e:  # svgelements raises many kinds on bad files
        raise SvgSkip(f"unparsable ({type(e).__name__})") from e


def _render_rgba(path: Path, longest: int) -> np.ndarray:
    import resvg_py

    w, h = _doc_size(path)
    zoom = longest / max(w, h)
    text = path.read_text(encoding="utf-8", errors="replace")
    text = _ROOT_SIZE.sub(lambda m: _sized_root(m.group(0), w, h), text, count=1)
    try:
        png = resvg_py.svg_to_bytes(svg_string=text, width=round(w * zoom), height=round(h * zoom))
    except Exception as e:
        raise SvgSkip(f"unrenderable ({type(e).__name__})") from e
    img = cv2.imdecode(np.frombuffer(bytes(png), np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim != 3 or img.shape[2] != 4:
        raise SvgSkip("render not RGBA")
    return img


_ROOT_SIZE = re.compile(r"<svg\b[^>]*>", re.S)


def _sized_root(tag: str, w: float, h: float) -> str:
    """The root <svg> tag with width/height in plain px (resvg refuses some unit forms svgelements reads)."""
    tag = re.sub(r"\s(width|height)\s*=\s*(\"[^\"]*\"|'[^']*')", "", tag)
    return tag[:4] + f' width="{w:.3f}" height="{h:.3f}"' + tag[4:]


def _outlines(path: Path, scale: float) -> list[np.ndarray]:
    """Polylines (doc pixels × scale) of every visible shape, curves sampled about every 1.5 px."""
    from svgelements import SVG, Shape
    from svgelements import Path as SPath

    svg = _parse(path, SVG)
    out: list[np.ndarray] = []
    for el in svg.elements():
        if not isinstance(el, Shape):
            continue
        if el.values.get("visibility") in ("hidden", "collapse") or el.values.get("display") == "none":
            continue
        if (el.fill is None or el.fill.value is None) and (el.stroke is None or el.stroke.value is None):
            continue
        try:
            p = SPath(el)
            subpaths = list(p.as_subpaths())
        except Exception:
            continue
        for sub in subpaths:
            sp = SPath(sub)
            try:
                length = sp.length(error=1e-2, min_depth=2) * scale
            except Exception:
                continue
            if not np.isfinite(length) or length < 2:
                continue
            n = int(min(400, max(2, length / 1.5)))
            pts = sp.npoint(np.linspace(0, 1, n)) * scale
            if np.isfinite(pts).all():
                out.append(pts.astype(np.float32))
            if len(out) >= MAX_PATHS:
                return out
    return out
