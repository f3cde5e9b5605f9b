"""`run.py export`: the exporter of models/export.py, guarded so the shipped models are not replaced by accident.

The encoders and generator in installation/assets/models are what the show runs and what the model cards
describe; an export whose --out would overwrite one of them is refused with one line unless --force is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from installation.core.errors import UserError
from installation.verbs.common import repo_path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "installation" / "assets" / "models"
CLIP_FILES = ("clip_image.onnx", "clip_text.onnx", "clip.parity.json")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from models.export import add_arguments as exporter_arguments

    exporter_arguments(p)
    p.add_argument("--force", action="store_true", help="allow replacing the shipped models in " + repo_path(SHIPPED))
    from installation.verbs.triton_export import add_repo_arguments

    add_repo_arguments(p)  # --triton-repo DIR: no checkpoint needed, the ONNX files are the input


def targets(args: argparse.Namespace) -> list[Path]:
    """The files this export will write."""
    out = Path(args.out)
    if args.kind == "clip":
        return [out / name for name in CLIP_FILES]
    files = [out, out.with_suffix(".parity.json")]
    return files + ([out.with_suffix(".fp16.onnx")] if args.fp16 else [])


def refuse_shipped(files: list[Path], example: str) -> None:
    shipped = [f for f in files if f.exists() and f.resolve().is_relative_to(SHIPPED.resolve())]
    if shipped:
        names = ", ".join(f.name for f in shipped)
        raise UserError(
            f"export would overwrite the shipped {names} in {repo_path(SHIPPED)}: write to a run folder "
            f"(e.g. --out {example}), or add --force to replace the shipped models"
        )


def main(args: argparse.Namespace) -> int:
    if getattr(args, "triton_repo", None) is not None:
        from installation.verbs.triton_export import main as repo_main

        return repo_main(args)
    if getattr(args, "checkpoint", "") is None or getattr(args, "out", "") is None:  # no longer argparse-required
        raise UserError("run.py export needs --checkpoint CKPT and --out FILE.onnx (or --triton-repo DIR)")
    if not args.force:
        refuse_shipped(targets(args), "runs/clip/onnx" if args.kind == "clip" else "runs/mine/model.onnx")
    from models.export import main as export_main

    return export_main(args)
