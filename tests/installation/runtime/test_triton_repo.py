"""`run.py export --triton-repo DIR`: config.pbtxt parsed back, the compact model equals the show's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from installation.core.errors import UserError
from installation.core.pbtxt import first, parse, read_model_config
from installation.runtime.inference import RuntimeSettings, open_model
from installation.runtime.triton_repo import SHIPPED, write_repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("repo")
    import run

    assert run.main(["export", "--triton-repo", str(out), "--max-batch", "4", "--queue-delay-us", "1500"]) == 0
    return out


def test_repository_holds_pix2pix_and_both_clip_encoders(repo: Path) -> None:
    names = sorted(p.parent.name for p in repo.glob("*/config.pbtxt"))
    assert names == ["clip_image", "clip_text", "pix2pix_default", "pix2pix_default_u8"]
    for name in names:
        assert (repo / name / "1" / "model.onnx").stat().st_size > 10_000


def test_config_pbtxt_parses_to_what_triton_needs(repo: Path) -> None:
    msg = parse((repo / "pix2pix_default_u8" / "config.pbtxt").read_text())
    assert first(msg, "backend") == "onnxruntime" and first(msg, "name") == "pix2pix_default_u8"
    assert first(msg, "max_batch_size") == 4
    (inp,), (out,) = msg["input"], msg["output"]
    assert first(inp, "data_type") == "TYPE_UINT8" and inp["dims"] == [256, 256]
    assert first(out, "data_type") == "TYPE_UINT8" and out["dims"] == [256, 256, 3]
    batching = first(msg, "dynamic_batching")
    assert first(batching, "max_queue_delay_microseconds") == 1500 and batching["preferred_batch_size"] == [2, 4]
    group = first(msg, "instance_group")
    assert first(group, "kind") == "KIND_GPU" and first(group, "count") == 1
    acc = first(first(first(msg, "optimization"), "execution_accelerators"), "gpu_execution_accelerator")
    params = {first(p, "key"): first(p, "value") for p in acc["parameters"]}
    assert first(acc, "name") == "tensorrt" and params["precision_mode"] == "FP16"
    clip = read_model_config((repo / "clip_text" / "config.pbtxt").read_text(), "clip_text")
    assert clip.inputs[0].dtype == "int32" and clip.inputs[0].dims == (32,) and clip.outputs[0].dims == (128,)


def test_cpu_repository_has_cpu_instances_and_no_tensorrt(tmp_path: Path) -> None:
    (cfg_path, *_) = write_repo(tmp_path, SHIPPED, "cpu", 8, 0, 2)
    cfg = read_model_config(cfg_path.read_text(), str(cfg_path))
    assert cfg.device == "cpu" and cfg.instances == 2 and cfg.queue_delay_us == 0
    text = cfg_path.read_text()
    assert "tensorrt" not in text and "dynamic_batching" not in text  # delay 0: batching off


def test_compact_model_answers_a_batch_exactly_like_the_local_model(repo: Path) -> None:
    local = open_model(SHIPPED / "pix2pix_default.onnx", None, RuntimeSettings(providers=("cpu",), warmup_runs=1))
    s = ort.InferenceSession(str(repo / "pix2pix_default_u8" / "1" / "model.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(3)
    x = np.full((3, 256, 256), 255, np.uint8)
    x[0, 40:200, 90:100] = 0
    x[1] = rng.integers(0, 256, (256, 256))
    out = s.run(None, {"sketch_u8": x})[0]
    assert out.shape == (3, 256, 256, 3) and out.dtype == np.uint8
    for i in range(3):
        assert np.abs(out[i].astype(int) - local.run(x[i])).max() <= 1  # the same arithmetic, batched
    assert not np.array_equal(out[0], out[1])  # and it does depend on the sketch


def test_float_model_has_a_free_batch_and_equals_the_shipped_file(repo: Path) -> None:
    s = ort.InferenceSession(str(repo / "pix2pix_default" / "1" / "model.onnx"), providers=["CPUExecutionProvider"])
    ref = ort.InferenceSession(str(SHIPPED / "pix2pix_default.onnx"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).uniform(-1, 1, (2, 1, 256, 256)).astype(np.float32)
    y = s.run(None, {"sketch": x})[0]
    for i in range(2):
        assert np.abs(y[i : i + 1] - ref.run(None, {"sketch": x[i : i + 1]})[0]).max() < 1e-3


def test_pbtxt_reader_names_what_is_wrong() -> None:
    assert parse('a: 1 b { c: "x y" d: [1, 2] } b { c: "z" }  # note\n') == {
        "a": [1],
        "b": [{"c": ["x y"], "d": [1, 2]}, {"c": ["z"]}],
    }
    with pytest.raises(UserError, match="never closed"):
        parse("a { b: 1")
    with pytest.raises(UserError, match="no model name"):
        read_model_config("max_batch_size: 4", "x.pbtxt")


def test_export_without_a_repository_or_a_checkpoint_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import run

    assert run.main(["export"]) == 2
    assert "--triton-repo" in capsys.readouterr().err
    assert run.main(["export", "--triton-repo", "/tmp/x", "--models", "/nonexistent/models"]) == 2
