"""Live parameters: the config keys the running show takes over `/param NAME VALUE`, checked as the loader checks them.

A key is live when its field in installation/core/config.py carries `metadata=LIVE` (a string key may add
`"choices"`). `set_live` checks a value the way `load_config` checks the same key given as an override: its type
(an int is accepted for a float, a whole float for an int), finite, within `RANGES`, one of the choices; then the
whole new config goes through the loader's own checks once more. A string is read as an override's value is (TOML,
a bare word as a string), so `/param display.fps "30"` is `--set display.fps=30`. One addition for OSC rigs that
have no booleans: 0 and 1 are accepted for a boolean key. Nothing is changed in place: the answer is a new config.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from dataclasses import dataclass
from typing import Any

from installation.core import config as c
from installation.core.errors import UserError


@dataclass(frozen=True)
class LiveParam:
    name: str  # "section.key"
    kind: type  # float, int, bool or str
    lo: float | None = None  # the range in config.RANGES, for numbers
    hi: float | None = None
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        """`display.fps` (int 1..1000), for the docs and for an error naming the choices."""
        if self.choices:
            return f"{self.name} ({', '.join(self.choices)})"
        if self.lo is not None and self.hi is not None:
            return f"{self.name} ({self.kind.__name__} {self.lo:g}..{self.hi:g})"
        return f"{self.name} ({self.kind.__name__})"


def live_params() -> dict[str, LiveParam]:
    """Every live key, in the order of the config's sections and fields."""
    return dict(_live_params())


@functools.cache
def _live_params() -> tuple[tuple[str, LiveParam], ...]:
    out: dict[str, LiveParam] = {}
    for section in dataclasses.fields(c.AppConfig):
        cls = typing.get_type_hints(c.AppConfig)[section.name]
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if not f.metadata.get("live"):
                continue
            name = f"{section.name}.{f.name}"
            lo, hi = c.RANGES.get(name, (None, None))
            out[name] = LiveParam(name, hints[f.name], lo, hi, tuple(f.metadata.get("choices", ())))
    return tuple(out.items())


def set_live(cfg: c.AppConfig, name: str, value: Any) -> tuple[c.AppConfig, Any]:
    """(the config with `name` set to `value`, the value as stored); a UserError naming the key and why."""
    params = live_params()
    p = params.get(name)
    if p is None:
        listed = ", ".join(params)
        raise UserError(f"/param: {c._short(name)} is not a live parameter (live: {listed})")
    where = f"/param {name}"
    from_text = isinstance(value, str) and p.kind is not str
    if from_text:  # an override's text, read as the loader reads it (so "0" is no boolean there either)
        value = c.parse_value(value, where)
    if not from_text and p.kind is bool and type(value) is int and value in (0, 1):  # OSC rigs send 0 and 1
        value = bool(value)
    try:
        v = c._coerce(value, p.kind, name)
    except UserError:
        raise UserError(f"{where}: expected {p.kind.__name__}, got {c._short(value)}") from None
    if p.kind in (int, float) and p.lo is not None and p.hi is not None and not p.lo <= v <= p.hi:
        shown = f"{v:g}" if math.isfinite(v) else str(v)  # False for NaN too
        raise UserError(f"{where}: {shown} is not within {p.lo:g}..{p.hi:g}")
    if p.choices and v not in p.choices:
        raise UserError(f"{where}: {c._short(v)} is not one of {', '.join(p.choices)}")
    section, key = name.split(".")
    new = dataclasses.replace(cfg, **{section: dataclasses.replace(getattr(cfg, section), **{key: v})})
    try:  # the loader's own checks on the whole config (rules across keys, and anything added there later)
        c._check_finite(new)
        c._check_values(new)
        c._check_ranges(new)
    except UserError as e:
        raise UserError(f"{where}: {e}") from None
    return new, v
