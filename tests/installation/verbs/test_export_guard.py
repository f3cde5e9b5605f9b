import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from installation.core.errors import UserError
from installation.verbs import export as export_cli

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "installation" / "assets" / "models"


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.onnx"))}


def test_export_refuses_to_overwrite_the_shipped_encoders() -> None:
    before = _digest(SHIPPED)
    cmd = [sys.executable, str(ROOT / "run.py"), "export", "--checkpoint", "models/clip/trained/clip_small.pt"]
    cmd += ["--kind", "clip", "--out", "installation/assets/models"]  # what the README once said
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: export would overwrite the shipped clip_image.onnx, clip_text.onnx")
    assert "--force" in last and "runs/clip/onnx" in last
    assert _digest(SHIPPED) == before


def test_export_refuses_to_overwrite_the_shipped_generator() -> None:
    before = _digest(SHIPPED)
    args = argparse.Namespace(kind="pix2pix", out=SHIPPED / "pix2pix_default.onnx", fp16=True, force=False)
    with pytest.raises(UserError, match="shipped pix2pix_default.onnx, pix2pix_default.parity.json, pix2pix_def"):
        export_cli.main(args)  # refused before the exporter (torch) is even imported
    assert _digest(SHIPPED) == before


def test_force_or_another_folder_goes_through_to_the_exporter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tmp_path / "assets"
    shipped.mkdir()
    for name in export_cli.CLIP_FILES:
        (shipped / name).write_text("shipped")
    monkeypatch.setattr(export_cli, "SHIPPED", shipped)
    calls: list[Path] = []
    import models.export

    monkeypatch.setattr(models.export, "main", lambda a: calls.append(a.out) or 0)
    args = argparse.Namespace(kind="clip", out=shipped, fp16=False, force=False)
    with pytest.raises(UserError, match="clip_image.onnx, clip_text.onnx, clip.parity.json"):
        export_cli.main(args)
    assert calls == []
    assert export_cli.main(argparse.Namespace(kind="clip", out=shipped, fp16=False, force=True)) == 0
    elsewhere = tmp_path / "runs" / "clip"
    assert export_cli.main(argparse.Namespace(kind="clip", out=elsewhere, fp16=False, force=False)) == 0
    assert calls == [shipped, elsewhere]
    pix = argparse.Namespace(kind="pix2pix", out=tmp_path / "m.onnx", fp16=True, force=False)
    assert [p.name for p in export_cli.targets(pix)] == ["m.onnx", "m.parity.json", "m.fp16.onnx"]
