"""`run.py export`'s command line: one exporter per model family, chosen by --kind.

pix2pix (and any kind in EXPORTERS): models/pix2pix/export.py. --kind clip: the two CLIP encoders,
models/clip/export.py. What both share (metadata, the parity runner) is models/onnx_parity.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from models.pix2pix.export import EXPORTERS, FP16_TOLERANCE, export, parity_report_path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", type=Path, required=True, help="training checkpoint (.pt)")
    p.add_argument("--out", type=Path, required=True, help="ONNX file to write (FILE.parity.json goes beside it)")
    p.add_argument(
        "--kind", default="pix2pix", choices=sorted([*EXPORTERS, "clip"]), help="model kind (clip: --out is a folder)"
    )
    p.add_argument("--clip-arch", help="open_clip architecture of a --kind clip file (default: inferred)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset, 17 or newer")
    p.add_argument("--dynamic-batch", action="store_true", help="batch dimension left free")
    p.add_argument("--fp16", action="store_true", help="also write FILE.fp16.onnx when its parity is acceptable")
    p.add_argument("--fp16-tolerance", type=float, default=FP16_TOLERANCE, help="max |diff| allowed for fp16")
    p.add_argument("--parity-data", type=Path, help="data pack whose held-out sketches are used for parity")
    p.add_argument("--parity-count", type=int, default=8, help="number of parity sketches")
    p.add_argument("--tolerance", type=float, default=1e-3, help="max |diff| ONNX Runtime vs torch (fp32)")


def main(args: argparse.Namespace) -> int:
    if args.kind == "clip":
        return _main_clip(args)
    report = export(
        args.checkpoint,
        args.out,
        kind=args.kind,
        opset=args.opset,
        dynamic_batch=args.dynamic_batch,
        parity_data=args.parity_data,
        parity_count=args.parity_count,
        tolerance=args.tolerance,
        fp16=args.fp16,
        fp16_tolerance=args.fp16_tolerance,
    )
    p = report["parity"]
    print(
        f"wrote {args.out}: max |ONNX Runtime - torch| = {p['max_abs_diff']:.2e} (≤ {p['tolerance']:.0e}) "
        f"on {p['source']}"
    )
    if "fp16" in report:
        f = report["fp16"]
        print(f"wrote {f['file']}: fp16 max |diff| to torch fp32 = {f['max_abs_diff']:.2e} (≤ {f['tolerance']:.0e})")
    print(f"report: {parity_report_path(args.out)}")
    return 0


def _main_clip(args: argparse.Namespace) -> int:
    from models.clip.export import export_clip

    tol = args.tolerance if args.tolerance != 1e-3 else 1e-4  # embeddings are unit vectors: a tighter default
    report = export_clip(
        args.checkpoint, args.out, args.opset, tol, args.parity_data, args.parity_count, args.clip_arch
    )
    for name, p in report["files"].items():
        print(f"wrote {args.out / name}: max |ONNX Runtime - torch| = {p['max_abs_diff']:.2e} on {p['source']}")
    print(f"report: {args.out / 'clip.parity.json'}")
    return 0
