"""Typed, layered configuration: packaged defaults → venue file → command-line overrides.

Each TOML section maps to a frozen dataclass; unknown sections or keys are errors that name the key; values
are type-checked (an int is accepted where a float is expected). Overrides are `section.key=value` strings
whose value is parsed as TOML (so `display.fps=30`, `display.layout="ai"` or `display.layout=ai` all work).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installation.core.errors import UserError

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the repository root
DEFAULTS_FILE = PACKAGE_ROOT / "installation" / "config" / "default.toml"

LAYOUTS = ("side", "ai", "overlay")
SOURCES = ("tablet", "replay", "camera")
PROVIDERS = ("tensorrt", "cuda", "cpu")
BACKENDS = ("local", "triton")
PROTOCOLS = ("http", "grpc")
FACE_CHOICES = ("largest", "closest", "center")
SITTER_STYLES = ("quick", "portrait", "shaded")
GENERATORS = ("pix2pix", "strokes", "portrait", "pixels")  # pix2pix: the plain answer; the others: CLIP-steered
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_FILE_BYTES = 1_000_000  # a config file is a few kB; anything this large is not one
DAY_S = 86_400.0
LIVE: dict[str, Any] = {"live": True}  # field metadata: the running show takes this key over /param (core/live_params)

# The finite range (inclusive) of every numeric key: a value outside it, NaN or infinite is an error naming the
# key. Each numeric field of the sections below must have an entry (tests/installation/core/test_config.py).
RANGES: dict[str, tuple[float, float]] = {
    "display.width": (1, 16_384),
    "display.height": (1, 16_384),
    "display.display_index": (0, 64),
    "display.fps": (1, 1_000),
    "display.crossfade_s": (0, 60),
    "display.steady_s": (0, 60),
    "display.steady_near_px": (0, 256),
    "display.steady_feather_px": (0, 256),
    "display.steady_hold_s": (0, 60),
    "display.attract_after_s": (0, DAY_S),
    "display.background": (0, 255),
    "canvas.size": (16, 8_192),
    "canvas.min_width": (0, 256),
    "canvas.max_width": (0.01, 256),
    "model.input_size": (8, 4_096),
    "model.threads": (0, 1_024),
    "model.timeout_s": (0.001, 60.0),
    "model.retry_s": (0.05, 60.0),
    "model.adaptive_hz": (0.1, 1_000),
    "input.replay_speed": (0.001, 10_000),
    "osc.port": (0, 65_535),
    "osc.state_hz": (0.01, 1_000),
    "osc.queue_size": (1, 1_000_000),
    "osc.rate_limit_hz": (0, 1_000_000),
    "osc.rate_burst": (1, 10_000_000),
    "supervision.health_every_s": (0.01, DAY_S),
    "supervision.initial_backoff_s": (0.001, 3_600),
    "supervision.max_backoff_s": (0.001, DAY_S),
    "supervision.healthy_after_s": (0, DAY_S),
    "supervision.stall_after_s": (0.01, DAY_S),
    "archive.finish_idle_s": (0, DAY_S),
    "archive.max_pending": (1, 10_000),
    "logging.max_bytes": (1_000, 100_000_000_000),
    "logging.backups": (0, 1_000),
    "plotter.margin_mm": (0, 1_000),
    "plotter.window": (1, 4_096),
    "sitter.hold_s": (0.01, 3_600),
    "sitter.min_face": (0, 1),
    "sitter.dark_below": (0, 255),
    "sitter.leave_after_s": (0.01, 3_600),
    "sitter.stroke_budget": (1, 1_000_000),
    "sitter.target_minutes": (0.01, 24 * 60),
    "sitter.robot_speed_mm_s": (0.01, 100_000),
    "sitter.show_result_s": (0, DAY_S),
    "sitter.give_up_robot_s": (0.1, DAY_S),
    "ndi.fps": (0, 1_000),
    "duet.pause_s": (0.05, 600),
    "duet.strokes_per_turn": (1, 64),
    "duet.think_s": (0.05, 600),
    "duet.steps": (1, 100_000),
    "duet.size": (32, 512),
    "duet.cutouts": (1, 64),
    "duet.max_crossing": (0, 1),
    "duet.replay_strokes": (1, 1_000),
    "duet.robot_speed_mm_s": (0.01, 100_000),
    "steer.size": (32, 512),
    "steer.steps": (1, 10_000_000),
    "steer.every": (1, 1_000_000),
    "steer.cutouts": (1, 1_024),
    "steer.strokes": (1, 100_000),
    "steer.threads": (1, 1_024),
    "clip.hz": (0.001, 1_000),
    "clip.threads": (0, 1_024),
}


@dataclass(frozen=True)
class DisplayConfig:
    width: int = 1280
    height: int = 720
    fullscreen: bool = True
    display_index: int = 0
    fps: int = field(default=60, metadata=LIVE)
    layout: str = field(default="side", metadata={**LIVE, "choices": LAYOUTS})
    crossfade_s: float = field(default=0.25, metadata=LIVE)
    # far-field steadiness (core/steady): away from the changed ink the image glides to each new answer over
    # about steady_s seconds (0: every answer shown as it is), but only once the ink has not changed for
    # steady_hold_s (while the pen draws the far field holds); distances in model pixels at 256²
    steady_s: float = field(default=1.5, metadata=LIVE)
    steady_near_px: float = field(default=12.0, metadata=LIVE)
    steady_feather_px: float = field(default=8.0, metadata=LIVE)
    steady_hold_s: float = field(default=0.25, metadata=LIVE)
    hud: bool = field(default=False, metadata=LIVE)
    attract_after_s: float = field(default=90.0, metadata=LIVE)
    background: list[int] = field(default_factory=lambda: [18, 18, 20])


@dataclass(frozen=True)
class CanvasConfig:
    size: int = 1024
    min_width: float = 2.0
    max_width: float = 7.0


@dataclass(frozen=True)
class ModelConfig:
    path: str = "installation/assets/models/pix2pix_default.onnx"  # the CPU tier (any model file)
    gpu_path: str = ""  # the GPU tier, used where inference really runs on a GPU ("" = none)
    tier: str = "auto"  # auto: from the provider really got; cpu / gpu: forced
    input_size: int = 256
    providers: list[str] = field(default_factory=lambda: list(PROVIDERS))
    require_gpu: bool = False
    threads: int = 0  # inference intra-op threads; 0: chosen from the cores (installation/core/threads.py)
    trt_cache_dir: str = "~/.cache/live-installation/trt"
    backend: str = "local"  # local: ONNX Runtime here; triton: a Triton server, the local model as fall-back
    url: str = "127.0.0.1:8000"  # the Triton server, HOST:PORT (HTTP 8000, gRPC 8001 by Triton's defaults)
    protocol: str = "http"  # http (standard library) or grpc (needs tritonclient[grpc] in this environment)
    triton_model: str = "pix2pix_default_u8"  # the model's name in the server's repository (uint8 in and out)
    timeout_s: float = 1.0  # one request's limit; past it the sketch is answered locally
    retry_s: float = 1.0  # while on the fall-back, the server is tried again this often
    int8: str = "auto"  # the CPU tier's FILE.int8.onnx: auto (where it wins on speed and quality), on, off
    adaptive: bool = True  # step down to a cheaper model when inference cannot keep adaptive_hz AI updates/s
    adaptive_hz: float = 20.0
    adaptive_levels: list[str] = field(default_factory=list)  # extra cheaper model files, cheapest last


@dataclass(frozen=True)
class InputConfig:
    source: str = "tablet"
    sessions: list[str] = field(default_factory=list)
    replay_speed: float = 1.0
    replay_loop: bool = True
    camera: str = "0"
    evdev: str = "auto"


@dataclass(frozen=True)
class PathsConfig:
    recordings: str = "recordings"
    saved: str = "saved"


@dataclass(frozen=True)
class OscConfig:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9000
    allow: list[str] = field(default_factory=lambda: ["127.0.0.1"])
    state_out: list[str] = field(default_factory=lambda: ["127.0.0.1:9001"])
    state_hz: float = 10.0
    queue_size: int = 256
    rate_limit_hz: float = 200.0
    rate_burst: int = 400


@dataclass(frozen=True)
class SupervisionConfig:
    health_every_s: float = 60.0
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    healthy_after_s: float = 60.0
    stall_after_s: float = 10.0


@dataclass(frozen=True)
class ArchiveConfig:
    enabled: bool = True
    root: str = "archive"
    finish_idle_s: float = field(default=60.0, metadata=LIVE)
    store_camera_frames: bool = False
    max_pending: int = 8


@dataclass(frozen=True)
class LoggingConfig:
    file: str = "logs/installation.jsonl"
    max_bytes: int = 5_000_000
    backups: int = 5
    level: str = "INFO"


@dataclass(frozen=True)
class PlotterConfig:
    robot: str = "127.0.0.1:9100"
    paper: str = "a4"
    margin_mm: float = field(default=15.0, metadata=LIVE)  # live: from the next /plotter/start
    window: int = 8
    new_sheet: bool = False  # one sheet per drawing: the robot waits for a fresh sheet between jobs
    robots: list[str] = field(default_factory=list)  # several bridges drawing at once; empty = just `robot`


@dataclass(frozen=True)
class CalibrationConfig:
    profile: str = ""  # the venue's calibration profile (run.py calibrate ... --profile FILE); empty = none


@dataclass(frozen=True)
class SitterConfig:
    hold_s: float = 3.0
    choose: str = "largest"
    min_face: float = 0.12
    dark_below: float = 60.0
    leave_after_s: float = 1.5
    style: str = "portrait"
    styles: list[str] = field(default_factory=list)  # a style per robot (core/sitter_styles.py); empty = `style`
    give_up_robot_s: float = 60.0  # a robot silent this long mid-portrait is given up for that sitting
    stroke_budget: int = 600
    target_minutes: float = 5.0
    robot_speed_mm_s: float = 60.0
    show_result_s: float = 10.0
    store_camera_frames: bool = False
    archive: str = "archive"


@dataclass(frozen=True)
class NdiConfig:
    enabled: bool = False
    station: str = "studio"
    fps: float = 0.0  # 0 = the display's rate
    extra_ips: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DuetConfig:
    pause_s: float = 2.0
    strokes_per_turn: int = 6
    think_s: float = 1.5
    draft: bool = True
    steps: int = 40
    size: int = 96
    cutouts: int = 4
    max_crossing: float = 0.05
    prompt: str = ""
    replay_strokes: int = 3
    robot_speed_mm_s: float = 80.0
    archive: str = "archive"


@dataclass(frozen=True)
class SteerConfig:
    generator: str = "pix2pix"
    clip: str = ""
    prompts: list[str] = field(default_factory=lambda: ["a drawing of a face"])
    size: int = 128
    steps: int = 300
    every: int = 4
    cutouts: int = 6
    strokes: int = 32
    threads: int = 1


@dataclass(frozen=True)
class ClipConfig:
    enabled: bool = True
    models: str = "installation/assets/models"  # folder of clip_image.onnx + clip_text.onnx
    hz: float = 2.0  # at most this many scores a second, in a worker thread
    threads: int = 1  # ONNX Runtime intra-op threads for the two encoders
    int8: str = "auto"  # clip_image.int8.onnx (run.py quantize): auto (where it wins), on, off


@dataclass(frozen=True)
class AppConfig:
    display: DisplayConfig = field(default_factory=DisplayConfig)
    canvas: CanvasConfig = field(default_factory=CanvasConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    input: InputConfig = field(default_factory=InputConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    osc: OscConfig = field(default_factory=OscConfig)
    plotter: PlotterConfig = field(default_factory=PlotterConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    sitter: SitterConfig = field(default_factory=SitterConfig)
    steer: SteerConfig = field(default_factory=SteerConfig)
    duet: DuetConfig = field(default_factory=DuetConfig)
    ndi: NdiConfig = field(default_factory=NdiConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    supervision: SupervisionConfig = field(default_factory=SupervisionConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def resolve(self, path: str) -> Path:
        """A config path made absolute: relative paths are relative to the repository root."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else PACKAGE_ROOT / p


def load_config(venue: Path | None = None, overrides: list[str] | None = None) -> AppConfig:
    """Packaged defaults, then the venue file, then `section.key=value` overrides; validated."""
    data = _read_toml(DEFAULTS_FILE, "packaged defaults")
    if venue is not None:
        _merge(data, _check_layer(_read_toml(venue, "venue config"), str(venue)), str(venue))
    for item in overrides or []:
        _merge(data, _check_layer(_parse_override(item), f"override {_short(item)}"), f"override {_short(item)}")
    cfg = _build(AppConfig, data, "")
    _check_finite(cfg)
    _check_values(cfg)
    _check_ranges(cfg)
    _check_addresses(cfg)
    return cfg


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"{what} {path} does not exist: give the path of a TOML config file")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UserError(f"{what} {path} is larger than {MAX_FILE_BYTES:,} bytes: give the venue's TOML file")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{what} {path} is not UTF-8 text (byte {e.start}): save it as UTF-8 TOML") from None
    except OSError as e:
        raise UserError(f"{what} {path} cannot be read ({e.strerror}): check the path and permissions") from None
    return _loads_toml(text, f"{what} {path}")


def _loads_toml(text: str, where: str) -> dict[str, Any]:
    """tomllib with its non-TOML failures (too deep, an integer too long to convert) as one-line errors."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{where} is not valid TOML ({e}): fix the file") from None
    except RecursionError:
        raise UserError(f"{where} is nested too deeply to be a config: fix the file") from None
    except ValueError as e:  # e.g. an integer of thousands of digits
        raise UserError(f"{where} holds a value that cannot be read ({str(e)[:80]}): fix the file") from None


def _short(value: Any) -> str:
    """repr() cut to a readable length: an error names the value, it does not echo 5,000 digits."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse_override(item: str) -> dict[str, Any]:
    key, sep, raw = item.partition("=")
    parts = key.strip().split(".")
    if not sep or len(parts) != 2 or not all(parts):
        raise UserError(f"override {_short(item)} must look like section.key=value, e.g. display.layout=ai")
    return {parts[0]: {parts[1]: parse_value(raw, f"override {_short(item)}")}}


def parse_value(raw: str, where: str) -> Any:
    """An override's (or a /param string's) value text as TOML; a bare word is taken as a string."""
    try:
        return tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return raw.strip()
    except (RecursionError, ValueError):
        raise UserError(f"{where}: the value is nested too deeply or too long to read") from None


def _check_layer(layer: dict[str, Any], where: str) -> dict[str, Any]:
    """What only the venue's own layer can get wrong: a list that was given but left empty."""
    sitter = layer.get("sitter")
    if isinstance(sitter, dict) and sitter.get("styles") == []:
        raise UserError(
            f'{where}: \'sitter.styles\' is empty: name a style per robot, e.g. ["quick", "portrait", "shaded"], '
            "or leave the key out (every robot draws sitter.style)"
        )
    return layer


def _merge(base: dict[str, Any], layer: dict[str, Any], where: str) -> None:
    for section, values in layer.items():
        if not isinstance(values, dict):
            raise UserError(f"{where}: '{section}' must be a [section] table")
        base.setdefault(section, {}).update(values)


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            known = ", ".join(sorted(names))
            raise UserError(f"unknown config key '{prefix}{key}' (known here: {known})")
    kwargs: dict[str, Any] = {}
    for name in names & data.keys():
        kind = hints[name]
        value = data[name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, dict):
                raise UserError(f"config '{prefix}{name}' must be a [section] table")
            kwargs[name] = _build(kind, value, f"{prefix}{name}.")  # type: ignore[arg-type]
        else:
            kwargs[name] = _coerce(value, kind, f"{prefix}{name}")
    return cls(**kwargs)


def _coerce(value: Any, kind: Any, key: str) -> Any:
    origin = typing.get_origin(kind)
    if origin is list:
        (item,) = typing.get_args(kind)
        if not isinstance(value, list):
            raise UserError(f"config '{key}' must be a list, got {_short(value)}")
        return [_coerce(v, item, f"{key}[]") for v in value]
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise UserError(f"config '{key}' must be {kind.__name__}, got {_short(value)}")


def _check_values(cfg: AppConfig) -> None:
    def choice(key: str, value: str, options: tuple[str, ...]) -> None:
        if value not in options:
            raise UserError(f"config '{key}' is {_short(value)}; choose one of {', '.join(options)}")

    def positive(key: str, value: float) -> None:
        if value <= 0:
            raise UserError(f"config '{key}' must be positive, got {value}")

    choice("display.layout", cfg.display.layout, LAYOUTS)
    choice("input.source", cfg.input.source, SOURCES)
    choice("sitter.choose", cfg.sitter.choose, FACE_CHOICES)
    choice("sitter.style", cfg.sitter.style, SITTER_STYLES)
    from installation.core.sitter_styles import assign_styles

    assign_styles(cfg.plotter.robots or [cfg.plotter.robot], cfg.sitter.styles, cfg.sitter.style, SITTER_STYLES)
    choice("steer.generator", cfg.steer.generator, GENERATORS)
    if not cfg.steer.prompts:
        raise UserError("config 'steer.prompts' must hold at least one prompt (key P cycles through them)")
    from installation.core.prompts import parse_prompts

    for text in cfg.steer.prompts:
        parse_prompts(text)
    if cfg.duet.prompt:
        parse_prompts(cfg.duet.prompt)
    if not cfg.ndi.station.strip() or len(cfg.ndi.station) > 64:
        raise UserError("config 'ndi.station' must be a name of 1..64 characters (the NDI sources are named after it)")
    if not 32 <= cfg.steer.size <= 512:
        raise UserError(f"config 'steer.size' must be 32..512, got {cfg.steer.size}")
    for p in cfg.model.providers:
        choice("model.providers[]", p, PROVIDERS)
    from installation.core.tiers import TIERS

    choice("model.tier", cfg.model.tier, TIERS)
    choice("model.backend", cfg.model.backend, BACKENDS)
    choice("model.protocol", cfg.model.protocol, PROTOCOLS)
    positive("model.timeout_s", cfg.model.timeout_s)
    positive("model.retry_s", cfg.model.retry_s)
    if not cfg.model.triton_model.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise UserError(
            f"config 'model.triton_model' is {_short(cfg.model.triton_model)}: name a model of the Triton "
            "repository (letters, digits, _ - .)"
        )
    from installation.core.precision import INT8_MODES

    choice("model.int8", cfg.model.int8, INT8_MODES)
    choice("clip.int8", cfg.clip.int8, INT8_MODES)
    if cfg.model.tier == "gpu" and not cfg.model.gpu_path:
        raise UserError("config 'model.tier' is \"gpu\" but 'model.gpu_path' is empty: name the GPU tier's file")
    for key, value in (
        ("display.width", cfg.display.width),
        ("display.height", cfg.display.height),
        ("display.fps", cfg.display.fps),
        ("canvas.size", cfg.canvas.size),
        ("model.input_size", cfg.model.input_size),
        ("input.replay_speed", cfg.input.replay_speed),
        ("canvas.max_width", cfg.canvas.max_width),
        ("sitter.hold_s", cfg.sitter.hold_s),
        ("sitter.leave_after_s", cfg.sitter.leave_after_s),
        ("sitter.stroke_budget", cfg.sitter.stroke_budget),
        ("sitter.target_minutes", cfg.sitter.target_minutes),
        ("sitter.robot_speed_mm_s", cfg.sitter.robot_speed_mm_s),
        ("steer.steps", cfg.steer.steps),
        ("steer.every", cfg.steer.every),
        ("steer.cutouts", cfg.steer.cutouts),
        ("steer.strokes", cfg.steer.strokes),
        ("steer.threads", cfg.steer.threads),
        ("clip.hz", cfg.clip.hz),
    ):
        positive(key, value)
    for key, value in (("osc.state_hz", cfg.osc.state_hz), ("osc.queue_size", cfg.osc.queue_size)):
        positive(key, value)
    if not 0 < cfg.sitter.min_face < 1:
        raise UserError(f"config 'sitter.min_face' must be between 0 and 1 (of the frame), got {cfg.sitter.min_face}")
    if not 0 <= cfg.sitter.dark_below < 255:
        raise UserError(f"config 'sitter.dark_below' must be 0 or more and under 255, got {cfg.sitter.dark_below}")
    if cfg.osc.rate_limit_hz < 0:
        raise UserError(
            f"config 'osc.rate_limit_hz' is {cfg.osc.rate_limit_hz:g}: rate_limit_hz must be zero or positive"
        )
    if cfg.osc.rate_burst < 1:
        raise UserError("config 'osc.rate_burst' must be at least 1")
    sup = cfg.supervision
    for key, value in (
        ("supervision.health_every_s", sup.health_every_s),
        ("supervision.initial_backoff_s", sup.initial_backoff_s),
        ("supervision.max_backoff_s", sup.max_backoff_s),
        ("supervision.stall_after_s", sup.stall_after_s),
        ("archive.max_pending", cfg.archive.max_pending),
        ("logging.max_bytes", cfg.logging.max_bytes),
    ):
        positive(key, value)
    for key, value in (("archive.finish_idle_s", cfg.archive.finish_idle_s), ("logging.backups", cfg.logging.backups)):
        if value < 0:
            raise UserError(f"config '{key}' must be zero or positive, got {value}")
    choice("logging.level", cfg.logging.level, LOG_LEVELS)
    if cfg.display.crossfade_s < 0:
        raise UserError("config 'display.crossfade_s' must be zero or positive")
    if cfg.canvas.min_width > cfg.canvas.max_width:
        raise UserError("config 'canvas.min_width' must not exceed 'canvas.max_width'")
    if len(cfg.display.background) != 3 or not all(0 <= c <= 255 for c in cfg.display.background):
        raise UserError("config 'display.background' must be three numbers 0..255 (R, G, B)")


def numeric_values(cfg: AppConfig) -> dict[str, list[float]]:
    """Every numeric config value by its key ('display.fps'); a list key gives all its items."""
    out: dict[str, list[float]] = {}
    for section in dataclasses.fields(cfg):
        sec = getattr(cfg, section.name)
        for f in dataclasses.fields(sec):
            value = getattr(sec, f.name)
            items = value if isinstance(value, list) else [value]
            nums = [v for v in items if isinstance(v, int | float) and not isinstance(v, bool)]
            if nums:
                out[f"{section.name}.{f.name}"] = nums
    return out


def _check_finite(cfg: AppConfig) -> None:
    for key, values in numeric_values(cfg).items():
        for v in values:
            if not math.isfinite(v):
                lo, hi = RANGES.get(key, (None, None))
                within = f" within {lo:g}..{hi:g}" if lo is not None and hi is not None else ""
                raise UserError(f"config '{key}' must be a finite number{within}, got {v}")


def _check_ranges(cfg: AppConfig) -> None:
    for key, values in numeric_values(cfg).items():
        lo, hi = RANGES.get(key, (-math.inf, math.inf))
        for v in values:
            if not lo <= v <= hi:
                raise UserError(f"config '{key}' must be within {lo:g}..{hi:g}, got {v:g}")


def parse_host_port(text: str, key: str, allow_zero: bool = False) -> tuple[str, int]:
    """'HOST:PORT' → (host, port); a UserError naming `key` for anything else (port 1..65535)."""
    host, sep, port = text.strip().rpartition(":")
    lowest = 0 if allow_zero else 1
    if not sep or not host or not port.isascii() or not port.isdigit() or len(port) > 5:
        raise UserError(f"config '{key}' is {_short(text)}: it must look like HOST:PORT, e.g. 127.0.0.1:9001")
    if not lowest <= int(port) <= 65535:
        raise UserError(f"config '{key}' is {_short(text)}: the port must be {lowest}..65535")
    if any(c.isspace() for c in host) or len(host) > 253:
        raise UserError(f"config '{key}' is {_short(text)}: the host must be a name or an address without spaces")
    return host, int(port)


def _check_addresses(cfg: AppConfig) -> None:
    """Addresses the show only uses later (the robot at /plotter/start, state at the first tick), checked now."""
    for dest in cfg.osc.state_out:
        parse_host_port(dest, "osc.state_out[]")
    parse_host_port(cfg.plotter.robot, "plotter.robot")
    seen = set()
    for dest in cfg.plotter.robots:
        addr = parse_host_port(dest, "plotter.robots[]")
        if addr in seen:
            raise UserError(f"config 'plotter.robots' names {dest} twice: each robot bridge once")
        seen.add(addr)
    parse_host_port(cfg.model.url, "model.url")
