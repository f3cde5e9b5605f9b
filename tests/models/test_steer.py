import math
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from models.clip.api import tiny_clip
from models.steer.cutouts import CutoutParams, cutouts
from models.steer.loss import Target, spherical_distance, steer_loss
from models.steer.pixels import PixelsGenerator
from models.steer.raster import bezier_polylines, rasterise
from models.steer.steerer import Steerer
from models.steer.strokes import StrokesGenerator

ROOT = Path(__file__).resolve().parents[2]
NO_NOISE = CutoutParams(count=3, noise=0.0)


def _brute_force(
    points: torch.Tensor, widths: torch.Tensor, inks: torch.Tensor, size: int, soft: float
) -> torch.Tensor:
    """Every stroke against every pixel, no tiles: the reference the tiled rasteriser must match."""
    c = torch.arange(size, dtype=torch.float32) + 0.5
    gy, gx = torch.meshgrid(c, c, indexing="ij")
    p = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)  # (P, 2)
    img = torch.ones(3, size * size)
    for n in range(points.shape[0]):
        a, b = points[n, :-1] * size, points[n, 1:] * size  # (S, 2)
        ab = b - a
        t = (((p[:, None] - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-8)).clamp(0, 1)  # (P, S)
        d = (p[:, None] - a - t[..., None] * ab).norm(dim=-1).min(1).values  # (P,)
        cov = torch.sigmoid((widths[n] / 2 - d) / soft)
        img = img * (1 - cov[None] * (1 - inks[n, :, None]))
    return img.reshape(3, size, size)


@pytest.mark.slow
def test_rasteriser_matches_brute_force_and_draws_where_the_stroke_is() -> None:
    g = torch.Generator().manual_seed(1)
    ctrl = torch.rand(12, 7, 2, generator=g)
    pts = bezier_polylines(ctrl, 6)  # (12, 13, 2)
    widths = 1 + 3 * torch.rand(12, generator=g)
    inks = torch.rand(12, 3, generator=g) * 0.5
    img = rasterise(pts, widths, inks, (40, 40))
    ref = _brute_force(pts, widths, inks, 40, 0.6)
    assert torch.allclose(img, ref, atol=2e-3)
    line = rasterise(torch.tensor([[[0.1, 0.5], [0.9, 0.5]]]), torch.tensor([4.0]), torch.zeros(1, 3), (64, 64))
    assert line[:, 32, 10:54].max() < 0.1  # black on the line
    assert line[:, 5, :].min() > 0.99 and line[:, :, 0].min() > 0.99  # white away from it (round caps)


def test_rasteriser_gradients_are_finite_and_non_zero() -> None:
    gen = StrokesGenerator(size=64, n_strokes=10, seed=3)
    img = gen()
    (img * torch.linspace(0, 1, 64)[None, None]).sum().backward()  # any non-constant function of the image
    for name, p in gen.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_bezier_hits_its_end_points() -> None:
    ctrl = torch.tensor([[[0.0, 0.0], [0.2, 1.0], [0.8, 1.0], [1.0, 0.0], [1.0, 0.5], [1.0, 0.8], [0.5, 0.9]]])
    pts = bezier_polylines(ctrl, 5)
    assert pts.shape == (1, 11, 2)
    assert torch.allclose(pts[0, 0], ctrl[0, 0]) and torch.allclose(pts[0, 5], ctrl[0, 3])
    assert torch.allclose(pts[0, -1], ctrl[0, -1])


def test_spherical_distance_and_negative_weights() -> None:
    a = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]), dim=1)
    d = spherical_distance(a, a[:1])[:, 0]
    assert d[0] == pytest.approx(0.0, abs=1e-6)
    assert d[1] == pytest.approx(2 * (math.pi / 4) ** 2, rel=1e-5)
    assert d[2] == pytest.approx(math.pi**2 / 2, rel=1e-5)
    near, far = a[:1], a[2:]
    push = Target(a[:1], torch.tensor([-0.5]))
    assert steer_loss(far, push) < steer_loss(near, push)  # a negative prompt rewards distance


def test_cutouts_keep_the_whole_image_first_and_pad_with_paper() -> None:
    img = torch.rand(3, 32, 32)
    views = cutouts(img, 32, CutoutParams(count=4, noise=0.0), torch.Generator().manual_seed(0))
    assert views.shape == (4, 3, 32, 32)
    assert torch.allclose(views[0], img, atol=1e-5)
    assert not torch.allclose(views[1], img, atol=1e-2)
    wide = cutouts(torch.zeros(3, 32, 32), 32, CutoutParams(count=8, scale=(1.0, 1.0), perspective=0.3, noise=0.0),
                   torch.Generator().manual_seed(0))  # fmt: skip
    assert wide[1:].max() > 0.9  # outside the image is white paper, not black


def _image_target(clip: torch.nn.Module) -> Target:
    disk = torch.ones(3, 64, 64)
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    disk[:, (yy - 32) ** 2 + (xx - 20) ** 2 < 180] = 0.0  # a black disk left of centre
    with torch.no_grad():
        emb = clip.encode_image(disk[None])
    return Target(emb, torch.ones(1))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["strokes", "pixels"])
def test_loss_falls_over_steps_for_a_fixed_target(kind: str) -> None:
    torch.manual_seed(0)
    clip = tiny_clip(0)
    gen = StrokesGenerator(size=64, n_strokes=16, seed=0) if kind == "strokes" else PixelsGenerator(size=64, seed=0)
    st = Steerer(clip, gen, "anything", NO_NOISE, seed=0)
    st.set_target(_image_target(clip), "a disk")
    losses = [st.step()[0] for _ in range(30)]
    assert st.prompt_text == "a disk:1"
    assert np.mean(losses[-5:]) < 0.9 * np.mean(losses[:5]), losses  # a random tiny CLIP: small absolute values


@pytest.mark.slow
def test_portrait_keeps_the_sketch_and_loss_falls() -> None:
    from models.steer.portrait import PortraitGenerator, load_portrait_generator

    g, res = load_portrait_generator()
    sketch = torch.ones(res, res)
    sketch[100:110, 60:200] = 0.0  # the visitor's line
    clip = tiny_clip(0)
    gen = PortraitGenerator(sketch, g, n_strokes=8, seed=0)
    st = Steerer(clip, gen, "x", NO_NOISE, seed=0)
    st.set_target(_image_target(clip), "a disk")
    losses = [st.step()[0] for _ in range(12)]
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
    with torch.no_grad():
        combined = gen.combined_sketch()[0]
    assert combined[100:110, 60:200].max() < 0.01  # the visitor's ink is never erased
    assert all(not p.requires_grad for p in g.parameters())


@pytest.mark.slow
def test_set_prompt_from_another_thread_retargets_without_restart() -> None:
    st = Steerer(tiny_clip(0), StrokesGenerator(size=48, n_strokes=6), "a cat", NO_NOISE)
    opt = st.opt
    prompts = []
    for frame in st.run(steps=12, every=3):
        prompts.append(frame.prompt)
        if frame.step == 3:
            t = threading.Thread(target=st.set_prompt, args=("a dog:2 | scribble:-0.5",))
            t.start()
            t.join()
    assert prompts[0] == "a cat:1"
    assert prompts[-1] == "a dog:2 | scribble:-0.5"
    assert st.retargets == 1 and st.step_count == 12 and st.opt is opt
    assert st.target is not None and st.target.weights.tolist() == [2.0, -0.5]


@pytest.mark.slow
def test_stop_event_ends_the_run_between_steps() -> None:
    st = Steerer(tiny_clip(0), PixelsGenerator(size=32), "a cat", NO_NOISE)
    stop = threading.Event()
    frames = []
    for f in st.run(steps=100, every=2, stop=stop):
        frames.append(f)
        stop.set()
    assert st.step_count == 2 and frames[-1].image.shape == (32, 32, 3)


def test_pixels_can_start_from_an_image() -> None:
    img = torch.rand(3, 32, 32) * 0.8 + 0.1
    out = PixelsGenerator(size=32, init_image=img)()
    assert torch.allclose(out, img, atol=1e-3)


def test_strokes_start_from_given_lines_and_give_plotter_paths() -> None:
    line = np.array([[0.1, 0.1], [0.5, 0.5], [0.9, 0.2]])
    gen = StrokesGenerator(size=100, n_strokes=5, init_paths=[line], seed=0)
    paths = gen.paths()
    assert paths and all(p.shape[1] == 2 for p in paths)
    first = paths[0]  # the given line is the darkest stroke, so it comes first
    assert np.allclose(first[0], [10, 10], atol=1e-3) and np.allclose(first[-1], [90, 20], atol=1e-3)


def _steer_cli(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "run.py"), "steer", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.mark.slow
def test_cli_malformed_prompt_is_one_line_and_exit_2(tmp_path: Path) -> None:
    r = _steer_cli("--prompt", "a cat:heavy | dog", "--out", str(tmp_path / "x.png"))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "'heavy'" in r.stderr and "Traceback" not in r.stderr
    r = _steer_cli("--prompt", "a cat", "--out", str(tmp_path / "x.png"), "--clip", str(tmp_path / "none.pt"))
    assert r.returncode == 2 and "none.pt" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_cli_writes_png_and_mm_svg(tmp_path: Path) -> None:
    from installation.core.svg_paths import read_svg_paths
    from models.clip.checkpoint import save_checkpoint

    clip_file = tmp_path / "tiny.pt"
    save_checkpoint(clip_file, tiny_clip(0))
    out, svg = tmp_path / "o" / "a.png", tmp_path / "o" / "a.svg"
    r = _steer_cli("--prompt", "a cat | scribble:-0.3", "--generator", "strokes", "--steps", "4", "--seed", "1",
                   "--size", "64", "--strokes", "8", "--out", str(out), "--svg", str(svg), "--clip", str(clip_file),
                   "--frames", str(tmp_path / "frames"), "--every", "2")  # fmt: skip
    assert r.returncode == 0, r.stderr
    import cv2

    assert cv2.imread(str(out)).shape == (64, 64, 3)
    paths, (w, h) = read_svg_paths(svg)  # svgelements reads millimetres as 96-dpi pixels
    mm = 25.4 / 96
    assert (round(w * mm), round(h * mm)) == (210, 297) and len(paths) >= 1
    assert all(p[:, 0].min() * mm >= 15 - 0.01 and p[:, 0].max() * mm <= 195 + 0.01 for p in paths)  # margins
    assert sorted(x.name for x in (tmp_path / "frames").iterdir()) == ["step_00002.png", "step_00004.png"]


def test_start_from_a_session_or_an_image(tmp_path: Path) -> None:
    import cv2

    from installation.core.errors import UserError
    from models.steer.sources import DEFAULT_SKETCH, load_start, make_generator

    s = load_start(DEFAULT_SKETCH, 64)
    assert s.image.shape == (3, 64, 64) and s.image.min() < 0.5 < s.image.max()  # ink on paper
    assert s.lines and all(ln.min() >= 0 and ln.max() <= 1 for ln in s.lines)
    gen = make_generator("strokes", 64, start=DEFAULT_SKETCH, n_strokes=len(s.lines) + 2)
    assert isinstance(gen, StrokesGenerator)
    assert torch.allclose(gen.ctrl[0, 0], torch.from_numpy(s.lines[0][0]).float(), atol=1e-5)  # the longest line
    img = np.full((80, 80, 3), 255, np.uint8)
    cv2.circle(img, (40, 40), 20, (0, 0, 0), 3)
    cv2.imwrite(str(tmp_path / "c.png"), img)
    assert load_start(tmp_path / "c.png", 64).lines  # the circle's contour
    px = make_generator("pixels", 64, start=tmp_path / "c.png")
    assert float(px()[:, 32, 32].mean()) > 0.9 and float(px()[:, 32, 16].mean()) < 0.3  # starts as the image
    for bad in (tmp_path / "none.png", tmp_path / "c.txt"):
        bad.write_text("x") if bad.suffix == ".txt" else None
        with pytest.raises(UserError, match=bad.name):
            load_start(bad, 64)
