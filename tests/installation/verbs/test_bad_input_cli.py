"""Bad numbers and hostile files through the real command line: exit 2 and one `error:` line, never a traceback."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parents[3]
SESSION = ROOT / "installation" / "assets" / "sessions" / "face_04.jsonl"


def _sandboxed(args: tuple[str, ...], box: Path) -> list[str]:
    """A show verb's arguments with its log, archive and OSC port kept off the repository's own (in box)."""
    if not args or args[0] not in ("demo", "live", "record"):
        return list(args)
    sets = [
        "osc.port=0",
        "osc.state_out=[]",
        f"logging.file={json.dumps(str(box / 'logs' / 'installation.jsonl'))}",
        f"archive.root={json.dumps(str(box / 'archive'))}",
        f"paths.saved={json.dumps(str(box / 'saved'))}",
        f"paths.recordings={json.dumps(str(box / 'recordings'))}",
    ]
    return [args[0], *[a for s in sets for a in ("--set", s)], *args[1:]]  # the test's own --set still wins


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="bad-input-") as box:  # removed after the run, not left in /tmp
        return subprocess.run(
            [sys.executable, str(ROOT / "run.py"), *_sandboxed(args, Path(box))],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"},
        )


def _one_line_error(r: subprocess.CompletedProcess, *words: str) -> str:
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and r.stderr.rstrip().endswith(errors[0]), r.stderr[-2000:]
    for w in words:
        assert w in errors[0], errors[0]
    return errors[0]


def _png_header(path: Path, width: int, height: int) -> None:
    """A valid PNG signature and header declaring width × height, with a few bytes of pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_plot_of_a_session_with_a_nan_point(tmp_path: Path) -> None:
    lines = SESSION.read_text().splitlines()
    event = json.loads(lines[5])
    lines[5] = json.dumps({**event, "x": float("nan")})
    bad = tmp_path / "nan.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    _one_line_error(_run("plot", str(bad), "--svg", str(tmp_path / "o.svg")), "line 6", "not finite")
    assert not (tmp_path / "o.svg").exists()


def test_plot_through_a_singular_profile_is_refused_not_zero_paths(tmp_path: Path) -> None:
    profile = tmp_path / "venue.json"
    plotter = {
        "matrix": [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
        "kind": "homography",
        "residual_mm": 0.0,
        "max_residual_mm": 0.0,
        "points": [],
        "paper_mm": [210.0, 297.0],
        "margin_mm": 15.0,
    }
    profile.write_text(json.dumps({"schema": 1, "plotter": plotter}))
    r = _run("plot", str(SESSION), "--svg", str(tmp_path / "o.svg"), "--profile", str(profile))
    _one_line_error(r, "plotter.matrix", "calibrate plotter")
    assert not (tmp_path / "o.svg").exists()


@pytest.mark.parametrize("size", [(40_000, 40_000), (9_000, 9_000)])
def test_plot_of_a_small_png_declaring_huge_dimensions(tmp_path: Path, size: tuple[int, int]) -> None:
    png = tmp_path / "huge.png"
    _png_header(png, *size)
    assert png.stat().st_size < 200
    _one_line_error(_run("plot", str(png), "--svg", str(tmp_path / "o.svg")), str(png))


def test_plot_of_an_svg_that_unfolds_into_a_billion_shapes(tmp_path: Path) -> None:
    head = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="9" height="9">'
    parts = ['<defs><g id="g0"><path d="M0 0L1 1" stroke="black"/></g>']
    for i in range(1, 10):
        parts.append(f'<g id="g{i}">' + "".join(f'<use xlink:href="#g{i - 1}"/>' for _ in range(10)) + "</g>")
    svg = tmp_path / "bomb.svg"
    svg.write_text(head + "".join(parts) + '</defs><use xlink:href="#g9"/></svg>')
    t0 = time.perf_counter()
    _one_line_error(_run("plot", str(svg), "--svg", str(tmp_path / "o.svg")), "subpaths")
    assert time.perf_counter() - t0 < 100  # generous; unbounded, it runs for hours


def test_clip_score_of_a_prompt_of_ten_thousand_letters(tmp_path: Path) -> None:
    prompt = "".join("abcdefghijklmnopqrstuvwxyz"[(i * 7919) % 26] for i in range(10_000))
    r = _run("clip-score", "--image", str(ROOT / "docs" / "screenshot.png"), "--prompts", f"a cat|{prompt}",
             "--json", str(tmp_path / "s.json"))  # fmt: skip
    _one_line_error(r, "10,000 characters", "under 1,000")


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("display.crossfade_s=nan", "display.crossfade_s"),
        ("canvas.max_width=inf", "canvas.max_width"),
        ("input.replay_speed=-3", "input.replay_speed"),
        ('plotter.robot="the-robot"', "plotter.robot"),
        ('osc.state_out=["127.0.0.1:99999"]', "osc.state_out"),
    ],
)
def test_demo_with_a_bad_number_or_address(tmp_path: Path, setting: str, words: str) -> None:
    r = _run("demo", "--headless", "--seconds", "1", "--out", str(tmp_path / "o"), "--set", setting)
    _one_line_error(r, words)


@pytest.mark.parametrize(
    "content",
    [b'[display]\nlayout = "\xc3\x28"\n', b"[display]\nbackground = " + b"[" * 3000 + b"]" * 3000 + b"\n"],
)
def test_demo_with_a_broken_venue_file(tmp_path: Path, content: bytes) -> None:
    venue = tmp_path / "venue.toml"
    venue.write_bytes(content)
    r = _run("demo", "--headless", "--seconds", "1", "--out", str(tmp_path / "o"), "--config", str(venue))
    _one_line_error(r, str(venue))


def _lying_model(path: Path) -> None:
    """An ONNX file whose metadata promises a 3-channel answer while the graph gives back its 1-channel input."""
    x = helper.make_tensor_value_info("sketch", TensorProto.FLOAT, [1, 1, 256, 256])
    y = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 256, 256])
    graph = helper.make_graph([helper.make_node("Identity", ["sketch"], ["image"])], "liar", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    meta = {"kind": "pix2pix", "format_version": "1", "input_size": "256", "input_channels": "1",
            "output_channels": "3", "model_name": "liar"}  # fmt: skip
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    onnx.save(model, str(path))


def test_a_model_whose_output_disagrees_with_its_metadata_fails_at_load(tmp_path: Path) -> None:
    model = tmp_path / "liar.onnx"
    _lying_model(model)
    r = _run("demo", "--headless", "--seconds", "2", "--out", str(tmp_path / "o"), "--model", str(model))
    _one_line_error(r, "liar.onnx", "[1, 1, 256, 256]", "[1, 3, 256, 256]")
    assert not (tmp_path / "o" / "metrics.json").exists()


@pytest.mark.parametrize(("blocked", "argv"), [("cv2", ["quality", "--help"]), ("torch", ["train", "--help"])])
def test_a_missing_dependency_is_one_line_naming_it_and_the_setup(blocked: str, argv: list[str]) -> None:
    """run.py with an interpreter that lacks a dependency (not the project's .venv): one line, exit 2."""
    code = (
        f"import runpy, sys; sys.modules[{blocked!r}] = None; "  # importing it now fails as if not installed
        f"sys.argv = ['run.py', *{argv!r}]; runpy.run_path('run.py', run_name='__main__')"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    (line,) = r.stderr.strip().splitlines()
    assert repr(blocked) in line and "scripts/setup.sh" in line


def test_an_output_folder_that_cannot_be_made_is_refused_before_the_show(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = _run("demo", "--headless", "--seconds", "60", "--out", str(blocker / "run"))
    _one_line_error(r, "--out", str(blocker))


def test_record_never_overwrites_an_earlier_session(tmp_path: Path) -> None:
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_text('{"format": "session"}\n')
    r = _run("record", "--headless", "--seconds", "1", "--out", str(tmp_path / "o"), "--file", str(earlier))
    _one_line_error(r, "already exists", str(earlier))
    assert earlier.read_text() == '{"format": "session"}\n'


def test_two_recordings_in_the_same_second_get_two_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from installation.verbs import record

    class Frozen:
        @staticmethod
        def now():  # noqa: ANN205
            import datetime as dt

            return dt.datetime(2026, 12, 2, 10, 0, 0)

    monkeypatch.setattr(record, "datetime", Frozen)
    first = record._new_recording(tmp_path)
    first.write_text("")
    second = record._new_recording(tmp_path)
    assert first.name == "20261202-100000.jsonl" and second.name == "20261202-100000-2.jsonl"
