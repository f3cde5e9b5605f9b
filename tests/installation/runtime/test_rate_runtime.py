"""The display rate's runtime parts on real ONNX Runtime sessions, a real pygame surface and real files:
int8 copies made by `run.py quantize`, the fp32/int8 choice, the adaptive ladder's swaps, the frame writer."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from installation.core.precision import MIN_SPEEDUP
from installation.runtime.adaptive_models import build
from installation.runtime.inference import RuntimeSettings, open_model, read_metadata
from installation.runtime.precision import best_precision, int8_path
from installation.verbs.quantize import quantize
from models.onnx_parity import set_metadata as _set_metadata
from models.pix2pix.checkpoint import save_checkpoint
from models.pix2pix.config import Pix2PixConfig
from models.pix2pix.export import export
from models.pix2pix.networks import UnetGenerator, init_weights

CPU = RuntimeSettings(providers=("cpu",), intra_op_threads=1, warmup_runs=1)


@pytest.fixture(scope="module")
def fp32_and_int8(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny exported generator (ngf 4, 256²) and its int8 copy, calibrated on the embedded sessions."""
    torch.manual_seed(2)
    cfg = Pix2PixConfig(ngf=4, resolution=256)
    g = UnetGenerator(cfg)
    init_weights(g)
    d = tmp_path_factory.mktemp("rate")
    save_checkpoint(d / "g.pt", g, cfg)
    export(d / "g.pt", d / "g.onnx", parity_count=2)
    report = quantize(d / "g.onnx", int8_path(d / "g.onnx"), None, 3, threads=1)
    assert report["file"] == str(d / "g.int8.onnx")
    return d / "g.onnx", d / "g.int8.onnx"


def test_quantize_writes_an_int8_copy_that_says_what_it_is(fp32_and_int8: tuple[Path, Path]) -> None:
    fp32, int8 = fp32_and_int8
    meta, raw = read_metadata(int8)
    assert meta["precision"] == "int8" and meta["model_name"].endswith("-int8")
    assert meta["source_file"] == "g.onnx"
    import hashlib

    assert meta["source_sha256"] == hashlib.sha256(fp32.read_bytes()).hexdigest()
    q = json.loads(meta["int8_quality"])
    assert q["within_goals"] is None  # no pack: no targets, so never used by `auto`
    assert 0 <= q["answer_l1_to_fp32"] < 0.5
    import onnx

    ops = {n.op_type for n in onnx.load_model_from_string(raw).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # QDQ format
    graph = onnx.load_model_from_string(raw).graph
    kept = json.loads(meta["quantization"])["kept_fp32"]
    assert len(kept) == 1  # the output convolution: its weights stay fp32, not QDQ-wrapped int8
    (conv,) = [n for n in graph.node if n.name == kept[0]]
    feeders = {o: n.op_type for n in graph.node for o in n.output}
    assert feeders.get(conv.input[1]) != "DequantizeLinear"
    others = [n for n in graph.node if n.op_type == "Conv" and n.name != kept[0]]
    assert others and all(feeders.get(n.input[1]) == "DequantizeLinear" for n in others)
    model = open_model(int8, None, CPU)  # the runtime opens it like any export and its answers are images
    out = model.run(np.full((256, 256), 255, np.uint8))
    assert out.shape == (256, 256, 3) and out.dtype == np.uint8
    assert json.loads(int8.with_suffix(".json").read_text())["kind"] == "pix2pix"


def test_unmeasured_int8_is_not_used_unless_forced(
    fp32_and_int8: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    fp32, _ = fp32_and_int8
    model = open_model(fp32, None, CPU)
    with caplog.at_level(logging.WARNING):
        auto = best_precision(model, lambda p: open_model(p, None, CPU), "auto")
    assert auto.precision == "fp32" and auto.model is model and "never measured" in auto.reason
    assert "model precision: fp32" in caplog.text
    forced = best_precision(model, lambda p: open_model(p, None, CPU), "on")
    assert forced.precision == "int8" and forced.model.metadata["precision"] == "int8"
    opened = []
    off = best_precision(model, lambda p: opened.append(p), "off")
    assert off.precision == "fp32" and opened == []  # off: the int8 file is not even opened


def test_measured_int8_is_used_exactly_where_it_is_faster(fp32_and_int8: tuple[Path, Path], tmp_path: Path) -> None:
    fp32, int8 = fp32_and_int8
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "g.onnx").write_bytes(fp32.read_bytes())
    (folder / "g.int8.onnx").write_bytes(int8.read_bytes())
    _set_metadata(folder / "g.int8.onnx", {"int8_quality": json.dumps({"within_goals": True})})
    model = open_model(folder / "g.onnx", None, CPU)
    r = best_precision(model, lambda p: open_model(p, None, CPU), "auto")
    assert r.fp32_ms is not None and r.int8_ms is not None
    wins = r.fp32_ms / r.int8_ms >= MIN_SPEEDUP
    assert r.precision == ("int8" if wins else "fp32")
    _set_metadata(folder / "g.int8.onnx", {"int8_quality": json.dumps({"within_goals": False})})
    bad = best_precision(model, lambda p: open_model(p, None, CPU), "auto")
    assert bad.precision == "fp32" and "outside the goals" in bad.reason and bad.cheaper == []


def test_adaptive_ladder_swaps_to_the_cheaper_model_and_back(
    fp32_and_int8: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    fp32, int8 = fp32_and_int8
    best, cheap = open_model(fp32, None, CPU), open_model(int8, None, CPU)
    ladder = build(best, [cheap], [], target_hz=20.0)
    assert ladder.current is best and len(ladder.costs) == 2
    ladder.ladder.costs = [40.0, 20.0]  # fix the start costs: the decisions, not this machine's timing
    got = [m for _ in range(40) if (m := ladder.on_answer(80.0)) is not None]
    assert got == [cheap] and ladder.current is cheap
    assert caplog.text.count("lowering quality") == 1  # said once
    back = [m for _ in range(100) if (m := ladder.on_answer(5.0)) is not None]
    assert back == [best] and ladder.summary()["steps_up"] == 1


def test_a_ladder_level_of_another_size_is_resized(fp32_and_int8: tuple[Path, Path]) -> None:
    fp32, _ = fp32_and_int8
    best = open_model(fp32, None, CPU)

    class Half:  # a 128² model stand-in with the runtime Model's surface, answering mid-grey
        name, provider, path, input_size, metadata = "half", "CPUExecutionProvider", fp32, 128, {}

        def run(self, sketch: np.ndarray) -> np.ndarray:
            assert sketch.shape == (128, 128)
            return np.full((128, 128, 3), 128, np.uint8)

    ladder = build(best, [], [Half()], target_hz=20.0)
    out = ladder.levels[1].run(np.full((256, 256), 255, np.uint8))
    assert out.shape == (256, 256, 3) and int(out.mean()) == 128


# -- the frame writer ------------------------------------------------------------------------------------------
class Opts:
    video_fps = 15.0
    snapshot_every_s = 1.0


@pytest.fixture
def surface():  # noqa: ANN201
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    pygame.display.init()
    s = pygame.Surface((160, 90))
    s.fill((200, 30, 30))
    yield s
    pygame.display.quit()


def test_frame_writer_writes_video_and_snapshots_off_the_thread(surface, tmp_path: Path) -> None:  # noqa: ANN001
    from installation.runtime.frames_out import FrameWriter

    w = FrameWriter(tmp_path, surface.get_size(), Opts())
    for k in range(60):  # 2 s of show at 30 fps
        w.maybe_write(surface, k / 30.0)
        time.sleep(0.005)
    w.close(surface)
    st = w.stats()
    assert st["video_frames"] == 30 and st["video_written"] + st["video_dropped"] == 30
    assert st["snapshots"] == 2 and (tmp_path / "frames" / "snapshot_0001.png").is_file()
    assert (tmp_path / "frames" / "frames.mp4").stat().st_size > 500
    import cv2

    png = cv2.imread(str(tmp_path / "frames" / "snapshot_0000.png"))
    assert png.shape == (90, 160, 3) and tuple(png[45, 80]) == (30, 30, 200)  # BGR of the red surface


def test_a_slow_writer_drops_video_frames_and_counts_them(surface, tmp_path: Path) -> None:  # noqa: ANN001
    from installation.runtime import frames_out

    w = frames_out.FrameWriter(tmp_path, surface.get_size(), Opts())

    class Slow:  # the real encoder behind 0.1 s a frame (a slow machine's encoder)
        def __init__(self, real: object) -> None:
            self.real = real

        def write(self, frame: np.ndarray) -> None:
            time.sleep(0.1)
            self.real.write(frame)  # type: ignore[attr-defined]

        def release(self) -> None:
            self.real.release()  # type: ignore[attr-defined]

    w.video = Slow(w.video)
    t0 = time.monotonic()
    for k in range(90):  # 3 s of show at 30 fps, handed over at once
        w.maybe_write(surface, k / 30.0)
    handed_over_s = time.monotonic() - t0
    w.close(surface)
    st = w.stats()
    assert st["video_dropped"] > 0 and st["video_written"] + st["video_dropped"] == st["video_frames"] == 45
    assert handed_over_s < 1.0  # the show's thread did not wait for the encoder (only for 3 snapshots' room)


def test_an_int8_copy_of_another_file_is_not_used(
    fp32_and_int8: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """After the fp32 model is replaced (a retrained v3), a stale int8 copy beside it is refused, not run."""
    fp32, int8 = fp32_and_int8
    (tmp_path / "g.onnx").write_bytes(fp32.read_bytes())
    _set_metadata(tmp_path / "g.onnx", {"checkpoint_epoch": "99"})  # another file now: another sha256
    (tmp_path / "g.int8.onnx").write_bytes(int8.read_bytes())
    _set_metadata(tmp_path / "g.int8.onnx", {"int8_quality": json.dumps({"within_goals": True})})
    model = open_model(tmp_path / "g.onnx", None, CPU)
    with caplog.at_level(logging.WARNING):
        r = best_precision(model, lambda p: open_model(p, None, CPU), "on")
    assert r.precision == "fp32" and r.model is model
    assert "made from another file" in caplog.text and "run.py quantize" in caplog.text
