"""A venue's calibration profile: one JSON file, schema-versioned, validated on load, written atomically.

{"schema": 1, "venue": "...", "updated": "...",
 "camera":  {"camera_matrix": 3×3, "dist_coeffs": [...], "image_size": [w, h], "rms": px},
 "paper":   {"paper_mm": [w, h], "markers": true, "threshold": 0.5},
 "tablet":  {"area": [x0, y0, x1, y1], "rotation": 0, "margin": 0.0, "aspect": 1.6},
 "plotter": {"matrix": 3×3 paper mm → plotter mm, "kind": "affine", "residual_mm": ..., "max_residual_mm": ...,
             "points": [[paper x, y, plotter x, y], ...], "paper_mm": [w, h], "margin_mm": 15}}

Every section is optional: a venue calibrates what it has. Each `run.py calibrate STEP --profile FILE` replaces
its own section and keeps the others. Unknown keys, a newer schema, or wrong types are errors naming the key.
"""

from __future__ import annotations

import json
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.errors import UserError
from installation.core.files import write_text_atomic
from installation.core.registration import Registration, TabletMapping

SCHEMA = 1
MAX_FILE_BYTES = 1_000_000  # a profile is a few kB
MAX_MM = 100_000.0  # no paper or plotter bed is 100 m across
MAX_INT = 1_000_000  # image sizes, rotations: far below this


@dataclass(frozen=True)
class CameraSection:
    camera_matrix: list[list[float]]
    dist_coeffs: list[float]
    image_size: list[int]
    rms: float


@dataclass(frozen=True)
class PaperSection:
    paper_mm: list[float]
    markers: bool = True
    threshold: float = 0.5


@dataclass(frozen=True)
class TabletSection:
    area: list[float] = field(default_factory=lambda: [0.0, 0.0, 1.0, 1.0])
    rotation: int = 0
    margin: float = 0.0
    aspect: float = 1.6

    def mapping(self) -> TabletMapping:
        return TabletMapping(
            (self.area[0], self.area[1], self.area[2], self.area[3]), self.rotation, self.margin, self.aspect
        )


@dataclass(frozen=True)
class PlotterSection:
    matrix: list[list[float]]
    kind: str
    residual_mm: float
    max_residual_mm: float
    points: list[list[float]]  # [paper x, paper y, plotter x, plotter y] in mm, as measured
    paper_mm: list[float]
    margin_mm: float = 15.0

    def registration(self, canvas: int) -> Registration:
        """Canvas pixels → plotter mm: the square canvas into the paper minus margins (as the uncalibrated
        plotter path places it), then the paper → plotter transform that was measured."""
        from installation.core.plotpaths import PaperMapping

        fit = PaperMapping(canvas, (self.paper_mm[0], self.paper_mm[1]), self.margin_mm)
        (ox, oy), k = fit.offset(), fit.scale
        m = np.array(self.matrix) @ np.array([[k, 0, ox], [0, k, oy], [0, 0, 1.0]])
        return Registration(
            tuple(tuple(float(v) for v in r) for r in m), self.kind, self.residual_mm, self.max_residual_mm
        )


SECTIONS: dict[str, type] = {
    "camera": CameraSection,
    "paper": PaperSection,
    "tablet": TabletSection,
    "plotter": PlotterSection,
}


@dataclass(frozen=True)
class Profile:
    venue: str = ""
    updated: str = ""
    camera: CameraSection | None = None
    paper: PaperSection | None = None
    tablet: TabletSection | None = None
    plotter: PlotterSection | None = None
    schema: int = SCHEMA

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": self.schema, "venue": self.venue, "updated": self.updated}
        for name in SECTIONS:
            sec = getattr(self, name)
            if sec is not None:
                out[name] = asdict(sec)
        return out

    def replace(self, **sections: Any) -> Profile:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(sections)
        data["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
        return Profile(**data)


def load_profile(path: Path) -> Profile:
    """Read and validate; a missing file is an error (use `load_or_new` to start one)."""
    try:
        if Path(path).stat().st_size > MAX_FILE_BYTES:
            raise UserError(f"calibration profile {path} is over {MAX_FILE_BYTES:,} bytes: not a profile")
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"calibration profile {path} does not exist: run `run.py calibrate ... --profile {path}`"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"calibration profile {path} cannot be read ({e}): check the path and permissions") from None
    except json.JSONDecodeError as e:
        raise UserError(
            f"calibration profile {path} is not valid JSON (line {e.lineno}): fix it or re-run calibrate"
        ) from None
    except (RecursionError, ValueError):  # nested thousands deep, or an integer of thousands of digits
        raise UserError(f"calibration profile {path} is too deep or too long for a profile: re-run calibrate") from None
    return parse_profile(data, str(path))


def load_or_new(path: Path) -> Profile:
    return load_profile(path) if Path(path).exists() else Profile()


def parse_profile(data: Any, where: str = "profile") -> Profile:
    if not isinstance(data, dict):
        raise UserError(f"{where}: a calibration profile is a JSON object")
    schema = data.get("schema")
    if schema != SCHEMA:
        raise UserError(f"{where}: schema {schema!r} is not {SCHEMA}: re-run the calibration with this version")
    unknown = set(data) - {"schema", "venue", "updated", *SECTIONS}
    if unknown:
        raise UserError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (known: schema, venue, updated, {', '.join(SECTIONS)})"
        )
    kwargs: dict[str, Any] = {"venue": _typed(data.get("venue", ""), str, f"{where}: venue")}
    kwargs["updated"] = _typed(data.get("updated", ""), str, f"{where}: updated")
    for name, cls in SECTIONS.items():
        if name in data:
            kwargs[name] = _section(cls, data[name], f"{where}: {name}")
    profile = Profile(**kwargs)
    _check(profile, where)
    return profile


def _section(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise UserError(f"{where} must be an object")
    names = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(names)
    if unknown:
        raise UserError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(names)})")
    missing = [n for n, f in names.items() if n not in data and _required(f)]
    if missing:
        raise UserError(f"{where}: missing key {missing[0]!r}: re-run that calibration step")
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        _typed_value(value, hints[key], f"{where}.{key}")
    return cls(**data)


def _typed_value(value: Any, kind: Any, where: str, inside: bool = False) -> None:
    """`value` has the section field's type: numbers finite (and no bools for numbers), lists of such."""
    what = {float: "finite numbers", int: "whole numbers"}.get(kind, f"{getattr(kind, '__name__', kind)} values")
    single = {float: "a finite number", int: "a whole number"}.get(kind, f"a {getattr(kind, '__name__', kind)}")
    wrong = f"{where} must {'hold ' + what if inside else 'be ' + single}, got {_short(value)}: re-run that step"
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        if not isinstance(value, list) or len(value) > 64:
            raise UserError(f"{where} must be a list (of at most 64 items), got {_short(value)}: re-run that step")
        for v in value:
            _typed_value(v, item, where, inside=True)
    elif kind is float:
        if not (isinstance(value, int | float) and not isinstance(value, bool) and abs(value) <= 1e12):  # NaN too
            raise UserError(wrong)
    elif kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) > MAX_INT:
            raise UserError(wrong)
    elif not isinstance(value, kind):
        raise UserError(wrong)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _required(f: Any) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def _typed(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind):
        raise UserError(f"{where} must be a {kind.__name__}")
    return value


def _check(p: Profile, where: str) -> None:
    def matrix(m: Any, rows: int, cols: int, key: str) -> None:
        ok = isinstance(m, list) and len(m) == rows and all(isinstance(r, list) and len(r) == cols for r in m)
        if not ok or not all(isinstance(v, (int, float)) for r in m for v in r):
            raise UserError(f"{where}: {key} must be a {rows}×{cols} list of numbers")

    def numbers(v: Any, n: int, key: str) -> None:
        if not (isinstance(v, list) and len(v) == n and all(isinstance(x, (int, float)) for x in v)):
            raise UserError(f"{where}: {key} must be a list of {n} numbers")

    def paper(v: list[float], key: str) -> None:
        numbers(v, 2, key)
        if not all(0 < x <= MAX_MM for x in v):
            raise UserError(f"{where}: {key} must be two positive sizes in mm, got {v}")

    if p.camera is not None:
        matrix(p.camera.camera_matrix, 3, 3, "camera.camera_matrix")
        numbers(p.camera.image_size, 2, "camera.image_size")
        if not (isinstance(p.camera.dist_coeffs, list) and len(p.camera.dist_coeffs) in (4, 5, 8, 12, 14)):
            raise UserError(f"{where}: camera.dist_coeffs must be a list of 4, 5, 8, 12 or 14 numbers")
        k = p.camera.camera_matrix
        if not (k[0][0] > 0 and k[1][1] > 0 and k[2] == [0, 0, 1]):
            raise UserError(f"{where}: camera.camera_matrix must have positive focal lengths and [0, 0, 1] below")
        if not all(0 < v <= 100_000 for v in p.camera.image_size) or p.camera.rms < 0:
            raise UserError(f"{where}: camera.image_size must be positive pixels and camera.rms zero or positive")
    if p.paper is not None:
        paper(p.paper.paper_mm, "paper.paper_mm")
        if not 0 < p.paper.threshold < 1:
            raise UserError(f"{where}: paper.threshold must be between 0 and 1")
    if p.tablet is not None:
        numbers(p.tablet.area, 4, "tablet.area")
        try:
            p.tablet.mapping()  # range checks with their own messages
        except UserError as e:
            raise UserError(f"{where}: {e}") from None
    if p.plotter is not None:
        matrix(p.plotter.matrix, 3, 3, "plotter.matrix")
        paper(p.plotter.paper_mm, "plotter.paper_mm")
        if p.plotter.kind not in ("affine", "homography"):
            raise UserError(f"{where}: plotter.kind must be affine or homography")
        if not 0 <= p.plotter.margin_mm < min(p.plotter.paper_mm) / 2:
            raise UserError(f"{where}: plotter.margin_mm must be zero or more and under half the paper's width")
        if p.plotter.residual_mm < 0 or p.plotter.max_residual_mm < 0:
            raise UserError(f"{where}: plotter.residual_mm and max_residual_mm must be zero or positive")
        if not all(len(pt) == 4 for pt in p.plotter.points):
            raise UserError(f"{where}: plotter.points must be [paper x, paper y, plotter x, plotter y] lists")
        _check_placement(p.plotter.matrix, p.plotter.paper_mm, where)


def _check_placement(m: list[list[float]], paper_mm: list[float], where: str) -> None:
    """The paper → plotter matrix must place the whole sheet somewhere real: every point of it at a finite
    place (no division by zero inside the sheet), unfolded, neither collapsed to a line nor blown up."""
    h = np.array(m, float)
    w, ht = paper_mm
    corners = np.array([[0.0, 0.0, 1.0], [w, 0.0, 1.0], [w, ht, 1.0], [0.0, ht, 1.0]])
    hom = corners @ h.T
    den = hom[:, 2]
    # the denominator is affine in (x, y): one sign, well away from zero, at the corners means inside too
    if not (np.all(den > 0) or np.all(den < 0)) or np.abs(den).min() < 1e-3 * np.abs(den).max():
        raise UserError(
            f"{where}: plotter.matrix sends part of the paper to infinity (singular or NaN homography): "
            "re-run `run.py calibrate plotter`"
        )
    q = hom[:, :2] / den[:, None]
    if not np.isfinite(q).all() or np.abs(q).max() > MAX_MM:
        raise UserError(f"{where}: plotter.matrix places the paper beyond ±{MAX_MM:g} mm: re-run calibrate plotter")
    edges = np.roll(q, -1, axis=0) - q
    turns = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    area = abs(float(np.sum(q[:, 0] * np.roll(q[:, 1], -1) - np.roll(q[:, 0], -1) * q[:, 1]))) / 2
    folded = not (np.all(turns > 0) or np.all(turns < 0))
    if folded or not 1e-4 <= area / (w * ht) <= 1e4:
        raise UserError(
            f"{where}: plotter.matrix collapses, folds or blows up the paper (area {area:.3g} mm² for a "
            f"{w:g}×{ht:g} mm sheet): re-run `run.py calibrate plotter`"
        )


def save_profile(path: Path, profile: Profile) -> None:
    """Write atomically: a temporary file in the same folder, fsync, then rename over the old profile."""
    data = profile.to_json()
    text = json.dumps(data, indent=2)  # serialised first: a bad value never touches the disk
    parse_profile(data, f"calibration profile {path}")  # and validated as a load would: never an unreadable file
    write_text_atomic(Path(path), text, "calibration profile")
