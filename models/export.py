"""`run.py export`: an offline command that writes ONNX plus metadata, and refuses a model that fails parity.

Model kinds are registered in EXPORTERS (pix2pix now; CLIP encoders and other live networks join the table).
Parity is measured on real sketches (the pack's held-out sketches, or the embedded sessions rasterised):
ONNX Runtime (CPU) against torch, max |difference|; the file is only moved into place when it passes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from installation.core.errors import UserError

log = logging.getLogger(__name__)
FORMAT_VERSION = "1"
FP16_TOLERANCE = 2e-2  # max |diff| on the [-1, 1] output for an fp16 variant


@dataclass(frozen=True)
class Exporter:
    load: Callable[[Path], tuple[torch.nn.Module, dict[str, Any]]]  # checkpoint → (eval model, metadata)
    input_name: str
    output_name: str


def _load_pix2pix(path: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    from models.pix2pix.checkpoint import load_generator

    g, cfg, meta = load_generator(path)
    return g, {
        "kind": "pix2pix",
        "model_name": f"pix2pix-ngf{cfg.ngf}-{cfg.resolution}",
        "config": json.dumps(cfg.to_dict()),
        "input_size": str(cfg.resolution),
        "input_channels": str(cfg.input_nc),
        "output_channels": str(cfg.output_nc),
        "checkpoint_sha256": meta["sha256"],
        "checkpoint_epoch": str(meta.get("epoch", "")),
    }


EXPORTERS: dict[str, Exporter] = {"pix2pix": Exporter(_load_pix2pix, "sketch", "image")}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--kind", default="pix2pix", choices=sorted(EXPORTERS))
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--dynamic-batch", action="store_true")
    p.add_argument("--fp16", action="store_true", help="also write FILE.fp16.onnx when its parity is acceptable")
    p.add_argument("--parity-data", type=Path, help="data pack whose held-out sketches are used for parity")
    p.add_argument("--parity-count", type=int, default=8)
    p.add_argument("--tolerance", type=float, default=1e-3)


def main(args: argparse.Namespace) -> int:
    if args.opset < 17:
        raise UserError(f"--opset {args.opset} is too old: use 17 or newer")
    report = export(args.checkpoint, args.out, args.kind, args.opset, args.dynamic_batch, args.parity_data,
                    args.parity_count, args.tolerance, args.fp16)
    print(json.dumps(report, indent=2))
    return 0


def parity_sketches(size: int, data: Path | None, n: int) -> tuple[np.ndarray, str]:
    """[n, 1, S, S] float32 real sketches in [-1, 1] and where they came from."""
    if data is not None:
        from models.data.dataset import rasterize_val_sketches

        items = rasterize_val_sketches(data, n)
        imgs = [s if s.shape[0] == size else _resize(s, size) for _, s, _ in items]
        source = f"{len(imgs)} held-out sketches of {data}"
    else:
        from installation.core.session import read_session
        from installation.core.strokes import Canvas
        from installation.core.session import apply_event
        from installation.runtime.show import default_sessions

        imgs = []
        for path in default_sessions():
            s = read_session(path)
            c = Canvas(s.canvas, size, 3.0, 12.0)
            for k, ev in enumerate(s.events):  # snapshots part-way through and at the end of each drawing
                apply_event(c, ev, 0.0)
                if k in (len(s.events) // 3, 2 * len(s.events) // 3, len(s.events) - 1):
                    imgs.append(c.raster())
        imgs = imgs[:n]
        source = f"{len(imgs)} rasterised states of the embedded sessions"
    if not imgs:
        raise UserError("no sketches for the parity check: pass --parity-data PACK")
    x = np.stack(imgs).astype(np.float32)[:, None] / 127.5 - 1.0
    return x, source


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def export(
    checkpoint: Path,
    out: Path,
    kind: str = "pix2pix",
    opset: int = 17,
    dynamic_batch: bool = False,
    parity_data: Path | None = None,
    parity_count: int = 8,
    tolerance: float = 1e-3,
    fp16: bool = False,
) -> dict[str, Any]:
    import onnx
    import onnxruntime as ort

    ex = EXPORTERS[kind]
    model, meta = ex.load(checkpoint)
    size = int(meta["input_size"])
    x, source = parity_sketches(size, parity_data, parity_count)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    dyn = {ex.input_name: {0: "batch"}, ex.output_name: {0: "batch"}} if dynamic_batch else None
    with torch.no_grad():
        torch.onnx.export(model, (torch.from_numpy(x[:1]),), str(tmp), input_names=[ex.input_name],
                          output_names=[ex.output_name], opset_version=opset, dynamic_axes=dyn, dynamo=False)
        reference = model(torch.from_numpy(x)).numpy() if dynamic_batch else np.concatenate(
            [model(torch.from_numpy(x[i : i + 1])).numpy() for i in range(len(x))])
    max_diff = _ort_diff(tmp, x, reference, dynamic_batch, ort)
    report = {"kind": kind, "file": str(out), "parity_source": source, "parity_max_abs_diff": float(max_diff),
              "tolerance": tolerance, "opset": opset, "dynamic_batch": dynamic_batch}
    if not max_diff <= tolerance:
        tmp.unlink(missing_ok=True)
        raise UserError(f"export of {checkpoint} failed parity: ONNX Runtime differs from torch by {max_diff:.2e} "
                        f"(> {tolerance:.0e}) on {source}; nothing was written")
    proto = onnx.load(str(tmp))
    meta.update({
        "format_version": FORMAT_VERSION,
        "layout": "NCHW",
        "input_name": ex.input_name,
        "output_name": ex.output_name,
        "normalisation": "sketch = raster/127.5-1 (paper +1, ink -1); image in [-1,1] RGB, uint8 = (y+1)*127.5",
        "exporter": json.dumps({"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__}),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "parity": json.dumps(report),
        "sha256": meta["checkpoint_sha256"],
    })
    del proto.metadata_props[:]
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=str(v))
    onnx.save(proto, str(tmp))
    os.replace(tmp, out)
    if fp16:
        report["fp16"] = _export_fp16(out, x, reference, dynamic_batch, ort, onnx)
    out.with_suffix(".parity.json").write_text(json.dumps(report, indent=2))
    log.info("wrote %s: parity max |diff| %.2e on %s", out, max_diff, source)
    return report


def _ort_diff(path: Path, x: np.ndarray, reference: np.ndarray, batched: bool, ort: Any) -> float:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    dtype = np.float16 if "float16" in sess.get_inputs()[0].type else np.float32
    if batched:
        y = sess.run(None, {name: x.astype(dtype)})[0]
    else:
        y = np.concatenate([sess.run(None, {name: x[i : i + 1].astype(dtype)})[0] for i in range(len(x))])
    return float(np.abs(y.astype(np.float32) - reference).max())


def _export_fp16(out: Path, x: np.ndarray, reference: np.ndarray, batched: bool, ort: Any, onnx: Any) -> dict:
    """Weights and activations in fp16, InstanceNormalization kept in fp32; written only if parity holds."""
    from onnx import TensorProto, helper, numpy_helper

    proto = onnx.load(str(out))
    graph = proto.graph
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for vi in list(graph.input) + list(graph.output):
        vi.type.tensor_type.elem_type = TensorProto.FLOAT16
    nodes = []
    for node in graph.node:
        if node.op_type == "InstanceNormalization":  # fp16 InstanceNorm is a known failure: run it in fp32
            a, b = node.input[0] + "_f32", node.output[0] + "_f16src"
            scale_bias = []
            for name in node.input[1:]:
                scale_bias.append(name + "_f32")
                nodes.append(helper.make_node("Cast", [name], [name + "_f32"], to=TensorProto.FLOAT))
            nodes.append(helper.make_node("Cast", [node.input[0]], [a], to=TensorProto.FLOAT))
            nodes.append(helper.make_node("InstanceNormalization", [a, *scale_bias], [b],
                                          epsilon=next((at.f for at in node.attribute if at.name == "epsilon"), 1e-5)))
            nodes.append(helper.make_node("Cast", [b], [node.output[0]], to=TensorProto.FLOAT16))
        elif node.op_type == "Constant":
            for at in node.attribute:
                if at.t.data_type == TensorProto.FLOAT:
                    at.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(at.t).astype(np.float16)))
            nodes.append(node)
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]
    path16 = out.with_name(out.stem + ".fp16.onnx")
    tmp = path16.with_name(path16.name + ".tmp")
    onnx.save(proto, str(tmp))
    try:
        diff = _ort_diff(tmp, x, reference, batched, ort)
    except Exception as e:  # a graph ORT refuses in fp16
        tmp.unlink(missing_ok=True)
        return {"written": False, "reason": f"ONNX Runtime refused the fp16 graph: {str(e).splitlines()[0][:160]}"}
    ok = diff <= FP16_TOLERANCE
    if ok:
        os.replace(tmp, path16)
    else:
        tmp.unlink(missing_ok=True)
    return {"written": ok, "file": str(path16) if ok else None, "max_abs_diff": diff, "tolerance": FP16_TOLERANCE}
