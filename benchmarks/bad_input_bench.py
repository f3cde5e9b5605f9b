"""Unbounded work from small inputs, before and after the bounds (issue 15, item 5), through the real CLI.

    python benchmarks/bad_input_bench.py --json benchmarks/bad-input-cpu-2core.json

- CLIP tokenising 10,000 random letters: the textbook BPE loop (what ran before) vs the heap BPE, in process;
  `run.py clip-score` with such a prompt (refused with one line).
- `run.py plot` of a PNG of 30,000 × 30,000 pixels that is under 1 MB on disk: wall time and the child's peak RSS,
  against decoding the same file with cv2.imread (what plot did before) in a child process.
- `run.py plot` of SVGs: 3 KB of nested <use> (a billion shapes if expanded), 300,000 subpaths in 3 MB, and a
  drawing of 20,000 subpaths (the limit: read and plotted).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import string
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from installation.core.clip_tokens import load_tokenizer, merge_pieces  # noqa: E402
from tests.tools.bpe_reference import textbook  # noqa: E402

HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">'


def child(cmd: list[str], timeout: float = 600) -> dict[str, object]:
    """Run one command; its wall time, exit code, last stderr line and peak RSS (this child alone)."""
    script = (
        "import resource, subprocess, sys, json, time; t = time.perf_counter(); "
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(json.dumps({'rc': r.returncode, 's': time.perf_counter() - t, "
        "'err': (r.stderr.strip().splitlines() or [''])[-1][:300], "
        "'rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))"
    )
    out = subprocess.run([sys.executable, "-c", script, *cmd], capture_output=True, text=True, timeout=timeout)
    r = json.loads(out.stdout)
    return {"exit": r["rc"], "seconds": round(r["s"], 3), "peak_rss_mb": round(r["rss_mb"], 1), "stderr_last": r["err"]}


def big_png(path: Path, side: int) -> None:
    """A grey PNG of side² zero pixels, compressed row by row (the file stays under 1 MB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    comp, parts, row = zlib.compressobj(9), [], b"\0" * (side + 1)  # filter byte + pixels
    for _ in range(side):
        parts.append(comp.compress(row))
    parts.append(comp.flush())
    ihdr = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")
    )


def tokeniser() -> dict[str, object]:
    tok = load_tokenizer()
    rng = random.Random(0)
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(10_000))
    pieces = [*word[:-1], word[-1] + "</w>"]
    t0 = time.perf_counter()
    old = textbook(list(pieces), tok.ranks)
    t1 = time.perf_counter()
    new = merge_pieces(list(pieces), tok.ranks)
    t2 = time.perf_counter()
    long_word = "".join(rng.choice(string.ascii_lowercase) for _ in range(100_000))
    merge_pieces([*long_word[:-1], long_word[-1] + "</w>"], tok.ranks)
    t3 = time.perf_counter()
    return {
        "letters": 10_000,
        "textbook_s": round(t1 - t0, 3),
        "heap_s": round(t2 - t1, 4),
        "same_pieces": old == new,
        "heap_100k_letters_s": round(t3 - t2, 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    run = [sys.executable, str(ROOT / "run.py")]
    out: dict[str, object] = {"machine": {"python": platform.python_version(), "cpu": platform.processor()}}
    out["tokeniser"] = tokeniser()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        prompt = "".join(random.Random(1).choice(string.ascii_lowercase) for _ in range(10_000))
        out["clip_score_10k_letters"] = child(
            [*run, "clip-score", "--image", str(ROOT / "docs/screenshot.png"), "--prompts", prompt, "--json",
             str(tmp / "s.json")]
        )  # fmt: skip
        png = tmp / "huge.png"
        big_png(png, 30_000)
        out["png_30000x30000"] = {
            "file_bytes": png.stat().st_size,
            "plot": child([*run, "plot", str(png), "--svg", str(tmp / "o.svg")]),
            "cv2_imread_before": child(
                [sys.executable, "-c", f"import cv2; im = cv2.imread({str(png)!r}, cv2.IMREAD_COLOR); print(im.shape)"]
            ),
        }
        svgs = {
            "svg_nested_use_1e9_shapes": HEAD
            + '<defs><g id="g0"><path d="M0 0L1 1" stroke="black"/></g>'
            + "".join(
                f'<g id="g{i}">' + "".join(f'<use xlink:href="#g{i - 1}" x="{j}"/>' for j in range(10)) + "</g>"
                for i in range(1, 10)
            )
            + '</defs><use xlink:href="#g9"/></svg>',
            "svg_300000_subpaths": HEAD
            + '<path d="'
            + " ".join(f"M{i % 100} {i // 100 % 100}l1 1" for i in range(300_000))
            + '" stroke="black"/></svg>',
            "svg_20000_subpaths_plotted": HEAD
            + '<path d="'
            + " ".join(f"M{i % 100} {i // 100 % 100}l1 1" for i in range(20_000))
            + '" stroke="black"/></svg>',
        }
        for name, text in svgs.items():
            path = tmp / f"{name}.svg"
            path.write_text(text)
            out[name] = {
                "file_bytes": path.stat().st_size,
                **child([*run, "plot", str(path), "--svg", str(tmp / "o.svg")]),
            }
    out["note"] = "exit 2 = refused with one line; peak_rss_mb is the child's own maximum resident set"
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
