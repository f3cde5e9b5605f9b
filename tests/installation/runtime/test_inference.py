"""The one runtime: validation of files and metadata, provider choice on a CPU-only machine, I/O contract."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from installation.core.errors import UserError
from installation.runtime import inference as inf
from installation.runtime.inference import ModelExpectation, RuntimeSettings, open_model
from models.pix2pix.checkpoint import save_checkpoint
from models.pix2pix.config import Pix2PixConfig
from models.pix2pix.export import export
from models.pix2pix.networks import UnetGenerator, init_weights

CPU = RuntimeSettings(providers=("cpu",), warmup_runs=1)
needs_cpu_only = pytest.mark.skipif(inf.gpu_present(), reason="this machine has an NVIDIA GPU")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny exported generator at 256² (ngf 4)."""
    torch.manual_seed(1)
    cfg = Pix2PixConfig(ngf=4, resolution=256)
    g = UnetGenerator(cfg)
    init_weights(g)
    d = tmp_path_factory.mktemp("model")
    save_checkpoint(d / "g.pt", g, cfg)
    export(d / "g.pt", d / "g.onnx", parity_count=2)
    return d / "g.onnx"


@needs_cpu_only
def test_cpu_machine_runs_on_cpu_and_says_so(model_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="installation.runtime.inference"):
        m = open_model(model_file, ModelExpectation("pix2pix", 256, 1, 3), RuntimeSettings(warmup_runs=1))
    assert m.provider == "CPUExecutionProvider"
    assert "runs on CPUExecutionProvider, not TensorrtExecutionProvider" in caplog.text
    assert "no NVIDIA GPU" in caplog.text


@needs_cpu_only
def test_require_gpu_is_a_user_error(model_file: Path) -> None:
    with pytest.raises(UserError, match=r"asked for a GPU.*CPUExecutionProvider.*drop --require-gpu"):
        open_model(model_file, None, RuntimeSettings(require_gpu=True))


def test_provider_list_without_gpu_is_cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inf, "gpu_present", lambda: False)
    every = list(inf.ORT_NAMES.values())
    assert inf.provider_list(RuntimeSettings(), {}, "ab" * 32, every) == ["CPUExecutionProvider"]


def test_provider_list_with_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(inf, "gpu_present", lambda: True)
    meta = {"input_size": "256", "input_channels": "1", "input_name": "sketch"}
    settings = RuntimeSettings(trt_cache_dir=str(tmp_path / "trt"))
    (trt, trt_opts), (cuda, cuda_opts), cpu = inf.provider_list(settings, meta, "ab" * 32, list(inf.ORT_NAMES.values()))
    assert (trt, cuda, cpu) == ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
    assert trt_opts["trt_fp16_enable"] is True and trt_opts["trt_engine_cache_path"] == str(tmp_path / "trt")
    assert trt_opts["trt_engine_cache_prefix"] == "abababababababab_1x256x256_b1_fp16"
    assert trt_opts["trt_profile_min_shapes"] == trt_opts["trt_profile_max_shapes"] == "sketch:1x1x256x256"
    assert cuda_opts["cudnn_conv_algo_search"] == "HEURISTIC"
    # a build that only lists CPU gets CPU only, whatever the config asks
    assert inf.provider_list(settings, meta, "ab" * 32, ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]


def test_unknown_provider_is_a_user_error(model_file: Path) -> None:
    with pytest.raises(UserError, match="unknown inference provider"):
        open_model(model_file, None, RuntimeSettings(providers=("rocm", "cpu")))


def test_run_contract(model_file: Path) -> None:
    m = open_model(model_file, None, CPU)
    sketch = np.full((256, 256), 255, np.uint8)
    sketch[100:150, 60:200] = 0
    y = m.run(sketch)
    assert y.shape == (256, 256, 3) and y.dtype == np.uint8
    raw = m.run_batch((sketch.astype(np.float32) / 127.5 - 1)[None, None])  # [1, 3, S, S]
    assert raw.dtype == np.float32 and raw.shape == (1, 3, 256, 256) and np.abs(raw).max() <= 1.0
    assert np.abs(y.astype(int) - np.rint((raw[0].transpose(1, 2, 0) + 1) * 127.5)).max() <= 1
    assert m.input_size == 256 and m.name == "pix2pix-ngf4-256" and len(m.sha256) == 64
    with pytest.raises(ValueError, match="takes"):
        m.run(np.zeros((128, 128), np.uint8))


def test_expectation_mismatch_names_both_sides(model_file: Path) -> None:
    with pytest.raises(UserError, match=r"g\.onnx has input_size=256 but 128 is expected"):
        open_model(model_file, ModelExpectation("pix2pix", 128, 1, 3), CPU)
    with pytest.raises(UserError, match="kind=pix2pix but clip-image is expected"):
        open_model(model_file, ModelExpectation("clip-image"), CPU)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"none\.onnx does not exist.*run\.py export"):
        open_model(tmp_path / "none.onnx", None, CPU)


@pytest.mark.parametrize("keep", [5000, 0.5, -40])
def test_truncated_file(model_file: Path, tmp_path: Path, keep: float) -> None:
    data = model_file.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[:n])
    with pytest.raises(UserError, match=r"cut\.onnx.*re-export it with `python run\.py export"):
        open_model(cut, None, CPU)


def test_foreign_onnx_is_refused(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 8, 8])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    path = tmp_path / "foreign.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(UserError, match=r"foreign\.onnx is not an export of this project \(no metadata"):
        open_model(path, None, CPU)


def test_not_onnx_at_all(tmp_path: Path) -> None:
    path = tmp_path / "notes.onnx"
    path.write_text("this is a text file, not a model\n" * 20)
    with pytest.raises(UserError, match=r"notes\.onnx is not (a readable ONNX file|an export)"):
        open_model(path, None, CPU)


def test_metadata_that_lies_about_the_graph(model_file: Path, tmp_path: Path) -> None:
    proto = onnx.load(str(model_file))
    for p in proto.metadata_props:
        if p.key == "input_size":
            p.value = "128"
    path = tmp_path / "edited.onnx"
    onnx.save(proto, str(path))
    with pytest.raises(UserError, match=r"edited\.onnx has input shape \[1, 1, 256, 256\]"):
        open_model(path, None, CPU)


@needs_cpu_only
def test_tier_from_the_provider_really_got(model_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    gpu_copy = tmp_path / "gpu_tier.onnx"
    gpu_copy.write_bytes(model_file.read_bytes())
    expect = ModelExpectation("pix2pix", 256, 1, 3)
    with caplog.at_level(logging.WARNING, logger="installation.runtime.inference"):
        m = inf.open_tiered(str(model_file), str(gpu_copy), "auto", expect, CPU)
    assert m.tier == "cpu" and m.path == model_file and "model tier: cpu" in caplog.text
    # forced onto the GPU tier on a CPU-only machine: it runs, and says loudly that it is slow
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="installation.runtime.inference"):
        forced = inf.open_tiered(str(model_file), str(gpu_copy), "gpu", expect, CPU)
    assert forced.tier == "gpu" and forced.path == gpu_copy and "expect it to be slow" in caplog.text
    assert inf.describe(forced)["tier"] == "gpu"
    with pytest.raises(UserError, match="GPU tier .* does not exist"):
        inf.open_tiered(str(model_file), str(tmp_path / "none.onnx"), "gpu", expect, CPU)


def test_metadata_numbers_that_are_not_numbers(model_file: Path, tmp_path: Path) -> None:
    proto = onnx.load(str(model_file))
    for p in proto.metadata_props:
        if p.key == "output_channels":
            p.value = "three"
    path = tmp_path / "words.onnx"
    onnx.save(proto, str(path))
    with pytest.raises(UserError, match=r"words\.onnx has metadata output_channels='three', not a whole number"):
        open_model(path, None, CPU)
