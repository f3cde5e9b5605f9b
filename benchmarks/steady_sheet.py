"""A sheet of far-field steadiness (issue 14) on one embedded session: what the model answers and what the screen
shows, state by state, with the change from the previous state beside each.

Rows: the sketch at the end of each stroke | the model's answer | the screen (core/steady, in the session's own
timing) | |Δ answer| | |Δ screen| (×3, white = a large change). The same replay `run.py quality` measures.

    python benchmarks/steady_sheet.py --out benchmarks/steady-sheet.png [--session face_02] [--first 8 --count 12]
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from installation.core.errors import UserError  # noqa: E402

MODEL = ROOT / "installation" / "assets" / "models" / "pix2pix_default.onnx"
TILE = 160


def sheet(model_path: Path, session: str, first: int, count: int, settle_s: float | None) -> np.ndarray:
    """(H, W, 3) BGR: five rows of `count` tiles from state `first` of the embedded session `session`."""
    from installation.core.config import DisplayConfig
    from installation.core.steady import from_display
    from installation.runtime.inference import RuntimeSettings, open_model
    from installation.verbs.quality import session_sequences, shown_sequence

    seqs = {s.name: s for s in session_sequences(256)}
    if session not in seqs:
        raise UserError(f"--session {session!r} is not an embedded session (there are: {', '.join(sorted(seqs))})")
    seq = seqs[session]
    model = open_model(model_path, None, RuntimeSettings(providers=("cpu",), intra_op_threads=1))
    s = from_display(DisplayConfig(), settle_s)
    answers = [model.run(sk) for sk in seq.sketches]
    shown = shown_sequence(seq, answers, s)
    ks = list(range(max(1, first), min(len(seq.sketches), first + count)))
    if not ks:
        raise UserError(f"--first {first}: the session has {len(seq.sketches)} states")

    def diff(imgs: list[np.ndarray], k: int) -> np.ndarray:
        d_ = np.abs(imgs[k].astype(np.int16) - imgs[k - 1].astype(np.int16)).mean(axis=2)  # (S, S)
        return np.repeat(np.clip(d_ * 3, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)

    rows = [
        [np.repeat(seq.sketches[k][:, :, None], 3, axis=2) for k in ks],
        [answers[k] for k in ks],
        [shown[k] for k in ks],
        [diff(answers, k) for k in ks],
        [diff(shown, k) for k in ks],
    ]
    out = np.concatenate([np.concatenate([cv2.resize(t, (TILE, TILE)) for t in r], axis=1) for r in rows], axis=0)
    return out[:, :, ::-1]  # RGB → BGR for cv2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="PNG to write")
    ap.add_argument("--model", type=Path, default=MODEL, help="pix2pix ONNX file (default: the shipped CPU tier)")
    ap.add_argument("--session", default="face_02", help="embedded session name (installation/assets/sessions)")
    ap.add_argument("--first", type=int, default=8, help="first state (stroke) shown")
    ap.add_argument("--count", type=int, default=12, help="states shown")
    ap.add_argument("--steady-s", type=float, help="glide time constant (default: the show's display.steady_s)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        if not args.model.is_file():
            raise UserError(f"--model {args.model} does not exist")
        img = sheet(args.model, args.session, args.first, args.count, args.steady_s)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), img)
    print(f"steadiness sheet {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
