import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
SESSION = ROOT / "installation" / "assets" / "sessions" / "face_04.jsonl"
IMAGE = ROOT / "docs" / "screenshot.png"


def _plot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "plot", *args], capture_output=True, text=True, timeout=120
    )


A3_MM, MARGIN_MM = (297.0, 420.0), 15.0
SIDE_MM = min(A3_MM) - 2 * MARGIN_MM  # the square canvas fitted into the page minus margins, centred


def _svg_polylines(svg: Path) -> list[np.ndarray]:
    """The SVG's paths read back by svgelements (not our reader), as (N, 2) polylines in millimetres."""
    from svgelements import SVG, Shape
    from svgelements import Path as SPath

    doc = SVG.parse(str(svg), reify=True)
    mm_per_unit = A3_MM[0] / float(doc.width)  # svgelements gives user units at 96 dpi
    lines = []
    for el in doc.elements():
        if isinstance(el, Shape) and not isinstance(el, SVG):
            for sub in SPath(el).as_subpaths():
                pts = [(seg.end.x, seg.end.y) for seg in SPath(sub) if getattr(seg, "end", None) is not None]
                lines.append(np.array(pts, float) * mm_per_unit)
    return lines


def _to_unit_square(mm: np.ndarray) -> np.ndarray:
    """Paper mm → 0..1 across the drawable square: A3 minus 15 mm margins, the square centred."""
    return (mm - np.array([(A3_MM[0] - SIDE_MM) / 2, (A3_MM[1] - SIDE_MM) / 2])) / SIDE_MM


def _densify(line: np.ndarray, step: float = 0.5) -> np.ndarray:
    seg = np.linalg.norm(np.diff(line, axis=0), axis=1)
    t = np.concatenate([[0], np.cumsum(seg)])
    s = np.linspace(0, t[-1], max(2, int(t[-1] / step) + 1))
    return np.column_stack([np.interp(s, t, line[:, 0]), np.interp(s, t, line[:, 1])])


@pytest.mark.parametrize("source", [SESSION, IMAGE])
def test_plot_writes_svg_and_stats(source: Path, tmp_path: Path) -> None:
    svg, js = tmp_path / "o.svg", tmp_path / "o.json"
    r = _plot(str(source), "--svg", str(svg), "--json", str(js), "--paper", "a3")
    assert r.returncode == 0, r.stderr[-1500:]
    st = json.loads(js.read_text())
    assert st["paths"] > 0 and st["pen_down_mm"] > 0 and st["pen_up_mm"] <= st["pen_up_mm_unordered"]
    lines = _svg_polylines(svg)  # the file itself, opened: what a plotter would draw
    assert len(lines) == st["paths"] and all(len(line) >= 2 for line in lines)
    down = sum(float(np.linalg.norm(np.diff(line, axis=0), axis=1).sum()) for line in lines)
    up = sum(float(np.linalg.norm(b[0] - a[-1])) for a, b in zip(lines, lines[1:], strict=False))
    assert down == pytest.approx(st["pen_down_mm"], abs=0.5) and up == pytest.approx(st["pen_up_mm"], abs=0.5)
    unit = _to_unit_square(np.concatenate(lines))
    assert unit.min() >= -5e-3 and unit.max() <= 1 + 5e-3  # inside the margins (centre lines: ±1.3 mm)
    if source == SESSION:  # every recorded pen point is on a drawn path (0.1 mm simplification)
        from installation.core.session import read_session

        s = read_session(source)
        pen = np.array([(e.x, e.y) for e in s.events if e.kind in ("down", "move")], float) / s.canvas
        drawn = np.concatenate([_densify(_to_unit_square(line) * SIDE_MM) for line in lines])  # mm again
        worst = max(float(np.sqrt(((drawn - p) ** 2).sum(axis=1)).min()) for p in pen * SIDE_MM)
        assert worst < 0.5, worst


def test_vpype_reads_our_svg_with_the_same_geometry(tmp_path: Path) -> None:
    vpype = pytest.importorskip("vpype")
    svg, js = tmp_path / "o.svg", tmp_path / "o.json"
    assert _plot(str(SESSION), "--svg", str(svg), "--json", str(js)).returncode == 0
    st = json.loads(js.read_text())
    doc = vpype.read_multilayer_svg(str(svg), 0.01)
    px_per_mm = 96 / 25.4
    assert sum(len(layer) for layer in doc.layers.values()) == st["paths"]
    assert doc.length() / px_per_mm == pytest.approx(st["pen_down_mm"], rel=1e-3)
    assert sum(layer.pen_up_length()[0] for layer in doc.layers.values()) / px_per_mm == pytest.approx(
        st["pen_up_mm"], rel=1e-3
    )
    w, h = doc.page_size
    assert (w / px_per_mm, h / px_per_mm) == pytest.approx((210.0, 297.0), rel=1e-4)
    assert np.isfinite(doc.bounds()).all()


def test_bad_inputs_are_one_line(tmp_path: Path) -> None:
    r = _plot(str(tmp_path / "none.png"), "--svg", str(tmp_path / "o.svg"))
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "x.txt").write_text("hi")
    r = _plot(str(tmp_path / "x.txt"), "--svg", str(tmp_path / "o.svg"))
    assert r.returncode == 2 and "unknown kind" in r.stderr
    r = _plot(str(SESSION), "--svg", str(tmp_path / "o.svg"), "--paper", "b9")
    assert r.returncode == 2 and "unknown paper" in r.stderr


def _sitter_record(folder: Path) -> None:
    """drawing.svg + drawing.png of a real sitter portrait of the face fixture, as the archive writes them."""
    import cv2

    from installation.adapters.faces import FaceDetector, crop_face
    from installation.core.face_sketch import STYLES, sketch_for_time
    from installation.core.plotpaths import PaperMapping, paper_size
    from installation.runtime.sitter.record import record_files

    img = cv2.imread(str(ROOT / "tests" / "fixtures" / "faces" / "face.jpg"))
    (box,) = FaceDetector().detect(img)
    paper = paper_size("a4")
    crop = crop_face(img, box, 256)
    plan = sketch_for_time(crop, STYLES["portrait"], 1024, PaperMapping(1024, paper, 15.0), 600, 300.0, 60.0)
    files = record_files(plan.paths_mm, [0.0] * len(plan.paths_mm), paper, None, None)
    for name in ("drawing.svg", "drawing.png"):
        (folder / name).write_bytes(files[name])


def test_a_sitter_drawing_png_plots_its_lines_once(tmp_path: Path) -> None:
    # the drawing's own SVG is the truth: tracing both sides of each pen line gave about 1.5-2× its pen-down
    _sitter_record(tmp_path)
    out = {}
    for name in ("drawing.png", "drawing.svg"):
        svg, js = tmp_path / f"{name}.out.svg", tmp_path / f"{name}.json"
        r = _plot(str(tmp_path / name), "--svg", str(svg), "--json", str(js))
        assert r.returncode == 0, r.stderr[-1500:]
        out[name] = json.loads(js.read_text())
    png, own = out["drawing.png"], out["drawing.svg"]
    assert png["placed"] == own["placed"] == "whole sheet"
    assert png["pen_down_mm"] == pytest.approx(own["pen_down_mm"], rel=0.10)
    assert png["traced_paths"] == png["paths"] and 0.2 <= png["line_width_mm"]["p50"] <= 0.5  # 1 px at 4 px/mm
    text = (tmp_path / "drawing.png.out.svg").read_text()
    assert text.count("data-width-mm=") == png["paths"]


def test_an_svg_page_is_refitted_onto_the_chosen_paper(tmp_path: Path) -> None:
    from installation.core.svg_paths import read_svg_paths, to_svg

    a4 = tmp_path / "a4.svg"
    box = np.array([[20.0, 30.0], [190.0, 30.0], [190.0, 270.0], [20.0, 270.0], [20.0, 30.0]])
    a4.write_text(to_svg([box, np.array([[105.0, 100.0], [105.0, 200.0]])], (210.0, 297.0)))
    bounds = {}
    for paper in ("a4", "a3"):
        out = tmp_path / f"{paper}.out.svg"
        r = _plot(str(a4), "--svg", str(out), "--paper", paper, "--tolerance-mm", "0")
        assert r.returncode == 0, r.stderr[-1500:]
        lines, (w, h) = read_svg_paths(out)
        mm = np.concatenate(lines) / (96 / 25.4)
        bounds[paper] = (mm.min(axis=0), mm.max(axis=0), w / (96 / 25.4), h / (96 / 25.4))
    lo, hi, w, h = bounds["a4"]
    assert (w, h) == pytest.approx((210, 297), abs=1e-3)
    assert lo == pytest.approx([20, 30], abs=0.05) and hi == pytest.approx([190, 270], abs=0.05)  # A4 onto A4: as is
    lo, hi, w, h = bounds["a3"]
    s = min(297 / 210, 420 / 297)  # √2 within the rounding of the paper sizes
    off = np.array([(297 - 210 * s) / 2, (420 - 297 * s) / 2])
    assert (w, h) == pytest.approx((297, 420), abs=1e-3)
    assert lo == pytest.approx(np.array([20, 30]) * s + off, abs=0.05)
    assert hi == pytest.approx(np.array([190, 270]) * s + off, abs=0.05)
