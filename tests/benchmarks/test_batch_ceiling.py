"""benchmarks/batch_ceiling.py: per-sketch cost at each batch size through a real ONNX Runtime session."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import onnx
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parents[2]


def _module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("batch_ceiling", ROOT / "benchmarks" / "batch_ceiling.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_batch_size_is_timed_per_sketch(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("sketch", TensorProto.FLOAT, ["batch", 1, 256, 256])
    y = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 256, 256])
    graph = helper.make_graph([helper.make_node("Neg", ["sketch"], ["image"])], "neg", [x], [y])
    model = tmp_path / "neg.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), model)
    ms = _module().per_sketch_ms(model, 1, (1, 4), calls=8)
    assert set(ms) == {1, 4} and all(v > 0 for v in ms.values())
