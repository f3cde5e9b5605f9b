"""The pix2pix exporter (`run.py export`): writes ONNX plus metadata, and refuses a model that fails parity.

Model kinds are registered in EXPORTERS (the CLIP encoders have their own exporter, models/clip/export.py):
each entry loads a checkpoint, rebuilds its architecture from a config, and makes real example inputs.
The export is validated on those examples: ONNX Runtime (CPU) against torch in eval mode, max |difference|
(the helpers shared with CLIP are in models/onnx_parity.py). The file is written to a temporary folder beside
the target and only moved into place when parity passes; the figures go into the file's metadata and FILE.parity.json.

`--fp16` adds FILE.fp16.onnx: weights and activations in float16 with InstanceNormalization kept in float32
(fp16 instance norm is a known failure in ONNX Runtime/TensorRT), float32 input and output so callers do not
change. It is written only if its max |difference| to torch fp32 is within --fp16-tolerance (2e-2 on the
[-1, 1] output by default, about 2.5 grey levels out of 255).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from installation.core.errors import UserError
from models.onnx_parity import (
    FORMAT_VERSION,
    exporter_versions,
    procedural_sketches,
    run_cpu,
    set_metadata,
    write_json,
)
from models.onnx_parity import (
    parity as parity_figures,
)

log = logging.getLogger(__name__)

FP16_TOLERANCE = 2e-2
NORMALISATION = "sketch = raster/127.5-1, paper=+1, ink=-1; image in [-1,1] RGB, uint8 = round((y+1)*127.5)"
SESSIONS_DIR = Path(__file__).resolve().parents[2] / "installation" / "assets" / "sessions"


@dataclass(frozen=True)
class Loaded:
    module: nn.Module  # eval mode
    metadata: dict[str, str]  # kind, model_name, config, input_size, input_channels, output_channels, ...


@dataclass(frozen=True)
class Exporter:
    load: Callable[[Path], Loaded]  # checkpoint → model in eval mode + metadata
    rebuild: Callable[[dict[str, str]], nn.Module]  # metadata → same architecture, random weights (benchmarks)
    examples: Callable[[dict[str, str], Path | None, int], tuple[np.ndarray, str]]  # → [N, C, S, S], source
    input_name: str
    output_name: str


# -- pix2pix -------------------------------------------------------------------------------------------------
def _load_pix2pix(path: Path) -> Loaded:
    from models.pix2pix.checkpoint import load_generator

    g, cfg, meta = load_generator(path)
    return Loaded(
        g.eval(),
        {
            "kind": "pix2pix",
            "model_name": f"pix2pix-ngf{cfg.ngf}-{cfg.resolution}",
            "config": json.dumps(cfg.to_dict()),
            "input_size": str(cfg.resolution),
            "input_channels": str(cfg.input_nc),
            "output_channels": str(cfg.output_nc),
            "checkpoint_sha256": str(meta["sha256"]),
            "checkpoint_epoch": str(meta.get("epoch", "")),
        },
    )


def _rebuild_pix2pix(meta: dict[str, str]) -> nn.Module:
    from models.pix2pix.config import Pix2PixConfig
    from models.pix2pix.networks import UnetGenerator

    return UnetGenerator(Pix2PixConfig.from_dict(json.loads(meta["config"]))).eval()


def _pix2pix_examples(meta: dict[str, str], data: Path | None, n: int) -> tuple[np.ndarray, str]:
    x, source = parity_sketches(int(meta["input_size"]), data, n)
    return x, source


EXPORTERS: dict[str, Exporter] = {
    "pix2pix": Exporter(_load_pix2pix, _rebuild_pix2pix, _pix2pix_examples, "sketch", "image"),
}


# -- real sketches for parity --------------------------------------------------------------------------------
def parity_sketches(size: int, data: Path | None, n: int) -> tuple[np.ndarray, str]:
    """[n, 1, S, S] float32 sketches in [-1, 1] (paper +1) and a line saying where they came from."""
    if data is not None:
        from models.data.dataset import rasterize_val_sketches

        imgs = [_fit(sketch, size) for _, sketch, _ in rasterize_val_sketches(data, n)]
        source = f"{len(imgs)} held-out sketches of {data}"
    else:
        imgs = session_sketches(size, n)
        source = f"{len(imgs)} rasterised states of the embedded sessions in {SESSIONS_DIR}"
        if not imgs:
            log.warning("no embedded sessions in %s: parity uses procedurally drawn sketches", SESSIONS_DIR)
            imgs = procedural_sketches(size, n)
            source = f"{len(imgs)} procedurally drawn sketches (no embedded sessions found; pass --parity-data)"
    if not imgs:
        raise UserError(f"no sketches for the parity check in {data}: pass another --parity-data pack")
    x = np.stack(imgs).astype(np.float32)[:, None] / 127.5 - 1.0  # [n, 1, S, S]
    return x, source


def session_canvases(size: int) -> Iterator[tuple[Path, Any, Any]]:
    """Each embedded session with an empty canvas of `size`² that draws it as the live canvas does."""
    from installation.core.config import CanvasConfig
    from installation.core.session import read_session
    from installation.core.strokes import Canvas

    widths = CanvasConfig()
    for path in sorted(SESSIONS_DIR.glob("*.jsonl")):
        s = read_session(path)
        k = s.canvas / widths.size  # widths are given for the default canvas size
        yield path, s, Canvas(s.canvas, size, widths.min_width * k, widths.max_width * k)


def session_sketches(size: int, n: int) -> list[np.ndarray]:
    """Part-way and finished states of the embedded sessions, rasterised as the live canvas does."""
    from installation.core.session import apply_event

    out: list[np.ndarray] = []
    for _, s, canvas in session_canvases(size):
        marks = {len(s.events) // 3, 2 * len(s.events) // 3, len(s.events) - 1}
        for i, ev in enumerate(s.events):
            apply_event(canvas, ev, 0.0)
            if i in marks and canvas.all_strokes():
                out.append(canvas.raster())
    return out[:n]


def _fit(img: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return img if img.shape[0] == size else cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def parity_report_path(out: Path) -> Path:
    return out.with_suffix(".parity.json")


def torch_outputs(module: nn.Module, x: np.ndarray) -> np.ndarray:
    """The reference: torch fp32 in eval mode, one example at a time. [N, C, S, S] → [N, C_out, S, S]."""
    with torch.inference_mode():
        return np.concatenate([module(torch.from_numpy(x[i : i + 1])).numpy() for i in range(len(x))])


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
    fp16_tolerance: float = FP16_TOLERANCE,
) -> dict[str, Any]:
    """Export, check parity, write OUT (+ OUT.fp16.onnx) and OUT.parity.json; returns the report."""
    if kind not in EXPORTERS:
        raise UserError(f"unknown model kind {kind!r}: choose one of {sorted(EXPORTERS)}")
    if opset < 17:
        raise UserError(f"--opset {opset} is too old: use 17 or newer")
    if parity_count < 1 or not tolerance > 0 or not fp16_tolerance > 0:
        raise UserError("--parity-count must be ≥ 1 and the tolerances positive")
    if out.suffix != ".onnx" or out.is_dir():
        raise UserError(f"--out {out} must be a file name ending in .onnx")
    spec = EXPORTERS[kind]
    loaded = spec.load(checkpoint)
    module, meta = loaded.module.eval(), dict(loaded.metadata)
    x, source = spec.examples(meta, parity_data, parity_count)  # [N, C, S, S]
    reference = torch_outputs(module, x)  # [N, C_out, S, S]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{out.stem}-", dir=out.parent))
    except OSError as e:
        raise UserError(f"cannot write into {out.parent} ({e}): choose a writable --out") from e
    try:
        meta.update(_common_metadata(spec, opset, dynamic_batch))
        tmp = work / out.name
        _torch_export(module, x[:1], tmp, spec, opset, dynamic_batch, meta)
        parity = _parity(tmp, x, reference, dynamic_batch, tolerance, source)
        if not parity["max_abs_diff"] <= tolerance:
            raise UserError(
                f"export of {checkpoint} failed parity: ONNX Runtime differs from torch by "
                f"{parity['max_abs_diff']:.2e} (> {tolerance:.0e}) on {source}; nothing was written"
            )
        set_metadata(tmp, {"parity": json.dumps(parity)})
        report: dict[str, Any] = {
            "file": str(out),
            "kind": kind,
            "checkpoint": str(checkpoint),
            "checkpoint_sha256": meta.get("checkpoint_sha256"),
            "opset": opset,
            "dynamic_batch": dynamic_batch,
            "exporter": json.loads(meta["exporter"]),
            "parity": parity,
        }
        fp16_error = None
        if fp16:
            report["fp16"], fp16_error = _fp16_variant(tmp, out, x, reference, dynamic_batch, fp16_tolerance, source)
        os.replace(tmp, out)
        if report.get("fp16", {}).get("written"):
            os.replace(work / Path(report["fp16"]["file"]).name, report["fp16"]["file"])
        write_json(parity_report_path(out), report)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("wrote %s: parity max |diff| %.2e on %s", out, parity["max_abs_diff"], source)
    if fp16_error:
        raise UserError(f"{out} was written, but {fp16_error}")
    return report


def _common_metadata(spec: Exporter, opset: int, dynamic_batch: bool) -> dict[str, str]:
    return {
        "format_version": FORMAT_VERSION,
        "layout": "NCHW",
        "input_name": spec.input_name,
        "output_name": spec.output_name,
        "normalisation": NORMALISATION,
        "precision": "fp32",
        "dynamic_batch": "true" if dynamic_batch else "false",
        "opset": str(opset),
        "exporter": exporter_versions(),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _torch_export(
    module: nn.Module, example: np.ndarray, path: Path, spec: Exporter, opset: int, dynamic: bool, meta: dict
) -> None:
    """TorchScript exporter (no onnxscript needed), then the metadata, then the ONNX checker."""
    import onnx

    axes = {spec.input_name: {0: "batch"}, spec.output_name: {0: "batch"}} if dynamic else None
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # legacy-exporter notice; instance_norm "train=True" is the eval op
            torch.onnx.export(
                module,
                (torch.from_numpy(example),),
                str(path),
                input_names=[spec.input_name],
                output_names=[spec.output_name],
                opset_version=opset,
                dynamic_axes=axes,
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as e:  # unsupported opset or operator
        raise UserError(f"torch cannot export this model at opset {opset} ({str(e).splitlines()[0][:200]})") from e
    set_metadata(path, meta)
    onnx.checker.check_model(str(path))


def _parity(
    path: Path, x: np.ndarray, reference: np.ndarray, batched: bool, tolerance: float, source: str
) -> dict[str, Any]:
    """ONNX Runtime CPU vs the torch reference."""
    y, provider = run_cpu(path, x, batched)  # [N, C_out, S, S]
    return {**parity_figures(y, reference, tolerance, source), "provider": provider, "batched": batched}


# -- fp16 ----------------------------------------------------------------------------------------------------
def _fp16_variant(
    fp32_path: Path, out: Path, x: np.ndarray, reference: np.ndarray, batched: bool, tol: float, source: str
) -> tuple[dict[str, Any], str | None]:
    """Convert, measure against torch fp32, keep it in the work folder if it passes; (report, refusal)."""
    import onnx

    final = out.with_name(out.stem + ".fp16.onnx")
    tmp = fp32_path.with_name(final.name)
    proto = to_fp16(onnx.load(str(fp32_path)))
    meta = {p.key: p.value for p in proto.metadata_props}
    meta["precision"] = "fp16"
    meta["model_name"] = meta.get("model_name", out.stem) + "-fp16"
    del proto.metadata_props[:]
    for k, v in sorted(meta.items()):
        proto.metadata_props.add(key=k, value=v)
    onnx.save(proto, str(tmp))
    try:
        parity = _parity(tmp, x, reference, batched, tol, source)
    except UserError as e:
        log.error("fp16 variant refused: %s", e)
        return {"written": False, "tolerance": tol, "reason": str(e)}, f"the fp16 variant could not run: {e}"
    report = {"file": str(final), "tolerance": tol, **parity}
    if not parity["max_abs_diff"] <= tol:
        tmp.unlink()
        why = f"the fp16 variant was refused: max |diff| {parity['max_abs_diff']:.2e} > {tol:.0e} on {source}"
        log.error(why)
        return {**report, "written": False, "file": None}, why
    set_metadata(tmp, {"parity": json.dumps(parity)})
    log.info("fp16 variant: max |diff| to torch fp32 %.2e (≤ %.0e)", parity["max_abs_diff"], tol)
    return {**report, "written": True}, None


def to_fp16(proto: Any) -> Any:
    """float32 → float16 weights and activations; InstanceNormalization, Resize's roi/scales and the graph's I/O
    stay float32."""
    from onnx import TensorProto, helper, numpy_helper

    graph = proto.graph
    f32, f16 = TensorProto.FLOAT, TensorProto.FLOAT16

    def half(t: Any) -> Any:
        return numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name)

    for init in graph.initializer:
        if init.data_type == f32:
            init.CopyFrom(half(init))
    inputs = {vi.name for vi in graph.input if vi.type.tensor_type.elem_type == f32}
    outputs = {vi.name for vi in graph.output if vi.type.tensor_type.elem_type == f32}
    nodes = [helper.make_node("Cast", [n], [n + "_fp16"], to=f16) for n in inputs]  # fp32 in → fp16

    def rename(name: str) -> str:
        if name in inputs:
            return name + "_fp16"
        return name + "_fp16out" if name in outputs else name

    for node in graph.node:
        ins, outs = [rename(n) for n in node.input], [rename(n) for n in node.output]
        if node.op_type == "InstanceNormalization":  # run in fp32: cast in, normalise, cast back
            cast_in = [n + "_f32" if n else n for n in ins]
            nodes += [helper.make_node("Cast", [a], [b], to=f32) for a, b in zip(ins, cast_in, strict=True) if a]
            eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
            nodes.append(helper.make_node("InstanceNormalization", cast_in, [outs[0] + "_f32"], epsilon=eps))
            nodes.append(helper.make_node("Cast", [outs[0] + "_f32"], [outs[0]], to=f16))
            continue
        if node.op_type == "Resize":  # roi and scales are float32 by the operator's definition
            for k in (1, 2):
                if k < len(ins) and ins[k]:
                    nodes.append(helper.make_node("Cast", [ins[k]], [ins[k] + f"_f32_{k}"], to=f32))
                    ins[k] = ins[k] + f"_f32_{k}"
        new = helper.make_node(node.op_type, ins, outs, name=node.name, domain=node.domain)
        new.attribute.extend(node.attribute)
        for a in new.attribute:
            if a.name == "value" and a.t.data_type == f32:  # Constant, ConstantOfShape
                a.t.CopyFrom(half(a.t))
            elif node.op_type == "Cast" and a.name == "to" and a.i == f32:
                a.i = f16
        nodes.append(new)
    nodes += [helper.make_node("Cast", [n + "_fp16out"], [n], to=f32) for n in outputs]  # fp16 → fp32 out
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]
    return proto
