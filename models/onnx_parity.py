"""What every model family's ONNX export shares (below models/pix2pix/export.py and models/clip/export.py).

The metadata every file carries (format version, the exporting libraries), the metadata writer, the parity
runner (ONNX Runtime on the CPU against a torch reference) and the procedural parity sketches used when no
real data is at hand. Nothing here knows a model family.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.errors import UserError

FORMAT_VERSION = "1"  # of the metadata; must match installation.runtime.inference.FORMAT_VERSION


def ort_version() -> str:
    import onnxruntime as ort

    return str(ort.__version__)


def exporter_versions() -> str:
    """The libraries that wrote the file, as the `exporter` metadata value (JSON)."""
    import onnx
    import torch

    return json.dumps({"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort_version()})


def set_metadata(path: Path, values: dict[str, str]) -> None:
    """Merge `values` into the ONNX file's metadata_props (sorted by key), in place."""
    import onnx

    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    meta.update({k: str(v) for k, v in values.items()})
    del proto.metadata_props[:]
    for k, v in sorted(meta.items()):
        proto.metadata_props.add(key=k, value=v)
    onnx.save(proto, str(path))


def run_cpu(path: Path, x: np.ndarray, batched: bool = True) -> tuple[np.ndarray, str]:
    """The exported file run by ONNX Runtime on the CPU: all of `x` at once, or one example at a time."""
    import onnxruntime as ort

    try:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        chunks = [x] if batched else [x[i : i + 1] for i in range(len(x))]
        y = np.concatenate([sess.run(None, {name: np.ascontiguousarray(c)})[0] for c in chunks])
    except Exception as e:  # an operator or type this ONNX Runtime cannot run
        raise UserError(f"ONNX Runtime cannot run {path.name}: {str(e).splitlines()[0][:200]}") from e
    return y.astype(np.float32, copy=False), sess.get_providers()[0]


def parity(y: np.ndarray, reference: np.ndarray, tolerance: float, source: str) -> dict[str, Any]:
    """The parity figures of an exported file's outputs `y` against torch's `reference`."""
    diff = np.abs(y - reference)
    return {
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "tolerance": tolerance,
        "count": len(y),
        "source": source,
    }


def write_json(path: Path, obj: dict[str, Any]) -> None:
    """Write JSON beside, then move into place (a reader never sees half a report)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2))
    os.replace(tmp, path)


def procedural_sketches(size: int, n: int) -> list[np.ndarray]:
    """Face-like line drawings (head, eyes, nose, mouth, hair strokes) from a fixed seed."""
    import cv2

    rng = np.random.default_rng(1234)
    out = []
    for _ in range(n):
        img = np.full((size, size), 255, np.uint8)
        c = size / 2 + rng.normal(0, size * 0.03, 2)
        ax = (int(size * rng.uniform(0.22, 0.3)), int(size * rng.uniform(0.3, 0.38)))
        w = max(1, size // 128)
        cv2.ellipse(img, (int(c[0]), int(c[1])), ax, 0, 0, 360, 0, w, cv2.LINE_AA)
        for side in (-1, 1):
            eye = (int(c[0] + side * ax[0] * 0.4), int(c[1] - ax[1] * 0.15))
            cv2.circle(img, eye, max(2, size // 40), 0, w, cv2.LINE_AA)
        cv2.line(img, (int(c[0]), int(c[1] - 5)), (int(c[0] - 4), int(c[1] + ax[1] * 0.2)), 0, w, cv2.LINE_AA)
        cv2.ellipse(img, (int(c[0]), int(c[1] + ax[1] * 0.45)), (ax[0] // 3, ax[1] // 10), 0, 0, 180, 0, w)
        for _ in range(int(rng.integers(3, 9))):  # hair
            p = rng.uniform(0.15, 0.85, 4) * size * np.array([1, 0.4, 1, 0.4])
            cv2.line(img, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), 0, w, cv2.LINE_AA)
        out.append(img)
    return out
