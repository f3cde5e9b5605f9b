"""The one inference runtime: every ONNX model is opened here (the only module that imports onnxruntime).

`open_model(path, expect, settings)` reads the file's embedded metadata (written by `run.py export`), checks
it against what the caller expects, opens an ONNX Runtime session, reports the provider it REALLY got and
warms it up, all before the first frame of a show.

Provider rule: TensorRT and CUDA are only tried when this onnxruntime build offers them AND the machine looks
like it has an NVIDIA GPU (`/dev/nvidia0` exists or `nvidia-smi` is on the PATH); that check needs no torch.
A CPU-only machine therefore never loads the CUDA libraries and prints nothing. Where a GPU provider was tried
and failed, ONNX Runtime's own C++ and stdout messages are silenced and one WARNING says what happened;
with `require_gpu` that is a start-up error instead.

TensorRT: fp16, engines cached under `trt_cache_dir`, named by the ONNX file's sha256, the input shape and
the precision, with explicit min/opt/max profile shapes; built during warm-up, never mid-show.
CUDA: cudnn_conv_algo_search HEURISTIC (EXHAUSTIVE makes the first call slow) and IO binding with buffers
kept on the GPU between calls. CPU: intra-op threads from the settings, all graph optimisations.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.errors import UserError

log = logging.getLogger(__name__)

FORMAT_VERSION = "1"  # of the metadata written by models/onnx_parity.py (FORMAT_VERSION)
ORT_NAMES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
CPU = ORT_NAMES["cpu"]
GPU_PROVIDERS = (ORT_NAMES["tensorrt"], ORT_NAMES["cuda"])
REMEDY = "re-export it with `python run.py export --checkpoint CKPT --out FILE.onnx`"


@dataclass(frozen=True)
class RuntimeSettings:
    providers: tuple[str, ...] = ("tensorrt", "cuda", "cpu")  # tried in this order
    require_gpu: bool = False  # a fall-back to CPU is a UserError
    intra_op_threads: int = 0  # 0: ONNX Runtime decides
    inter_op_threads: int = 1
    trt_fp16: bool = True
    trt_cache_dir: str = "~/.cache/live-installation/trt"
    trt_max_batch: int = 4  # upper end of the TensorRT profile for a dynamic-batch model
    cuda_conv_algo: str = "HEURISTIC"
    warmup_runs: int = 3


@dataclass(frozen=True)
class ModelExpectation:
    """What the caller needs of the file; None means "any"."""

    kind: str
    input_size: int | None = None
    input_channels: int | None = None
    output_channels: int | None = None


def ort_version() -> str:
    import onnxruntime as ort

    return str(ort.__version__)


def available_providers() -> list[str]:
    """Providers this onnxruntime build lists (it may list GPU providers whose libraries will not load)."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


def gpu_present() -> bool:
    """The torch-free GPU check that decides whether GPU providers are tried at all."""
    return Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None


def read_metadata(path: Path, kind: str | None = None) -> tuple[dict[str, str], bytes]:
    """The model's metadata_props and the file's bytes; UserError for a missing, truncated or foreign file."""
    import onnx

    want = f"a {kind} model exported by this project" if kind else "a model exported by this project"
    if not path.is_file():
        raise UserError(f"model file {path} does not exist (expected {want}): {REMEDY}, or fix model.path")
    data = path.read_bytes()
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf raises DecodeError and friends on truncated or non-ONNX files
        raise UserError(
            f"model file {path} is not a readable ONNX file ({type(e).__name__}; expected {want}): {REMEDY}"
        ) from e
    meta = {p.key: p.value for p in proto.metadata_props}
    if not proto.graph.node or "kind" not in meta or meta.get("format_version") != FORMAT_VERSION:
        found = f"format_version {meta['format_version']!r}" if "format_version" in meta else "no metadata"
        raise UserError(
            f"model file {path} is not an export of this project ({found}; truncated or foreign; "
            f"expected {want}): {REMEDY}"
        )
    return meta, data


def check_expectation(path: Path, meta: dict[str, str], expect: ModelExpectation) -> None:
    for key, want in vars(expect).items():
        if want is None:
            continue
        have = meta.get(key)
        if str(have) != str(want):
            raise UserError(
                f"model file {path} has {key}={have} but {want} is expected: export a matching model "
                f"(`python run.py export ...`) or change the config (model.{key}) to match the file"
            )


class Model:
    """An open ONNX Runtime session for an image model: uint8 sketch in, uint8 RGB image out."""

    def __init__(self, path: Path, session: Any, meta: dict[str, str], sha256: str, ort: Any) -> None:
        self.path = path
        self.session = session
        self.metadata = meta
        self.name = meta.get("model_name", path.stem)
        self.kind = meta.get("kind", "")
        self.provider: str = session.get_providers()[0]
        self.input_size = int(meta.get("input_size", 0))
        self.output_channels = int(meta.get("output_channels", 3))
        self.sha256 = sha256  # of the ONNX file
        self.input_name = session.get_inputs()[0].name
        self.output_name = session.get_outputs()[0].name
        self.input_dtype = np.float16 if "float16" in session.get_inputs()[0].type else np.float32
        self._ort = ort
        self._bound: tuple[tuple[int, ...], Any, Any, Any] | None = None  # shape, binding, input, output
        self._use_binding = self.provider in GPU_PROVIDERS
        self.tier = "cpu" if self.provider not in GPU_PROVIDERS else "gpu"  # open_tiered sets the chosen one

    def run_batch(self, x: np.ndarray) -> np.ndarray:
        """float32 [N, C, S, S] in [-1, 1] → float32 [N, C_out, S, S] in [-1, 1]."""
        x = np.ascontiguousarray(x, dtype=self.input_dtype)
        if self._use_binding:
            try:
                return self._run_bound(x)
            except Exception as e:  # an ORT build without device OrtValues: plain runs still work
                log.warning("IO binding unavailable on %s (%s): using plain session runs", self.provider, e)
                self._use_binding = False
        y = self.session.run([self.output_name], {self.input_name: x})[0]
        return y.astype(np.float32, copy=False)

    def _run_bound(self, x: np.ndarray) -> np.ndarray:
        """Input and output buffers stay on the GPU between calls; only the pixels cross the bus."""
        if self._bound is None or self._bound[0] != x.shape:
            n, _, h, w = x.shape
            x_dev = self._ort.OrtValue.ortvalue_from_numpy(x, "cuda", 0)
            out_type = self.session.get_outputs()[0].type
            out_dtype = np.float16 if "float16" in out_type else np.float32
            y_dev = self._ort.OrtValue.ortvalue_from_shape_and_type(
                [n, self.output_channels, h, w], out_dtype, "cuda", 0
            )
            binding = self.session.io_binding()
            binding.bind_ortvalue_input(self.input_name, x_dev)
            binding.bind_ortvalue_output(self.output_name, y_dev)
            self._bound = (x.shape, binding, x_dev, y_dev)
        else:
            self._bound[2].update_inplace(x)
        _, binding, _, y_dev = self._bound
        self.session.run_with_iobinding(binding)
        return y_dev.numpy().astype(np.float32, copy=False)

    def run(self, sketch: np.ndarray) -> np.ndarray:
        """(S, S) uint8 sketch (255 paper, 0 ink) → (S, S, 3) uint8 RGB."""
        if sketch.shape != (self.input_size, self.input_size):
            raise ValueError(f"{self.name} takes ({self.input_size}, {self.input_size}) sketches, got {sketch.shape}")
        x = (sketch.astype(np.float32) / 127.5 - 1.0)[None, None]  # [1, 1, S, S], paper +1, ink -1
        y = self.run_batch(x)[0]  # [3, S, S] in [-1, 1]
        return np.clip(np.rint((y.transpose(1, 2, 0) + 1.0) * 127.5), 0, 255).astype(np.uint8)  # (S, S, 3)


def provider_list(settings: RuntimeSettings, meta: dict[str, str], sha256: str, available: list[str]) -> list[Any]:
    """ONNX Runtime provider entries (name or (name, options)) in the configured order; GPU ones on a GPU."""
    unknown = [p for p in settings.providers if p not in ORT_NAMES]
    if unknown:
        raise UserError(f"unknown inference provider(s) {unknown}: choose from {list(ORT_NAMES)}")
    gpu = gpu_present()
    out: list[Any] = []
    for p in settings.providers:
        name = ORT_NAMES[p]
        if name in GPU_PROVIDERS and not (gpu and name in available):
            continue
        if p == "tensorrt":
            out.append((name, _trt_options(settings, meta, sha256)))
        elif p == "cuda":
            out.append((name, {"device_id": 0, "cudnn_conv_algo_search": settings.cuda_conv_algo}))
        else:
            out.append(name)
    if CPU not in out:
        out.append(CPU)  # the last resort is always there; require_gpu turns using it into an error
    return out


def _trt_options(settings: RuntimeSettings, meta: dict[str, str], sha256: str) -> dict[str, Any]:
    cache = Path(settings.trt_cache_dir).expanduser()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"TensorRT engine cache {cache} cannot be created ({e}): set model.trt_cache_dir") from e
    s, c = meta.get("input_size", "256"), meta.get("input_channels", "1")
    name = meta.get("input_name", "sketch")
    max_n = settings.trt_max_batch if meta.get("dynamic_batch") == "true" else 1
    precision = "fp16" if settings.trt_fp16 else "fp32"
    return {
        "trt_fp16_enable": settings.trt_fp16,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache),
        "trt_engine_cache_prefix": f"{sha256[:16]}_{c}x{s}x{s}_b{max_n}_{precision}",
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(cache),
        "trt_profile_min_shapes": f"{name}:1x{c}x{s}x{s}",
        "trt_profile_opt_shapes": f"{name}:1x{c}x{s}x{s}",
        "trt_profile_max_shapes": f"{name}:{max_n}x{c}x{s}x{s}",
    }


def _create_session(ort: Any, data: bytes, path: Path, settings: RuntimeSettings, providers: list[Any]) -> Any:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = settings.intra_op_threads
    opts.inter_op_num_threads = settings.inter_op_threads
    opts.log_severity_level = 3  # errors only: the provider actually chosen is reported by us
    names = [p if isinstance(p, str) else p[0] for p in providers]
    tries_gpu = any(n in GPU_PROVIDERS for n in names)
    ort.set_default_logger_severity(4 if tries_gpu else 3)  # 4: hide the C++ spew of a failed CUDA load
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):  # onnxruntime prints its EP fall-back banner to stdout
            session = ort.InferenceSession(data, sess_options=opts, providers=providers)
    except Exception as e:  # ORT raises its own types (Fail, InvalidGraph, NoSuchFile, EPFail, ...)
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise UserError(f"ONNX Runtime cannot open model file {path} ({first}): {REMEDY}") from e
    spew = " ".join(line.strip() for line in captured.getvalue().splitlines() if line.strip("* \n"))
    if spew:
        log.warning("ONNX Runtime: %s", spew[:400])
    return session


def open_model(path: Path, expect: ModelExpectation | None, settings: RuntimeSettings) -> Model:
    """The session factory every caller uses: validate, open, report the real provider, warm up."""
    import onnxruntime as ort

    path = Path(path)
    meta, data = read_metadata(path, expect.kind if expect else None)
    if expect is not None:
        check_expectation(path, meta, expect)
    sha256 = hashlib.sha256(data).hexdigest()
    available = available_providers()
    providers = provider_list(settings, meta, sha256, available)
    session = _create_session(ort, data, path, settings, providers)
    del data
    _check_graph(path, session, meta)
    model = Model(path, session, meta, sha256, ort)
    wanted = ORT_NAMES[settings.providers[0]] if settings.providers else CPU
    if model.provider != wanted:
        log.warning(
            "inference for %s runs on %s, not %s (the first configured provider): %s",
            path.name, model.provider, wanted, _why_not_gpu(available),
        )  # fmt: skip
    if settings.require_gpu and model.provider == CPU:
        raise UserError(
            f"the config asked for a GPU but ONNX Runtime runs {path.name} on CPUExecutionProvider "
            f"({_why_not_gpu(available)}): install the NVIDIA driver, CUDA 12 and cuDNN 9 for "
            f"onnxruntime-gpu {ort.__version__}, or drop --require-gpu"
        )
    if model.provider == ORT_NAMES["tensorrt"]:
        log.info("TensorRT engine for %s: built now if not cached in %s", path.name, settings.trt_cache_dir)
    _warm_up(model, meta, max(1, settings.warmup_runs))
    log.info("model %s (%s, sha256 %s) on %s", model.name, path.name, sha256[:12], model.provider)
    return model


def open_tiered(
    cpu_path: str, gpu_path: str, tier: str, expect: ModelExpectation | None, settings: RuntimeSettings
) -> Model:
    """The tier that fits the provider really got: the GPU tier on a GPU, the CPU tier elsewhere; says which."""
    from installation.core.tiers import first_choice, keep

    gpu_provider = gpu_present() and any(ORT_NAMES[p] in available_providers() for p in ("tensorrt", "cuda"))
    choice = first_choice(tier, cpu_path, gpu_path, bool(gpu_path) and Path(gpu_path).is_file(), gpu_provider)
    if choice.tier == "gpu" and not Path(choice.path).is_file():
        raise UserError(f'GPU tier {choice.path} does not exist: export one or set model.tier = "auto"')
    model = open_model(Path(choice.path), expect, settings)
    if not keep(choice, model.provider, forced=tier == "gpu"):
        log.warning("GPU tier %s got %s, not a GPU: using the CPU tier %s", choice.path, model.provider, cpu_path)
        choice = first_choice("cpu", cpu_path, gpu_path, False, False)
        model = open_model(Path(cpu_path), expect, settings)
    elif choice.tier == "gpu" and model.provider not in GPU_PROVIDERS:
        log.warning("GPU tier forced but inference runs on %s: expect it to be slow", model.provider)
    model.tier = choice.tier
    log.warning("model tier: %s (%s), %s on %s", choice.tier, choice.reason, model.name, model.provider)
    return model


def _warm_up(model: Model, meta: dict[str, str], runs: int) -> None:
    """Blank paper through the model `runs` times; the answer must have the shape its metadata promises and
    be finite, so a model that disagrees with its metadata fails here, at load, and not in the display."""
    size = model.input_size
    channels = _meta_int(model.path, meta, "input_channels", 1)
    blank = np.ones((1, channels, size, size), np.float32)  # [1, C, S, S] blank paper
    want = (1, model.output_channels, size, size)
    for _ in range(runs):
        try:
            y = model.run_batch(blank)
        except Exception as e:  # ORT's own types: a graph that cannot run on its declared input
            first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
            raise UserError(f"model file {model.path} fails on a blank sketch at load ({first}): {REMEDY}") from e
        if tuple(y.shape) != want:
            raise UserError(
                f"model file {model.path} answers with shape {list(y.shape)} but its metadata promises "
                f"{list(want)}: {REMEDY}"
            )
        if not np.isfinite(y).all():
            raise UserError(f"model file {model.path} answers a blank sketch with NaN or infinity: {REMEDY}")


def _meta_int(path: Path, meta: dict[str, str], key: str, default: int) -> int:
    raw = meta.get(key, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise UserError(f"model file {path} has metadata {key}={raw[:20]!r}, not a whole number: {REMEDY}") from None
    if not 0 < value <= 16_384:
        raise UserError(f"model file {path} has metadata {key}={value}, outside 1..16384: {REMEDY}")
    return value


def _check_graph(path: Path, session: Any, meta: dict[str, str]) -> None:
    """The graph's own input shape must agree with its metadata (a hand-edited file does not)."""
    shape = session.get_inputs()[0].shape  # e.g. [1, 1, 256, 256] or ['batch', 1, 256, 256]
    for key in ("input_channels", "input_size", "output_channels"):
        if key in meta:
            _meta_int(path, meta, key, 1)
    want = [
        int(meta.get("input_channels", -1)),
        int(meta.get("input_size", -1)),
        int(meta.get("input_size", -1)),
    ]
    if len(shape) != 4 or [d if isinstance(d, int) else -2 for d in shape[1:]] != want:
        raise UserError(f"model file {path} has input shape {shape} but its metadata says {want}: {REMEDY}")


def _why_not_gpu(available: list[str]) -> str:
    if not gpu_present():
        return "no NVIDIA GPU found: no /dev/nvidia0 and no nvidia-smi"
    if not any(p in available for p in GPU_PROVIDERS):
        return f"this onnxruntime build offers only {available}: install onnxruntime-gpu"
    return "the GPU provider libraries did not load (CUDA/cuDNN/TensorRT missing or mismatched)"


def describe(model: Model) -> dict[str, Any]:
    """A JSON-able summary for logs, the HUD and benchmark reports."""
    return {
        "name": model.name,
        "file": str(model.path),
        "provider": model.provider,
        "tier": model.tier,
        "input_size": model.input_size,
        "sha256": model.sha256,
        "precision": model.metadata.get("precision", "fp32"),
        "config": json.loads(model.metadata.get("config", "{}")),
    }
