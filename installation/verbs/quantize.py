"""`run.py quantize`: an offline int8 copy of an exported model (the CPU-tier generator or the CLIP image encoder).

ONNX Runtime static quantization: QDQ format, int8 weights per output channel, uint8 activations whose ranges
are calibrated (min/max) on real inputs the model never trained on:
- pix2pix: held-out sketches of a data pack (`--data`, the first `--calibration-count` of its validation split,
  people first), or the embedded sessions rasterised as the live canvas does when no pack is given;
- clip-image: the held-out clipart targets of the pack (or the generator's answers to the embedded sessions).
Quantized: pix2pix's convolutions, concatenations, resizes and activations (the fastest set measured on this
CPU), CLIP's convolutions and matrix products; normalisation and the
output stay float32, and so do the graph's input and output, so callers do not change.

The int8 file carries the fp32 file's metadata with `precision=int8`, `source_sha256` (of the fp32 file it was
made from) and `int8_quality`: what was measured against the fp32 model in this run:
- pix2pix with `--data`: L1 and SSIM against the targets on the whole held-out split (the units of
  `run.py quality`), for both models, their differences and whether they are within the goals
  (L1 within 0.005, SSIM within 0.01); without a pack: the mean |difference| to the fp32 answers only;
- clip-image: the cosine between the fp32 and int8 embeddings of held-out images (mean and minimum).
The runtime (installation/runtime/precision.py) uses the int8 file only where `int8_quality.within_goals` is
true and it is faster on the machine it runs on. A report is written beside it (FILE.int8.json).

    python run.py quantize --model installation/assets/models/pix2pix_default.onnx --data data/clipart_all/pack.npz
    python run.py quantize --model installation/assets/models/clip_image.onnx --data data/clipart_all/pack.npz
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.errors import UserError

log = logging.getLogger(__name__)

GOALS = {"l1": 0.005, "ssim": 0.01, "clip_cosine_mean": 0.99}  # int8 vs fp32 on the held-out split
KINDS = ("pix2pix", "clip-image")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, required=True, help="the fp32 ONNX file (run.py export)")
    p.add_argument("--out", type=Path, help="the int8 file to write (default: FILE.int8.onnx beside --model)")
    p.add_argument("--data", type=Path, help="data pack: calibration and quality on its held-out split")
    p.add_argument("--calibration-count", type=int, default=64, help="calibration inputs")
    p.add_argument("--quality-limit", type=int, help="at most this many held-out items for the quality check")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads for calibration and checks")


def int8_path(fp32: Path) -> Path:
    """Where the int8 copy of FILE.onnx lives: FILE.int8.onnx."""
    return fp32.with_name(fp32.stem + ".int8.onnx")


def main(args: argparse.Namespace) -> int:
    if args.calibration_count < 1:
        raise UserError("--calibration-count must be ≥ 1")
    if args.data is not None and not Path(args.data).is_file():
        raise UserError(f"data pack {args.data} does not exist: build one with `python run.py build-data clipart`")
    out = args.out or int8_path(args.model)
    report = quantize(args.model, out, args.data, args.calibration_count, args.quality_limit, args.threads)
    q = report["int8_quality"]
    print(f"wrote {out}: {json.dumps(q)}")
    print(f"report: {out.with_suffix('.json')}")
    return 0


def quantize(
    model: Path, out: Path, data: Path | None, count: int, quality_limit: int | None = None, threads: int = 2
) -> dict[str, Any]:
    """Quantize, measure against the fp32 model, write OUT (metadata inside) and OUT.json; returns the report."""
    from installation.runtime.inference import read_metadata

    meta, raw = read_metadata(Path(model))
    kind = meta.get("kind", "")
    if kind not in KINDS:
        raise UserError(f"quantize knows model kinds {list(KINDS)}; {model} is {kind!r}")
    if meta.get("precision", "fp32") != "fp32":
        raise UserError(f"{model} is already {meta['precision']}: quantize the fp32 export")
    if out.suffix != ".onnx":
        raise UserError(f"--out {out} must end in .onnx")
    t0 = time.monotonic()
    calib, calib_source = calibration_inputs(kind, meta, data, count)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.stem}-", dir=out.parent))
    try:
        tmp = work / out.name
        kept_fp32 = _quantize_static(Path(model), tmp, meta, calib, work)
        quality = measure_quality(kind, Path(model), tmp, data, quality_limit, threads)
        extra = {
            "precision": "int8",
            "model_name": meta.get("model_name", model.stem) + "-int8",
            "source_sha256": hashlib.sha256(raw).hexdigest(),
            "source_file": model.name,
            "quantization": json.dumps(
                {
                    "format": "QDQ",
                    "weights": "int8 per output channel",
                    "activations": "uint8, min/max calibration",
                    "ops": list(QUANT_OPS[kind]),
                    "kept_fp32": kept_fp32,
                    "calibration": calib_source,
                }
            ),
            "int8_quality": json.dumps(quality),
        }
        from models.onnx_parity import set_metadata as _set_metadata

        _set_metadata(tmp, extra)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "file": str(out),
        "source": str(model),
        "kind": kind,
        "calibration": calib_source,
        "int8_quality": quality,
        "goals": GOALS,
        "seconds": round(time.monotonic() - t0, 1),
    }
    out.with_suffix(".json").write_text(json.dumps(report, indent=2))
    log.info("wrote %s (%s)", out, json.dumps(quality))
    return report


QUANT_OPS = {
    "pix2pix": ("Conv", "Concat", "Resize", "Relu", "LeakyRelu"),  # the fastest set measured here; norms stay fp32
    "clip-image": ("Conv", "MatMul", "Gemm"),
}


def _quantize_static(src: Path, dst: Path, meta: dict[str, str], calib: np.ndarray, work: Path) -> list[str]:
    """QDQ int8 of src into dst; returns the names of the nodes left in fp32."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    name = meta.get("input_name", "sketch")

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{name: calib[i : i + 1]} for i in range(len(calib))])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    pre = work / "pre.onnx"
    quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
    kept = output_convs(pre) if meta["kind"] == "pix2pix" else []
    quantize_static(
        str(pre),
        str(dst),
        Reader(),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=list(QUANT_OPS[meta["kind"]]),
        nodes_to_exclude=kept,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"CalibTensorRangeSymmetric": False},
    )
    return kept


def output_convs(model: Path) -> list[str]:
    """The convolution that makes the graph's output (pix2pix: the full-resolution conv before the tanh). It stays
    fp32: quantized, its 8-bit rounding lands on the picture itself (measured on v7: SSIM −0.013 against fp32; with
    it kept fp32, −0.006), and it is one layer of 25."""
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    producer = {out: n for n in graph.node for out in n.output}
    names = []
    for out in graph.output:
        node = producer.get(out.name)
        while node is not None and node.op_type != "Conv" and node.input:  # back through tanh and the like
            node = producer.get(node.input[0])
        if node is not None and node.op_type == "Conv":
            names.append(node.name)
    return names


# -- inputs --------------------------------------------------------------------------------------------------
def calibration_inputs(kind: str, meta: dict[str, str], data: Path | None, n: int) -> tuple[np.ndarray, str]:
    """[n, C, S, S] float32 inputs as the model sees them live, and where they came from."""
    size = int(meta["input_size"])
    if kind == "pix2pix":
        from models.pix2pix.export import parity_sketches

        return parity_sketches(size, data, n)
    images, source = clip_images(size, data, n, offset=0)
    return images, source


def clip_images(size: int, data: Path | None, n: int, offset: int) -> tuple[np.ndarray, str]:
    """(n, 3, S, S) RGB in [0, 1]: held-out clipart targets of the pack (items offset..offset+n), or without a
    pack the shipped generator's answers to the embedded sessions."""
    import cv2

    if data is not None:
        from models.data.dataset import rasterize_val_sketches

        items = rasterize_val_sketches(data, offset + n)[offset:]
        imgs = [t for *_, t in items]
        source = f"{len(imgs)} held-out targets of {data} (validation items {offset}..{offset + len(imgs) - 1})"
    else:
        from installation.runtime.inference import RuntimeSettings, open_model
        from models.pix2pix.export import session_sketches

        gen = open_model(_shipped_generator(), None, RuntimeSettings(providers=("cpu",), warmup_runs=0))
        imgs = [gen.run(cv2.resize(s, (gen.input_size,) * 2)) for s in session_sketches(gen.input_size, offset + n)]
        imgs = imgs[offset:]
        source = f"{len(imgs)} answers of {gen.path.name} to the embedded sessions"
    if not imgs:
        raise UserError("no images for the CLIP encoder's calibration: pass --data PACK")
    x = np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in imgs])
    return x.transpose(0, 3, 1, 2).astype(np.float32) / 255.0, source


def _shipped_generator() -> Path:
    return Path(__file__).resolve().parents[1] / "installation" / "assets" / "models" / "pix2pix_default.onnx"


# -- quality against the fp32 model --------------------------------------------------------------------------
def measure_quality(
    kind: str, fp32: Path, int8: Path, data: Path | None, limit: int | None, threads: int
) -> dict[str, Any]:
    from installation.runtime.inference import RuntimeSettings, open_model

    settings = RuntimeSettings(providers=("cpu",), intra_op_threads=threads, warmup_runs=1)
    if kind == "pix2pix":
        return _pix2pix_quality(open_model(fp32, None, settings), open_model(int8, None, settings), data, limit)
    return _clip_quality(_embedder(fp32, settings), _embedder(int8, settings), data, limit)


def _embedder(path: Path, settings: Any) -> Any:
    """A plain CPU session of a CLIP image encoder: (B, 3, S, S) → (B, D)."""
    import onnxruntime as ort

    from installation.runtime.inference import _create_session, read_metadata

    meta, raw = read_metadata(path, "clip-image")
    session = _create_session(ort, raw, path, settings, ["CPUExecutionProvider"])
    size = int(meta["input_size"])

    def run(x: np.ndarray) -> np.ndarray:
        return np.asarray(session.run(None, {"images": x})[0], np.float32)

    run.input_size = size  # type: ignore[attr-defined]
    return run


def _pix2pix_quality(fp32: Any, int8: Any, data: Path | None, limit: int | None) -> dict[str, Any]:
    import torch

    from installation.verbs.quality import fitter, held_out
    from models.data.dataset import to_tensor_rgb
    from models.pix2pix.metrics import l1, ssim

    if data is None:
        from models.pix2pix.export import session_sketches

        sketches = session_sketches(fp32.input_size, 64)
        diff = [np.abs(fp32.run(s).astype(float) - int8.run(s).astype(float)).mean() / 127.5 for s in sketches]
        return {
            "measured_on": f"{len(sketches)} embedded-session states (no pack: no targets)",
            "answer_l1_to_fp32": round(float(np.mean(diff)), 4),
            "within_goals": None,  # unmeasured: the runtime keeps fp32 unless told otherwise
        }
    items, _ = held_out(data, limit)
    fit = fitter(fp32.input_size)
    rows: dict[str, Any] = {}
    outs = {}
    t = torch.stack([to_tensor_rgb(fit(tt)) for *_, tt in items])
    for name, m in (("fp32", fp32), ("int8", int8)):
        outs[name] = [m.run(fit(sk)) for _, sk, _ in items]
        y = torch.stack([to_tensor_rgb(o) for o in outs[name]])
        rows[name] = {"l1": round(l1(y, t), 4), "ssim": round(ssim(y, t), 4)}
    d_l1 = rows["int8"]["l1"] - rows["fp32"]["l1"]
    d_ssim = rows["fp32"]["ssim"] - rows["int8"]["ssim"]
    to_fp32 = np.mean(
        [
            np.abs(a.astype(float) - b.astype(float)).mean() / 127.5
            for a, b in zip(outs["fp32"], outs["int8"], strict=True)
        ]
    )
    return {
        "measured_on": f"{len(items)} held-out items of {data}",
        **rows,
        "l1_increase": round(d_l1, 4),
        "ssim_decrease": round(d_ssim, 4),
        "answer_l1_to_fp32": round(float(to_fp32), 4),
        "within_goals": bool(d_l1 <= GOALS["l1"] and d_ssim <= GOALS["ssim"]),
    }


def _clip_quality(fp32: Any, int8: Any, data: Path | None, limit: int | None) -> dict[str, Any]:
    n = limit or 128
    x, source = clip_images(fp32.input_size, data, n, offset=64)  # not the calibration images
    a = np.concatenate([fp32(x[i : i + 1]) for i in range(len(x))])
    b = np.concatenate([int8(x[i : i + 1]) for i in range(len(x))])
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    cos = (a * b).sum(1)
    return {
        "measured_on": source,
        "embedding_cosine_mean": round(float(cos.mean()), 4),
        "embedding_cosine_min": round(float(cos.min()), 4),
        "within_goals": bool(cos.mean() >= GOALS["clip_cosine_mean"]),
    }
