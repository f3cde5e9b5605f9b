"""Triton's `config.pbtxt` (protobuf text format): written from a dataclass, read back into plain dicts.

Pure: no protobuf, no numpy, so the optional server environment (numpy < 2) imports it too. The reader covers
the text format as Triton's model configs use it: `key: scalar`, `key { ... }`, `key: [ a, b ]`, `key [ {...} ]`,
comments after `#`. Every field maps to a list of its values (a repeated field and a single one read alike).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from installation.core.errors import UserError

TRITON_TYPES = {"uint8": "TYPE_UINT8", "float32": "TYPE_FP32", "float16": "TYPE_FP16", "int32": "TYPE_INT32"}
_TOKEN = re.compile(r'\s*(#[^\n]*|"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"#]+)')


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: str  # a key of TRITON_TYPES
    dims: tuple[int, ...]  # without the batch dimension


@dataclass(frozen=True)
class ModelConfig:
    name: str
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    max_batch_size: int = 8
    queue_delay_us: int = 2000  # dynamic batching waits at most this long to fill a batch; 0 = no batching
    preferred_batch_sizes: tuple[int, ...] = ()
    instances: int = 1
    device: str = "gpu"  # gpu: KIND_GPU + TensorRT fp16; cpu: KIND_CPU
    trt_fp16: bool = True
    extra: dict[str, str] = field(default_factory=dict)  # parameters { key value } (free-form notes)


def render(cfg: ModelConfig) -> str:
    """The config.pbtxt text of one model."""

    def tensors(kind: str, items: tuple[Tensor, ...]) -> list[str]:
        rows = [
            f'  {{ name: "{t.name}" data_type: {TRITON_TYPES[t.dtype]} dims: [ {", ".join(map(str, t.dims))} ] }}'
            for t in items
        ]
        return [f"{kind} [", ",\n".join(rows), "]"]

    lines = [f'name: "{cfg.name}"', 'backend: "onnxruntime"', f"max_batch_size: {cfg.max_batch_size}"]
    lines += tensors("input", cfg.inputs) + tensors("output", cfg.outputs)
    if cfg.queue_delay_us > 0 and cfg.max_batch_size > 1:
        lines.append("dynamic_batching {")
        if cfg.preferred_batch_sizes:
            lines.append(f"  preferred_batch_size: [ {', '.join(map(str, cfg.preferred_batch_sizes))} ]")
        lines += [f"  max_queue_delay_microseconds: {cfg.queue_delay_us}", "}"]
    kind = "KIND_GPU" if cfg.device == "gpu" else "KIND_CPU"
    lines += ["instance_group [", f"  {{ count: {cfg.instances} kind: {kind} }}", "]"]
    if cfg.device == "gpu":
        precision = "FP16" if cfg.trt_fp16 else "FP32"
        lines += [
            "optimization { execution_accelerators {",
            "  gpu_execution_accelerator: [ {",
            '    name: "tensorrt"',
            f'    parameters {{ key: "precision_mode" value: "{precision}" }}',
            '    parameters { key: "max_workspace_size_bytes" value: "1073741824" }',
            '    parameters { key: "trt_engine_cache_enable" value: "true" }',
            "  } ]",
            "} }",
        ]
    for key, value in sorted(cfg.extra.items()):
        lines.append(f'parameters {{ key: "{key}" value: {{ string_value: "{_escape(value)}" }} }}')
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def parse(text: str, where: str = "config.pbtxt") -> dict[str, list[Any]]:
    """Text format → {field: [values]}; a message value is such a dict, a scalar a str, int or float."""
    tokens = _tokens(text, where)
    out, pos = _message(tokens, 0, where, top=True)
    if pos != len(tokens):
        raise UserError(f"{where}: unexpected {tokens[pos]!r}: fix the file (protobuf text format)")
    return out


def _tokens(text: str, where: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise UserError(f"{where}: cannot read it at character {pos}: fix the file (protobuf text format)")
        if not m.group(1).startswith("#"):  # a comment runs to the end of its line
            out.append(m.group(1))
        pos = m.end()
    return out


def _message(tokens: list[str], pos: int, where: str, top: bool = False) -> tuple[dict[str, list[Any]], int]:
    out: dict[str, list[Any]] = {}
    while pos < len(tokens) and tokens[pos] != "}":
        name = tokens[pos]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise UserError(f"{where}: expected a field name, got {name!r}: fix the file")
        pos += 1
        if pos < len(tokens) and tokens[pos] == ":":
            pos += 1
        if pos >= len(tokens):
            raise UserError(f"{where}: field {name} has no value: fix the file")
        values, pos = _values(tokens, pos, where)
        out.setdefault(name, []).extend(values)
        if pos < len(tokens) and tokens[pos] == ",":
            pos += 1
    if not top:
        if pos >= len(tokens):
            raise UserError(f"{where}: a '{{' is never closed: fix the file")
        pos += 1  # the closing brace
    return out, pos


def _values(tokens: list[str], pos: int, where: str) -> tuple[list[Any], int]:
    tok = tokens[pos]
    if tok == "{":
        msg, pos = _message(tokens, pos + 1, where)
        return [msg], pos
    if tok == "[":
        items: list[Any] = []
        pos += 1
        while pos < len(tokens) and tokens[pos] != "]":
            vals, pos = _values(tokens, pos, where)
            items += vals
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
        if pos >= len(tokens):
            raise UserError(f"{where}: a '[' is never closed: fix the file")
        return items, pos + 1
    return [_scalar(tok)], pos + 1


def _scalar(tok: str) -> Any:  # noqa: ANN401 - str, int or float
    if tok.startswith('"'):
        return re.sub(r"\\(.)", r"\1", tok[1:-1])
    for kind in (int, float):
        try:
            return kind(tok)
        except ValueError:
            pass
    return tok  # an enum word such as TYPE_UINT8 or KIND_GPU


def first(msg: dict[str, list[Any]], key: str, default: Any = None) -> Any:  # noqa: ANN401
    values = msg.get(key, [])
    return values[0] if values else default


def read_model_config(text: str, where: str) -> ModelConfig:
    """The parts of a config.pbtxt that this project writes, back as a ModelConfig (the server uses it)."""
    msg = parse(text, where)
    back = {v: k for k, v in TRITON_TYPES.items()}

    def tensors(key: str) -> tuple[Tensor, ...]:
        out = []
        for t in msg.get(key, []):
            dtype = first(t, "data_type")
            if dtype not in back:
                raise UserError(f"{where}: {key} {first(t, 'name')} has data_type {dtype}: use one of {list(back)}")
            out.append(Tensor(str(first(t, "name")), back[dtype], tuple(int(d) for d in t.get("dims", []))))
        return tuple(out)

    name = first(msg, "name")
    if not isinstance(name, str) or not name:
        raise UserError(f'{where}: no model name: write `name: "..."` at the top')
    batching = first(msg, "dynamic_batching", None)
    group = first(msg, "instance_group", {})
    return ModelConfig(
        name=name,
        inputs=tensors("input"),
        outputs=tensors("output"),
        max_batch_size=int(first(msg, "max_batch_size", 0)),
        queue_delay_us=int(first(batching, "max_queue_delay_microseconds", 0)) if batching is not None else 0,
        preferred_batch_sizes=tuple(int(b) for b in (batching or {}).get("preferred_batch_size", [])),
        instances=int(first(group, "count", 1)),
        device="gpu" if first(group, "kind", "KIND_GPU") == "KIND_GPU" else "cpu",
    )
