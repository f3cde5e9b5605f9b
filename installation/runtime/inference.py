"""The one inference runtime: every caller opens its ONNX model here (the only module importing onnxruntime).

Provider order TensorRT → CUDA → CPU, tried only where a GPU is present (an NVIDIA device node or
`nvidia-smi` on the PATH), so a CPU-only machine does not spew library errors. What the session really got is
read back from ONNX Runtime and logged; a fall-back to CPU is a WARNING, and with `require_gpu` a start-up error.
The model's embedded metadata is checked against what the caller expects before the first frame.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.errors import UserError

log = logging.getLogger(__name__)

ORT_NAMES = {"tensorrt": "TensorrtExecutionProvider", "cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
FORMAT_VERSION = "1"


@dataclass(frozen=True)
class RuntimeSettings:
    providers: tuple[str, ...] = ("tensorrt", "cuda", "cpu")
    require_gpu: bool = False
    intra_op_threads: int = 0  # 0: ONNX Runtime decides
    inter_op_threads: int = 1
    trt_fp16: bool = True
    trt_cache_dir: str = str(Path.home() / ".cache" / "live-installation" / "trt")
    cuda_conv_algo: str = "HEURISTIC"
    warmup_runs: int = 3


@dataclass(frozen=True)
class ModelExpectation:
    kind: str
    input_size: int
    input_channels: int
    output_channels: int


def gpu_present() -> bool:
    return Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None


def read_metadata(path: Path) -> dict[str, str]:
    """The model's metadata_props, or a UserError for a missing, truncated or foreign file."""
    import onnx

    remedy = "re-export it with `python run.py export --checkpoint CKPT --out FILE.onnx`"
    if not path.is_file():
        raise UserError(f"model file {path} does not exist: {remedy}, or set model.path")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # protobuf raises DecodeError and friends on truncated files
        raise UserError(f"model file {path} is not a readable ONNX file ({type(e).__name__}): {remedy}") from e
    meta = {p.key: p.value for p in model.metadata_props}
    if meta.get("format_version") != FORMAT_VERSION or "kind" not in meta:
        raise UserError(f"model file {path} is an ONNX file without this project's metadata: {remedy}")
    return meta


def check_expectation(path: Path, meta: dict[str, str], expect: ModelExpectation) -> None:
    found = {
        "kind": meta.get("kind"),
        "input_size": int(meta.get("input_size", -1)),
        "input_channels": int(meta.get("input_channels", -1)),
        "output_channels": int(meta.get("output_channels", -1)),
    }
    for key, want in vars(expect).items():
        if found[key] != want:
            raise UserError(
                f"model file {path} has {key}={found[key]} but the config expects {want}: "
                "export a matching model or change model.input_size"
            )


class Model:
    """An open ONNX Runtime session for an image model: uint8 sketch in, uint8 RGB image out."""

    def __init__(self, path: Path, session: Any, meta: dict[str, str]) -> None:
        self.path = path
        self.session = session
        self.metadata = meta
        self.name = meta.get("model_name", path.stem)
        self.provider = session.get_providers()[0]
        self.input_size = int(meta.get("input_size", 0))
        self.sha256 = meta.get("sha256", "")
        self.input_name = session.get_inputs()[0].name
        self.output_name = session.get_outputs()[0].name
        self.input_dtype = np.float16 if "float16" in session.get_inputs()[0].type else np.float32

    def run_batch(self, x: np.ndarray) -> np.ndarray:
        """float32 [N, C, S, S] → float32 [N, C_out, S, S]."""
        y = self.session.run([self.output_name], {self.input_name: x.astype(self.input_dtype, copy=False)})[0]
        return y.astype(np.float32, copy=False)

    def run(self, sketch: np.ndarray) -> np.ndarray:
        """(S, S) uint8 sketch (255 paper) → (S, S, 3) uint8 RGB."""
        x = (sketch.astype(np.float32) / 127.5 - 1.0)[None, None]  # [1, 1, S, S]
        y = self.run_batch(x)[0]  # [3, S, S] in [-1, 1]
        return ((y.transpose(1, 2, 0) + 1.0) * 127.5).round().clip(0, 255).astype(np.uint8)


def provider_list(settings: RuntimeSettings, meta: dict[str, str], path: Path) -> list[Any]:
    """ONNX Runtime provider entries (name or (name, options)) in the configured order."""
    out: list[Any] = []
    gpu = gpu_present()
    for p in settings.providers:
        if p in ("tensorrt", "cuda") and not gpu:
            continue
        if p == "tensorrt":
            cache = Path(settings.trt_cache_dir).expanduser()
            cache.mkdir(parents=True, exist_ok=True)
            s = meta.get("input_size", "256")
            c = meta.get("input_channels", "1")
            shape = f"{meta.get('input_name', 'sketch')}:1x{c}x{s}x{s}"
            out.append(
                (
                    ORT_NAMES[p],
                    {
                        "trt_fp16_enable": settings.trt_fp16,
                        "trt_engine_cache_enable": True,
                        "trt_engine_cache_path": str(cache),
                        "trt_engine_cache_prefix": f"{meta.get('sha256', path.stem)[:16]}_{s}_{'fp16' if settings.trt_fp16 else 'fp32'}",
                        "trt_profile_min_shapes": shape,
                        "trt_profile_opt_shapes": shape,
                        "trt_profile_max_shapes": shape,
                    },
                )
            )
        elif p == "cuda":
            out.append((ORT_NAMES[p], {"cudnn_conv_algo_search": settings.cuda_conv_algo}))
        else:
            out.append(ORT_NAMES[p])
    if not out:
        out.append(ORT_NAMES["cpu"])
    return out


def open_model(path: Path, expect: ModelExpectation | None, settings: RuntimeSettings) -> Model:
    """The session factory every caller uses. Validates, opens, reports the real provider, warms up."""
    import onnxruntime as ort

    meta = read_metadata(path)
    if expect is not None:
        check_expectation(path, meta, expect)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = settings.intra_op_threads
    opts.inter_op_num_threads = settings.inter_op_threads
    opts.log_severity_level = 3  # errors only: the provider actually chosen is reported below
    providers = provider_list(settings, meta, path)
    try:
        session = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
    except Exception as e:  # ORT raises its own exception types (Fail, InvalidGraph, EPFail, ...)
        raise UserError(f"ONNX Runtime cannot open {path} ({str(e).splitlines()[0][:200]}): re-export it") from e
    model = Model(path, session, meta)
    wanted = ORT_NAMES[settings.providers[0]] if settings.providers else ORT_NAMES["cpu"]
    if model.provider != wanted:
        log.warning("inference runs on %s, not %s (the first configured provider)", model.provider, wanted)
    if settings.require_gpu and model.provider == ORT_NAMES["cpu"]:
        raise UserError(
            f"model.require_gpu is set but ONNX Runtime runs {path.name} on CPUExecutionProvider "
            f"(GPU present: {gpu_present()}): install the NVIDIA driver, CUDA and cuDNN for onnxruntime-gpu, "
            "or drop --require-gpu"
        )
    log.info("model %s (%s) on %s", model.name, path.name, model.provider)
    size = model.input_size or 256
    blank = np.full((size, size), 255, np.uint8)
    for _ in range(settings.warmup_runs):
        model.run(blank)
    return model


def describe(model: Model) -> dict[str, Any]:
    return {"name": model.name, "provider": model.provider, "input_size": model.input_size, "sha256": model.sha256,
            "config": json.loads(model.metadata.get("config", "{}")), "pid": os.getpid()}
