"""Export with parity: a tiny random generator (ngf 8, 128²) exported into tmp, then read back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from installation.core.errors import UserError
from installation.runtime.inference import RuntimeSettings, open_model, read_metadata
from models.pix2pix import export as exp
from models.pix2pix.checkpoint import file_sha256, save_checkpoint
from models.pix2pix.config import Pix2PixConfig
from models.pix2pix.networks import UnetGenerator, init_weights

CPU = RuntimeSettings(providers=("cpu",), warmup_runs=0)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    cfg = Pix2PixConfig(ngf=8, resolution=128)
    g = UnetGenerator(cfg)
    init_weights(g)
    path = tmp_path_factory.mktemp("ck") / "g.pt"
    save_checkpoint(path, g.eval(), cfg, epoch=3)
    return path


@pytest.fixture(scope="module")
def exported(ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("onnx") / "g.onnx"
    return out, exp.export(ckpt, out, parity_count=4, fp16=True)


def test_export_passes_parity_and_writes_its_report(exported: tuple[Path, dict], ckpt: Path) -> None:
    out, report = exported
    assert out.is_file()
    assert report["parity"]["count"] == 4
    # the reported figure is what torch and ONNX Runtime really differ by on those sketches, measured here
    x, _ = exp.parity_sketches(128, None, 4)
    g = exp.EXPORTERS["pix2pix"].load(ckpt).module
    with torch.inference_mode():
        ref = g(torch.from_numpy(x)).numpy()
    ort = open_model(out, None, CPU)
    ours = float(max(np.abs(ort.run_batch(x[i : i + 1]) - ref[i : i + 1]).max() for i in range(4)))
    assert report["parity"]["max_abs_diff"] == pytest.approx(ours, rel=1e-3, abs=1e-7)
    assert "embedded sessions" in report["parity"]["source"]
    on_disk = json.loads((out.parent / "g.parity.json").read_text())
    assert on_disk["parity"]["max_abs_diff"] == report["parity"]["max_abs_diff"]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


def test_metadata_round_trip(exported: tuple[Path, dict], ckpt: Path) -> None:
    out, report = exported
    meta, _ = read_metadata(out)
    assert meta["kind"] == "pix2pix" and meta["format_version"] == exp.FORMAT_VERSION
    assert (meta["input_size"], meta["input_channels"], meta["output_channels"]) == ("128", "1", "3")
    assert meta["layout"] == "NCHW" and meta["input_name"] == "sketch" and meta["output_name"] == "image"
    assert meta["precision"] == "fp32" and "paper=+1" in meta["normalisation"]
    assert Pix2PixConfig.from_dict(json.loads(meta["config"])) == Pix2PixConfig(ngf=8, resolution=128)
    assert meta["checkpoint_sha256"] == file_sha256(ckpt) and meta["checkpoint_epoch"] == "3"
    assert set(json.loads(meta["exporter"])) == {"torch", "onnx", "onnxruntime"}
    assert json.loads(meta["parity"])["max_abs_diff"] == report["parity"]["max_abs_diff"]
    assert onnx.load(str(out)).opset_import[0].version >= 17


def test_runtime_answers_what_torch_answers(exported: tuple[Path, dict], ckpt: Path) -> None:
    out, _ = exported
    g = exp.EXPORTERS["pix2pix"].load(ckpt).module
    x = np.random.default_rng(0).choice([-1.0, 1.0], (1, 1, 128, 128), p=[0.1, 0.9]).astype(np.float32)
    with torch.inference_mode():
        ref = g(torch.from_numpy(x)).numpy()  # [1, 3, 128, 128]
    assert np.abs(open_model(out, None, CPU).run_batch(x) - ref).max() < 1e-3


def test_parity_failure_writes_nothing(ckpt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = exp.torch_outputs
    monkeypatch.setattr(exp, "torch_outputs", lambda m, x: real(m, x) + 0.5)  # torch and ORT now disagree
    out = tmp_path / "bad.onnx"
    with pytest.raises(UserError, match=r"failed parity.*5\.00e-01.*nothing was written"):
        exp.export(ckpt, out, parity_count=2)
    assert list(tmp_path.iterdir()) == []


def test_fp16_variant_keeps_fp32_io_and_instance_norm(exported: tuple[Path, dict], ckpt: Path) -> None:
    out, report = exported
    f = report["fp16"]
    assert f["written"] and f["tolerance"] == exp.FP16_TOLERANCE
    path = Path(f["file"])
    assert path == out.with_name("g.fp16.onnx") and path.is_file()
    proto = onnx.load(str(path))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    producers = {o: n for n in proto.graph.node for o in n.output}
    norms = [n for n in proto.graph.node if n.op_type == "InstanceNormalization"]
    assert norms and all(
        producers[i].op_type == "Cast" and producers[i].attribute[0].i == onnx.TensorProto.FLOAT
        for n in norms
        for i in n.input
    )
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in proto.graph.initializer)
    model = open_model(path, None, CPU)
    assert model.metadata["precision"] == "fp16"
    assert model.run(np.full((128, 128), 255, np.uint8)).shape == (128, 128, 3)
    # fp16 against torch fp32 on a sketch the exporter never saw: within the tolerance it advertises
    g = exp.EXPORTERS["pix2pix"].load(ckpt).module
    x = np.random.default_rng(1).choice([-1.0, 1.0], (1, 1, 128, 128), p=[0.1, 0.9]).astype(np.float32)
    with torch.inference_mode():
        ref = g(torch.from_numpy(x)).numpy()
    assert 0 < np.abs(model.run_batch(x) - ref).max() <= exp.FP16_TOLERANCE


def test_fp16_over_tolerance_is_refused(ckpt: Path, tmp_path: Path) -> None:
    out = tmp_path / "g.onnx"
    with pytest.raises(UserError, match="fp16 variant was refused"):
        exp.export(ckpt, out, parity_count=2, fp16=True, fp16_tolerance=1e-9)
    assert out.is_file() and not (tmp_path / "g.fp16.onnx").exists()
    assert json.loads((tmp_path / "g.parity.json").read_text())["fp16"]["written"] is False


def test_dynamic_batch(ckpt: Path, tmp_path: Path) -> None:
    out = tmp_path / "g.onnx"
    exp.export(ckpt, out, parity_count=3, dynamic_batch=True)
    assert read_metadata(out)[0]["dynamic_batch"] == "true"
    y = open_model(out, None, CPU).run_batch(np.ones((3, 1, 128, 128), np.float32))
    assert y.shape == (3, 3, 128, 128) and y.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"opset": 16}, "opset 16 is too old"),
        ({"out": "model.bin"}, "must be a file name ending in .onnx"),
        ({"checkpoint": "missing.pt"}, "missing.pt does not exist"),
        ({"kind": "clip"}, "unknown model kind"),
    ],
)
def test_bad_arguments(ckpt: Path, tmp_path: Path, kwargs: dict, message: str) -> None:
    args: dict = {"checkpoint": ckpt, "out": tmp_path / "g.onnx", **kwargs}
    args["checkpoint"], args["out"] = tmp_path / args["checkpoint"], tmp_path / args["out"]
    with pytest.raises(UserError, match=message):
        exp.export(**args)


def test_procedural_sketches_when_no_sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exp, "SESSIONS_DIR", tmp_path)
    x, source = exp.parity_sketches(128, None, 3)
    assert "procedurally drawn" in source
    assert x.shape == (3, 1, 128, 128) and x.dtype == np.float32
    assert x.max() == 1.0 and (x < 0).mean() > 0.005  # paper with some ink


def test_session_sketches_are_real_drawings() -> None:
    x, _ = exp.parity_sketches(128, None, 4)
    ink = (x < 0).mean(axis=(1, 2, 3))  # [4]
    assert x.shape == (4, 1, 128, 128) and np.all(ink > 0.001) and np.all(ink < 0.5)


def test_parity_data_pack_is_resized(monkeypatch: pytest.MonkeyPatch) -> None:
    import models.data.dataset as dataset

    item = ("a", np.full((256, 256), 255, np.uint8), np.zeros((256, 256, 3), np.uint8))
    monkeypatch.setattr(dataset, "rasterize_val_sketches", lambda path, n: [item] * n)
    x, source = exp.parity_sketches(128, Path("pack"), 2)
    assert x.shape == (2, 1, 128, 128) and "held-out sketches of pack" in source
