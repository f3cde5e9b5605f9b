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


@pytest.mark.parametrize("source", [SESSION, IMAGE])
def test_plot_writes_svg_and_stats(source: Path, tmp_path: Path) -> None:
    svg, js = tmp_path / "o.svg", tmp_path / "o.json"
    r = _plot(str(source), "--svg", str(svg), "--json", str(js), "--paper", "a3")
    assert r.returncode == 0, r.stderr[-1500:]
    st = json.loads(js.read_text())
    assert st["paths"] > 0 and st["pen_down_mm"] > 0 and st["pen_up_mm"] <= st["pen_up_mm_unordered"]


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
