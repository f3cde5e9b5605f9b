"""The OSC control surface as data: one table of addresses, and pure functions to match, check and build messages.

Rigs (TouchDesigner, Max, Resolume) send single messages or bundles, ints where floats are meant and floats
where ints are meant, booleans as T/F or 0/1, and address patterns with wildcards. `interpret` turns one
received (address, args) into validated `Command`s or one `Rejection` with a reason; nothing here touches a
socket. `python run.py osc-docs` writes docs/osc.md from the table.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.core.live_params import live_params
from installation.core.osc_pattern import compile_pattern, has_wildcards, wildcard_count
from installation.core.osc_wire import MAX_DATAGRAM, MAX_DEPTH, MAX_MESSAGES

LAYOUT_CHOICES = ("side", "ai", "overlay")


@dataclass(frozen=True)
class Address:
    path: str
    types: str  # one letter per argument: s string, f float, i int, b boolean, a any; "" = no argument
    meaning: str
    choices: tuple[str, ...] = ()  # for a single string argument


CONTROL: tuple[Address, ...] = (
    Address(
        "/prompt",
        "s",
        "Set the prompt that steers the generators: text, or weighted parts 'a face:1 | scribble:-0.5' "
        "(a negative weight pushes away); retargets a running optimisation. A malformed prompt is refused.",
    ),
    Address(
        "/mode",
        "s",
        "Switch the input live: tablet (pen), replay (the session files), camera (paper under `input.camera`, "
        "opened beside the running input, which stays if it cannot open). The drawing is finished and cleared.",
        ("tablet", "replay", "camera"),
    ),
    Address("/layout", "s", "Screen layout.", LAYOUT_CHOICES),
    Address("/clear", "", "Clear the drawing."),
    Address("/save", "", "Save the sketch, the AI image and the strokes."),
    Address("/crossfade", "f", "Crossfade time in seconds for new AI images (0..10)."),
    Address(
        "/model", "s", "Image model: cpu, gpu (the tiers) or an .onnx name in model.path's folder; built, then swapped."
    ),
    Address(
        "/generator",
        "s",
        "What answers the drawing: pix2pix, or a CLIP-steered generator (key G cycles).",
        ("pix2pix", "strokes", "portrait", "pixels"),
    ),
    Address("/hud", "b", "Show (1/T) or hide (0/F) the HUD."),
    Address("/attract", "b", "Start (1) or stop (0) attract mode."),
    Address("/plotter/start", "", "Start plotting the current drawing: a new job (refused while one is running)."),
    Address("/plotter/pause", "", "Pause the plotter after the path in progress."),
    Address("/plotter/resume", "", "Resume a paused plot."),
    Address("/plotter/cancel", "", "Cancel the plot and lift the pen: the job ends; the next start is a new job."),
    Address(
        "/plotter/paper",
        "",
        "A fresh sheet is on the plotter (key N does the same): a job waiting for paper (plotter.new_sheet) begins.",
    ),
    Address(
        "/sitter/start",
        "",
        "Sitter mode: draw the sitter in view now (no countdown); after a result: next sitter.",
    ),
    Address("/sitter/abort", "", "Sitter mode: stop the portrait in progress, lift the pen and reset."),
    Address("/duet/turn", "", "Duet mode: give the AI its turn now (key T), without waiting for the artist's pause."),
    Address("/duet/skip", "", "Duet mode: end the AI's turn now (key K); strokes not yet drawn are cancelled."),
    Address("/duet/strokes", "i", "Duet mode: the most strokes the AI adds in one turn, 1..64 (keys + and -)."),
    Address("/duet/pause", "f", "Duet mode: seconds the artist's pen rests before the AI takes its turn, 0.05..600."),
    Address(
        "/param",
        "sa",
        "Set a live config key by name, e.g. /param display.crossfade_s 0.5, checked as the config loader checks it "
        "(a string is read as a `--set` value; 0/1 for a boolean). Live keys (marked in installation/core/config.py): "
        + ", ".join(p.describe() for p in live_params().values())
        + ". Anything else is refused on /state/error.",
    ),
    Address("/ping", "", "Answered with /pong on the state destinations."),
)

STATE: tuple[Address, ...] = (
    Address("/state/fps", "f", "Rendered frames per second."),
    Address("/state/latency_ms", "f", "Pen-to-photon latency of the newest AI image, ms."),
    Address("/state/mode", "s", "Input mode."),
    Address("/state/layout", "s", "Screen layout."),
    Address("/state/prompt", "s", "Current prompt."),
    Address("/state/model", "s", "Image model and the provider it runs on."),
    Address(
        "/state/model/backend",
        "s",
        "Who answers: local (ONNX Runtime here), triton (the server), or local-fallback (the server is gone).",
    ),
    Address("/state/model/round_trip_ms", "f", "p95 of the recent round trips to the Triton server, ms (0: local)."),
    Address(
        "/state/plotter/job", "s", "The plotter job (16 hex digits, new for every drawing), or empty before the first."
    ),
    Address(
        "/state/plotter/state",
        "s",
        "The plotter job: idle (none, or finished), drawing, paused, cancelled, waiting_for_paper (a fresh sheet is "
        "to be confirmed), lost (the robot does not answer, or is on another job).",
    ),
    Address(
        "/state/plotter/drawn", "i", "Paths of the job the robot has reported on paper (its acknowledgements only)."
    ),
    Address("/state/plotter/planned", "i", "Paths in the job."),
    Address(
        "/state/plotter/robots",
        "s",
        "With plotter.robots: every robot as `HOST:PORT state drawn/planned`, separated by `; ` (absent with one).",
    ),
    Address("/state/plotter/queue", "i", "Paths of the job not yet reported drawn."),
    Address("/state/plotter/progress", "f", "Fraction of the job the robot has reported drawn, 0..1."),
    Address("/state/sitter/state", "s", "Sitter mode: idle, detecting, capturing, sketching, drawing, done, aborted."),
    Address("/state/sitter/guidance", "s", "Sitter mode: the guidance line shown on screen."),
    Address(
        "/state/sitter/robots",
        "s",
        "Sitter mode with plotter.robots: every robot as `N STYLE outcome drawn/planned` (outcome: idle, drawing, "
        "done, given_up), separated by `; ` (absent with one).",
    ),
    Address("/state/duet/state", "s", "Duet mode: artist (the artist's turn), thinking or drawing (the AI's turn)."),
    Address("/state/duet/turn", "i", "Duet mode: AI turns so far (the current one included)."),
    Address("/state/duet/strokes_per_turn", "i", "Duet mode: the most strokes the AI adds in one turn."),
    Address("/state/duet/pause_s", "f", "Duet mode: the artist's pause that gives the AI its turn, seconds."),
    Address("/state/duet/ai_planned", "i", "Duet mode: strokes of the AI's newest turn."),
    Address("/state/duet/ai_drawn", "i", "Duet mode: of them, strokes the robot has acknowledged (shown on screen)."),
    Address(
        "/state/duet/latency_s",
        "f",
        "Duet mode: the newest turn's pause (or cue) → the robot's first AI stroke; -1: none yet.",
    ),
    Address("/state/clip/score", "f", "CLIP cosine similarity of the AI image with the prompt (0 with no prompt)."),
    Address("/state/error", "s", "The newest error of any source, or empty; an error made again is the newest again."),
    Address("/pong", "", "Answer to /ping."),
    Address("/error", "s", "Sent back to a sender whose message was refused: the address and the reason."),
)

_BY_PATH = {a.path: a for a in CONTROL}
MAX_ADDRESS = 256  # longer address patterns are refused before matching (matching is linear: this bounds work)
MAX_WILDCARDS = 16  # patterns with more wildcards are refused: no rig needs them


@dataclass(frozen=True)
class Command:
    address: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Rejection:
    address: str
    reason: str


def match(pattern: str) -> list[Address]:
    """The control addresses a (possibly wildcard) address pattern names (see osc_pattern: no backtracking)."""
    return list(_match(pattern))


@lru_cache(maxsize=1024)
def _match(pattern: str) -> tuple[Address, ...]:
    if pattern in _BY_PATH:
        return (_BY_PATH[pattern],)
    if not has_wildcards(pattern) or len(pattern) > MAX_ADDRESS or wildcard_count(pattern) > MAX_WILDCARDS:
        return ()
    compiled = compile_pattern(pattern)
    return tuple(a for a in CONTROL if compiled.matches(a.path))


def coerce(value: Any, kind: str) -> Any:
    """One argument to the kind the table asks for; raises ValueError with the reason."""
    if kind == "a":
        return value
    if kind == "s":
        if isinstance(value, str):
            return value
        raise ValueError(f"expected a string, got {type(value).__name__}")
    if kind == "f":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r}")
        return float(value)
    if kind == "i":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"expected an integer, got {value!r}")
    if kind == "b":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "on", "off"):
            return value.lower() in ("true", "on")
        raise ValueError(f"expected a boolean (T/F, 0/1), got {value!r}")
    raise ValueError(f"unknown argument kind {kind!r}")


def interpret(address: str, args: tuple[Any, ...] | list[Any]) -> list[Command] | Rejection:
    """Commands for one received message, or why it is refused."""
    if len(address) > MAX_ADDRESS or wildcard_count(address) > MAX_WILDCARDS:
        return Rejection(
            address[:64], f"address pattern longer than {MAX_ADDRESS} or with over {MAX_WILDCARDS} wildcards"
        )
    targets = match(address)
    if not targets:
        return Rejection(address, "unknown address (see docs/osc.md)")
    commands = []
    for a in targets:
        if len(args) != len(a.types):
            return Rejection(
                address, f"{a.path} takes {len(a.types)} argument(s) ({a.types or 'none'}), got {len(args)}"
            )
        try:
            values = tuple(coerce(v, k) for v, k in zip(args, a.types, strict=True))
        except ValueError as e:
            return Rejection(address, f"{a.path}: {e}")
        if a.choices and values[0] not in a.choices:
            return Rejection(address, f"{a.path}: {values[0]!r} is not one of {', '.join(a.choices)}")
        if a.path == "/crossfade" and not 0.0 <= values[0] <= 10.0:
            return Rejection(address, "/crossfade: seconds must be within 0..10")
        commands.append(Command(a.path, values))
    return commands


def build_message(address: str, args: tuple[Any, ...] | list[Any] = ()) -> bytes:
    b = OscMessageBuilder(address=address)
    for v in args:
        b.add_arg(v)
    return b.build().dgram


def state_bundle(state: dict[str, Any]) -> bytes:
    """One bundle of /state/... messages for the keys present in `state` (keys as in STATE without the prefix)."""
    bundle = OscBundleBuilder(IMMEDIATELY)
    kinds = {a.path: a.types for a in STATE}
    for key, value in state.items():
        path = f"/state/{key}"
        kind = kinds.get(path)
        if kind is None or value is None:
            continue
        b = OscMessageBuilder(address=path)
        b.add_arg(coerce(value, kind) if kind != "s" else str(value))
        bundle.add_content(b.build())  # type: ignore[arg-type]
    return bundle.build().dgram


def markdown() -> str:
    lines = [
        "# OSC address space",
        "",
        "Generated by `python run.py osc-docs` from `installation/core/osc_protocol.py`; do not edit by hand.",
        "",
        "Control in: UDP, port 9000 on 127.0.0.1 by default (config `[osc]`), only from allowlisted sources.",
        "Single messages and bundles (nested too) are accepted, bundle time tags are not waited for, address",
        "patterns with `* ? [] {}` are matched against the table, and a float is accepted where an int is",
        "meant when it is whole. A refused message is answered to its sender with `/error s`.",
        "Each source may send at most `osc.rate_limit_hz` datagrams a second (burst `osc.rate_burst`); more are",
        f"dropped and counted. Address patterns over {MAX_ADDRESS} characters or with over {MAX_WILDCARDS} wildcards",
        "are refused. Patterns are matched in time linear in the pattern and the address (no backtracking);",
        "`* ? []` never match `/`, and the strings in `{}` are compared literally.",
        "",
        "Limits on a datagram (each drop is counted in the health line, `osc.oversize` / `osc.malformed`):",
        "",
        f"- at most {MAX_DATAGRAM} bytes; a larger datagram is dropped unread (`oversize`);",
        f"- bundles nested at most {MAX_DEPTH} deep, arrays too; at most {MAX_MESSAGES} messages in one datagram;",
        "- each bundle element's size must be positive, a multiple of 4 and within what is left;",
        "- strings zero-terminated and UTF-8; type tags `i h f d s S c b r m t T F N [ ]` only.",
        "",
        "A datagram breaking any of these is dropped whole (`malformed`): nothing in it is obeyed.",
        "",
        "Argument kinds: `s` string, `f` float (ints accepted), `i` int (whole floats accepted),",
        "`b` boolean (T/F, 0/1, true/false), `a` any.",
        "",
        "## Control (in)",
        "",
        "| address | arguments | meaning |",
        "|---|---|---|",
    ]
    for a in CONTROL:
        extra = f" One of: {', '.join(a.choices)}." if a.choices else ""
        lines.append(f"| `{a.path}` | `{a.types or '-'}` | {a.meaning}{extra} |")
    lines += [
        "",
        "## State (out)",
        "",
        "Sent as one bundle per tick (at most `osc.state_hz` a second) to every `osc.state_out` destination.",
        "",
        "| address | arguments | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{a.path}` | `{a.types or '-'}` | {a.meaning} |" for a in STATE]
    from installation.core import robot_protocol

    lines += [
        "",
        "## Robot protocol (host ↔ plotter bridge)",
        "",
        "For someone building a robot: implement the"
        " robot side of this (the simulator in `installation/bridges/simulator.py` is a reference).",
        "",
        "```",
        (robot_protocol.__doc__ or "").strip(),
        "```",
    ]
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "docs" / "osc.md")


def main(args: argparse.Namespace) -> int:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown())
    print(f"wrote {args.out}")
    return 0
