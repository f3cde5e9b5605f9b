"""`run.py quality`: what a visitor sees, for several models side by side, in one run on the same inputs.

For each model (ONNX files, or checkpoints exported to a temporary ONNX file first), through the project's one
runtime on the CPU:
- held-out drawings of a data pack (its fixed validation split, deterministic sketches), all and people:
  L1 and SSIM against the target, sharpness (Laplacian energy of the answer over the target's);
- the lattice peak (period-2/4/8 lattice power over its ring) of every answer, held-out and hand-drawn;
- far-field flicker: mean |change| of the answer more than 20 px (at 256²) from the newest stroke between
  consecutive answers, over the embedded sessions (stroke by stroke) and over the validation drawings drawn
  stroke by stroke (the degraded hand strokes, in drawing order);
- cost per call (batch 1, p50/p95 ms) with the same thread count.
Writes a JSON report and a sheet: sketch | one column per model | target, faces first, then hand-drawn
session states (no target).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from installation.core import steady
from installation.core.errors import UserError
from installation.core.files import check_writable
from installation.core.steady import Steadiness
from models.data.dataset import to_tensor_rgb
from models.pix2pix.metrics import far_flicker, l1, lattice_peak, sharpness, ssim

log = logging.getLogger(__name__)
VAL_PACE_S = 1.0  # validation drawings have no clock: one state a second (a visitor's stroke or two)
FACE_WORDS = ("head", "face", "bust", "portrait", "smil", "man", "boy", "girl", "woman", "lady", "self")


@dataclass(frozen=True)
class Sequence:
    """A drawing growing stroke by stroke: sketches[k] holds the first k+1 strokes; ink[k] is stroke k alone."""

    name: str
    sketches: list[np.ndarray]  # (S, S) uint8
    ink: list[np.ndarray]  # (S, S) bool
    times: list[float]  # seconds from the start at which each state was reached (its stroke's pen-up)
    starts: list[float]  # when each state's stroke began (pen-down): the ink changes from starts[k] to times[k]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="data pack (.npz): its validation split is used")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a model to compare (.onnx, or a .pt checkpoint exported on the fly); repeat; the first is the baseline",
    )
    p.add_argument("--json", type=Path, required=True, help="report to write")
    p.add_argument("--sheet", type=Path, help="PNG sheet to write")
    p.add_argument("--limit", type=int, help="at most this many validation items (people are kept first)")
    p.add_argument("--flicker-drawings", type=int, default=40, help="validation drawings drawn stroke by stroke")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (cost per call)")
    p.add_argument("--cost-calls", type=int, default=60)
    p.add_argument("--rows", type=int, default=10, help="held-out rows on the sheet")
    p.add_argument(
        "--steady-s",
        type=float,
        help="far-field steadiness of the shown image in seconds (default: the show's display.steady_s; 0: off)",
    )
    p.add_argument(
        "--steady-hold-s",
        type=float,
        help="seconds the far field holds after the ink last changed (default: the show's display.steady_hold_s)",
    )


def parse_models(specs: list[str]) -> list[tuple[str, Path]]:
    out = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise UserError(f"--model {spec!r} must be NAME=PATH (an .onnx file or a .pt checkpoint)")
        p = Path(path)
        if not p.is_file():
            raise UserError(f"--model {name}: {p} does not exist")
        out.append((name, p))
    if not out:
        raise UserError("give at least one --model NAME=PATH (the first is the baseline)")
    return out


def main(args: argparse.Namespace) -> int:
    models = parse_models(args.model)
    if not Path(args.data).exists():  # a pack file, or a folder of its parts
        raise UserError(f"data pack {args.data} does not exist: build one with `python run.py build-data clipart`")
    check_writable(args.json, "--json")
    check_writable(args.sheet, "--sheet")
    report = run(models, args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    for row in report["models"]:
        log.info("%s", json.dumps(row))
    print(f"quality report {args.json}" + (f", sheet {args.sheet}" if args.sheet else ""))
    return 0


def run(models: list[tuple[str, Path]], args: argparse.Namespace) -> dict[str, Any]:
    from installation.runtime.inference import RuntimeSettings, open_model

    items, person = held_out(args.data, args.limit)
    seqs_val = val_sequences(args.data, args.flicker_drawings)
    seqs_sessions = session_sequences(256)
    settings = RuntimeSettings(providers=("cpu",), intra_op_threads=args.threads, warmup_runs=2)
    steadiness = _steadiness(args)
    rows, answers, opened = [], {}, []
    with tempfile.TemporaryDirectory(prefix="quality-") as tmp:
        for name, path in models:
            onnx_path = as_onnx(name, path, Path(tmp))
            model = open_model(onnx_path, None, settings)
            row, shown = evaluate(model, items, person, seqs_val, seqs_sessions, steadiness)
            rows.append({"name": name, "path": str(path), **row})
            answers[name] = shown
            opened.append(model)
            log.info("%s: %s", name, json.dumps(rows[-1]))
        # cost: the models take turns call by call, so a change in the machine's load hits all of them alike
        sketch = fitter(opened[0].input_size)(items[0][1])
        for row, cost in zip(rows, _costs(opened, sketch, args.cost_calls), strict=True):
            row.update(cost)
    base = rows[0]["cost_p50_ms"]
    for row in rows:
        row["cost_vs_baseline"] = round(row["cost_p50_ms"] / base, 3)
        row["flicker_vs_baseline"] = {
            k: round(row[k] / rows[0][k], 3) if rows[0][k] else None for k in ("flicker_sessions", "flicker_val")
        }
        # on screen with steadiness, against the baseline's answers shown as they are (today's screen)
        row["flicker_shown_vs_baseline"] = {
            k: round(row[f"{k}_shown"] / rows[0][k], 3) if rows[0][k] else None
            for k in ("flicker_sessions", "flicker_val")
        }
    targets = [lattice_peak(fitter(256)(t)) for *_, t in items]
    report: dict[str, Any] = {
        "data": str(args.data),
        "target_lattice_peak": {
            "median": round(float(np.median(targets)), 2),
            "p99": round(float(np.percentile(targets, 99)), 2),
            "max": round(float(np.max(targets)), 2),
        },
        "val_items": len(items),
        "val_people": int(sum(person)),
        "flicker_drawings": len(seqs_val),
        "flicker_sessions": len(seqs_sessions),
        "threads": args.threads,
        "steadiness": {
            "settle_s": steadiness.settle_s,
            "near_px": steadiness.near_px,
            "feather_px": steadiness.feather_px,
            "hold_s": steadiness.hold_s,
            "val_pace_s": VAL_PACE_S,
        },
        "models": rows,
        "machine": _machine(),
    }
    if args.sheet:
        write_sheet(args.sheet, items, person, seqs_sessions, answers, args.rows)
        report["sheet"] = str(args.sheet)
    return report


def _steadiness(args: argparse.Namespace) -> Steadiness:
    """The show's packaged far-field steadiness, or --steady-s (0: answers shown as they are)."""
    from installation.core.config import DisplayConfig

    if args.steady_s is not None and not 0 <= args.steady_s <= 60:
        raise UserError(f"--steady-s {args.steady_s} must be within 0..60 seconds")
    hold = args.steady_hold_s
    if hold is not None and not 0 <= hold <= 60:
        raise UserError(f"--steady-hold-s {hold} must be within 0..60 seconds")
    return steady.from_display(DisplayConfig(), args.steady_s, hold)


def as_onnx(name: str, path: Path, tmp: Path) -> Path:
    """The model as an ONNX file: itself, or a checkpoint exported into tmp (named by the model's name)."""
    if path.suffix == ".onnx":
        return path
    from models.pix2pix.export import export

    out = tmp / f"{zlib.crc32(name.encode()):08x}.onnx"
    export(path, out)
    return out


def held_out(data: Path, limit: int | None) -> tuple[list[tuple[str, np.ndarray, np.ndarray]], list[bool]]:
    """Every validation item (id, sketch, target) of the pack, people first, and which are people."""
    from models.data.dataset import rasterize_val_sketches
    from models.data.pack import Pack

    pack = Pack(Path(data))
    n = len(pack.indices("val"))
    items = rasterize_val_sketches(data, n if limit is None else min(n, limit))
    flags = {pack.ids[i]: bool(pack.person[i]) for i in range(len(pack))}
    return items, [flags[i] for i, _, _ in items]


def val_sequences(data: Path, n: int, size: int = 256, max_steps: int = 12) -> list[Sequence]:
    """Validation drawings drawn stroke by stroke (the hand's strokes in drawing order), people first."""
    from models.data.degrade import hand_strokes, render
    from models.data.pack import Pack

    pack = Pack(Path(data))
    val = sorted(pack.indices("val"), key=lambda i: (not pack.person[i], pack.ids[i]))
    out = []
    for i in val:
        if len(out) >= n:
            break
        lines = pack.outlines(i)
        if not lines:
            continue
        rng = np.random.default_rng([7, zlib.crc32(pack.ids[i].encode())])
        k_size = pack.target(i).shape[0]
        strokes = hand_strokes(lines, k_size, rng)
        if len(strokes) < 3:
            continue
        ks = np.unique(np.linspace(max(1, len(strokes) // 4), len(strokes), max_steps).round().astype(int))
        sketches, ink = [], []
        for k in ks:
            img = render(strokes[:k], k_size)
            newest = render(strokes[k - 1 : k], k_size) < 128
            if k_size != size:
                img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
                newest = cv2.resize(newest.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST) > 0
            sketches.append(img)
            ink.append(newest)
        # ink[k] must be what changed between sketches[k-1] and sketches[k]: with skipped steps, take the diff
        pairs = zip(sketches[:-1], sketches[1:], ink[1:], strict=True)
        ink = [ink[0]] + [((b < 128) & ~(a < 128)) | n_ for a, b, n_ in pairs]
        times = [VAL_PACE_S * k for k in range(len(sketches))]
        out.append(Sequence(pack.ids[i], sketches, ink, times, times))  # strokes with no duration
    return out


def session_sequences(size: int) -> list[Sequence]:
    """The embedded sessions, rasterised as the live canvas does, one state at the end of every stroke."""
    from installation.core.session import apply_event
    from models.pix2pix.export import session_canvases

    out = []
    for path, s, canvas in session_canvases(size):
        sketches, ink, times, starts, prev, down_t = [], [], [], [], canvas.raster(), 0.0
        for ev in s.events:
            apply_event(canvas, ev, 0.0)
            if ev.kind == "down":
                down_t = float(ev.t)
            if ev.kind == "up":
                now = canvas.raster()
                sketches.append(now)
                ink.append((now < 128) & ~(prev < 128))
                times.append(float(ev.t))
                starts.append(down_t)
                prev = now
        if len(sketches) >= 2:
            out.append(Sequence(path.stem, sketches, ink, times, starts))
    return out


def evaluate(  # noqa: PLR0913 - the inputs of one run
    model: Any,
    items: list[tuple[str, np.ndarray, np.ndarray]],
    person: list[bool],
    seqs_val: list[Sequence],
    seqs_sessions: list[Sequence],
    steadiness: Steadiness,
) -> tuple[dict[str, Any], dict[str, list[np.ndarray]]]:
    size = model.input_size
    fit = fitter(size)
    outs = [model.run(fit(sk)) for _, sk, _ in items]
    targets = [
        cv2.resize(t, (size, size), interpolation=cv2.INTER_AREA) if t.shape[0] != size else t for *_, t in items
    ]
    y = torch.stack([to_tensor_rgb(o) for o in outs])
    t = torch.stack([to_tensor_rgb(tt) for tt in targets])
    m = torch.tensor(person)
    sharp = np.array([sharpness(o, tt) for o, tt in zip(outs, targets, strict=True)])
    flick_sessions, session_answers, shown_sessions = _flicker(model, seqs_sessions, fit, steadiness)
    flick_val, _, shown_val = _flicker(model, seqs_val, fit, steadiness)
    lattice = np.array([lattice_peak(o) for o in outs] + [lattice_peak(a) for a in session_answers])
    held_out_lattice = lattice[: len(outs)]
    row: dict[str, Any] = {
        "model_name": model.name,
        "l1": round(l1(y, t), 4),
        "ssim": round(ssim(y, t), 4),
        "sharpness": round(float(sharp.mean()), 3),
        "people_l1": round(l1(y[m], t[m]), 4) if m.any() else None,
        "people_ssim": round(ssim(y[m], t[m]), 4) if m.any() else None,
        "people_sharpness": round(float(sharp[np.array(person)].mean()), 3) if any(person) else None,
        "lattice_peak_max": round(float(np.max(lattice)), 2),
        "lattice_peak_p99": round(float(np.percentile(lattice, 99)), 2),
        "lattice_peak_median": round(float(np.median(lattice)), 2),
        "lattice_peak_sessions_max": round(float(np.max(lattice[len(outs) :])), 2) if session_answers else None,
        "lattice_answers": len(lattice),
        # held-out answers with more lattice than 10× and than their own target (patterned clipart has some)
        "lattice_over_target_and_10": int(
            sum(p > max(10.0, lattice_peak(tt)) for p, tt in zip(held_out_lattice, targets, strict=True))
        ),
        "flicker_sessions": round(flick_sessions, 5),
        "flicker_val": round(flick_val, 5),
        # what the show puts on screen with its far-field steadiness (core/steady), in the sequences' own time
        "flicker_sessions_shown": round(shown_sessions["flicker"], 5),
        "flicker_val_shown": round(shown_val["flicker"], 5),
        "shown_lag_sessions": round(shown_sessions["lag"], 5),
        "shown_lag_val": round(shown_val["lag"], 5),
    }
    last_states = [fit(s.sketches[-1]) for s in seqs_sessions]
    return row, {"held_out": outs, "sessions": [model.run(s) for s in last_states]}


def fitter(size: int):  # noqa: ANN202
    """A function that resizes a square image to the model's input side (area), as the export's parity check does."""
    from models.pix2pix.export import _fit

    return functools.partial(_fit, size=size)


def _flicker(
    model: Any, seqs: list[Sequence], fit: Any, steadiness: Steadiness
) -> tuple[float, list[np.ndarray], dict[str, float]]:
    """Mean far-field change over every consecutive pair of answers in the sequences; all answers; and the same
    change of what the show puts on screen (steadied in the sequences' own time) with its lag behind the answer."""
    values, answers, shown_values, lags = [], [], [], []
    for seq in seqs:
        seq_answers = [model.run(fit(sketch)) for sketch in seq.sketches]
        shown = shown_sequence(seq, seq_answers, steadiness)
        answers += seq_answers
        values += _far_changes(seq_answers, seq.ink)
        shown_values += _far_changes(*_with_rest(seq, shown, seq_answers[-1], steadiness))
        lags += [
            float(np.abs(v.astype(np.float32) - a.astype(np.float32)).mean() / 255.0)
            for v, a in zip(shown, seq_answers, strict=True)
        ]
    on_screen = {
        "flicker": float(np.mean(shown_values)) if shown_values else 0.0,
        "lag": float(np.mean(lags)) if lags else 0.0,
    }
    return (float(np.mean(values)) if values else 0.0), answers, on_screen


def _with_rest(
    seq: Sequence, shown: list[np.ndarray], answer: np.ndarray, s: Steadiness
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The shown states and their inks, with steadiness on followed by the screen once the pen has rested (the
    last answer): the far-field change a held screen owes is counted once, far from the last stroke with ink."""
    inked = [i for i in seq.ink if i.any()]
    if not s.on or not inked:
        return shown, seq.ink
    return [*shown, answer], [*seq.ink, inked[-1]]


def _far_changes(images: list[np.ndarray], ink: list[np.ndarray]) -> list[float]:
    """far_flicker between each image and the next, far from the stroke added between them."""
    out = []
    for before, after, new in zip(images, images[1:], ink[1:], strict=False):
        v = far_flicker(before, after, _ink_at(new, after.shape[0]))
        if v is not None:
            out.append(v)
    return out


def _ink_at(ink: np.ndarray, side: int) -> np.ndarray:
    """An (S, S) bool ink mask at side × side."""
    return ink if ink.shape[0] == side else cv2.resize(ink.astype(np.uint8), (side, side)) > 0


def shown_sequence(seq: Sequence, answers: list[np.ndarray], s: Steadiness) -> list[np.ndarray]:
    """What the show puts on screen at each state of `seq`, given the model's answers: each answer taken at
    once near the ink that changed; the far field held while a stroke is drawn and for hold_s after the last
    one, gliding towards the previous answer in the rest of the pause (core/steady), as the inference worker
    does."""
    if not s.on:
        return list(answers)
    out: list[np.ndarray] = []
    shown: np.ndarray | None = None
    for k, (a, ink) in enumerate(zip(answers, seq.ink, strict=True)):
        if shown is not None:
            rested = steady.rested_s(seq.times[k - 1], seq.starts[k], seq.times[k - 1], s)
            shown = steady.glide(shown, answers[k - 1], rested, s)
        shown = steady.arrive(shown, a, steady.near_weight(_ink_at(ink, a.shape[0]), s))
        out.append(steady.to_uint8(shown))
    return out


def _costs(models: list[Any], sketch: np.ndarray, calls: int) -> list[dict[str, float]]:
    """p50/p95 ms per call of each model, the models interleaved call by call."""
    for m in models:
        for _ in range(3):
            m.run(sketch)
    ts: list[list[float]] = [[] for _ in models]
    for _ in range(calls):
        for k, m in enumerate(models):
            t0 = time.perf_counter()
            m.run(sketch)
            ts[k].append((time.perf_counter() - t0) * 1e3)
    return [
        {"cost_p50_ms": round(float(np.median(t)), 2), "cost_p95_ms": round(float(np.percentile(t, 95)), 2)} for t in ts
    ]


def write_sheet(
    path: Path,
    items: list[tuple[str, np.ndarray, np.ndarray]],
    person: list[bool],
    seqs_sessions: list[Sequence],
    answers: dict[str, dict[str, list[np.ndarray]]],
    n_rows: int,
) -> None:
    """sketch | each model | target; faces first, then the hand-drawn sessions' finished states."""
    from models.pix2pix.sheet import make_sheet

    names = list(answers)
    size = answers[names[0]]["held_out"][0].shape[0]
    fit = fitter(size)
    order = sorted(
        range(len(items)),
        key=lambda k: (not any(w in items[k][0].lower() for w in FACE_WORDS), not person[k], items[k][0]),
    )[:n_rows]
    blank = np.full((size, size, 3), 255, np.uint8)
    rows = [[fit(items[k][1]), *[answers[n]["held_out"][k] for n in names], fit(items[k][2])] for k in order]
    for j, seq in enumerate(seqs_sessions):
        rows.append([fit(seq.sketches[-1]), *[answers[n]["sessions"][j] for n in names], blank])
    labels = ["sketch", *names, "target"]
    cv2.imwrite(str(path), make_sheet(rows, labels)[:, :, ::-1])


def _machine() -> dict[str, Any]:
    import os

    from installation.verbs.bench import machine

    return {**machine(), "load": os.getloadavg()}  # the CPU's model name, as every bench record has it
