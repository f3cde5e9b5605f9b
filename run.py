#!/usr/bin/env python3
"""Entry point: parse the verb and its arguments, then hand over to the module that owns the verb.

Each verb module exposes `add_arguments(parser)` and `main(args) -> int`. A user's mistake raises
`UserError`, printed here as one line with exit status 2; nothing else is done in this file.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

STARTED = time.time()  # the zero of metrics.json's first_frame_s (installation/runtime/started.py)

# verb -> (module, one-line help). The default verb is "live".
VERBS: dict[str, tuple[str, str]] = {
    "live": ("installation.verbs.live", "run the installation from the config (the default)"),
    "demo": ("installation.verbs.demo", "replay the embedded sessions through the real pipeline"),
    "sitter": ("installation.verbs.sitter", "sitter mode: the robot draws the person at the camera"),
    "duet": ("installation.verbs.duet", "duet mode: the artist and the robot take turns on one sheet"),
    "record": ("installation.verbs.record", "record a drawing session to a JSON Lines file"),
    "build-data": ("models.data.build", "build a paired sketch/target data set"),
    "train": ("models.pix2pix.train", "train the pix2pix generator"),
    "quality": ("installation.verbs.quality", "models side by side: L1, SSIM, sharpness, lattice, flicker, cost"),
    "train-clip": ("models.clip.train", "train the small CLIP (drawings + captions)"),
    "clip-eval": ("models.clip.evaluate", "held-out zero-shot retrieval of a CLIP; JSON + sheet"),
    "clip-score": ("installation.verbs.clip_score", "cosine similarity of an image with each prompt; JSON"),
    "export": ("installation.verbs.export", "export a checkpoint to ONNX with a parity check"),
    "quantize": ("installation.verbs.quantize", "an int8 copy of an exported model, checked against fp32"),
    "bench": ("installation.verbs.bench", "benchmark models and the live loop; writes JSON"),
    "plot": ("installation.verbs.plot", "turn an image, SVG or session into ordered plotter paths (SVG + JSON)"),
    "serve": ("installation.verbs.serve", "serve the models to the gallery's stations: Triton via PyTriton"),
    "bridge": ("installation.bridges.cli", "run a robot bridge: the simulator, GRBL over serial, or AxiDraw"),
    "calibrate": (
        "calibration.cli",
        "calibrate a venue: camera lens, paper under the camera, tablet surface, plotter registration, "
        "marker sheet, accuracy",
    ),
    "steer": ("models.steer.cli", "steer a generator (strokes, portrait, pixels) towards a text prompt with CLIP"),
    "soak": (
        "installation.verbs.soak",
        "headless soak: fast replays for a long time; crashes, memory, archive",
    ),
    "archive": ("installation.verbs.archive", "list archived works, show one, make a contact sheet"),
    "osc-docs": ("installation.core.osc_protocol", "write docs/osc.md from the OSC address table"),
}


def build_parser(verb: str) -> argparse.ArgumentParser:
    """A parser for one verb; only that verb's module is imported (torch stays unloaded for `live`)."""
    module, help_text = VERBS[verb]
    parser = argparse.ArgumentParser(prog=f"run.py {verb}", description=help_text)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    importlib.import_module(module).add_arguments(parser)
    parser.set_defaults(_module=module)
    return parser


def usage() -> str:
    lines = ["usage: run.py [VERB] [options]   (VERB defaults to live; run.py VERB -h for its options)", ""]
    lines += [f"  {verb:<12} {help_text}" for verb, (_, help_text) in VERBS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the process's own command line: the interpreter started just now
        from installation.runtime import started

        started.note(STARTED)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    verb = "live"
    if argv and not argv[0].startswith("-"):
        verb = argv.pop(0)
        if verb not in VERBS:
            print(f"error: unknown verb {verb!r}; choose one of: {', '.join(VERBS)}", file=sys.stderr)
            return 2
    try:
        args = build_parser(verb).parse_args(argv)
        from installation.core.errors import UserError
        from installation.runtime.logs import setup_console

        setup_console(args.verbose)  # repeated lines are rate-limited
        try:
            return int(importlib.import_module(args._module).main(args) or 0)
        except UserError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in OWN_PACKAGES:
            raise  # our own code is broken: that is a bug, with its traceback
        print(missing_package(e.name or "?"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


OWN_PACKAGES = ("installation", "models", "calibration", "benchmarks", "tests")


def missing_package(name: str) -> str:
    """One line for a dependency this interpreter lacks (usually: not the project's .venv)."""
    return (
        f"error: the Python package {name!r} is not installed for {sys.executable}: run `bash scripts/setup.sh`, "
        "then `.venv/bin/python run.py ...` (optional extras: see the README's requirements files)"
    )


if __name__ == "__main__":
    sys.exit(main())
