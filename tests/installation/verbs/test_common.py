"""Paths as reports record them (installation/verbs/common.repo_path): relative inside the repository."""

from __future__ import annotations

from pathlib import Path

from installation.verbs.common import ROOT, repo_path


def test_a_path_inside_the_repository_is_recorded_relative_to_it(tmp_path: Path) -> None:
    shipped = ROOT / "installation" / "assets" / "models" / "pix2pix_default.onnx"
    assert repo_path(shipped) == "installation/assets/models/pix2pix_default.onnx"
    assert repo_path(tmp_path / "x.onnx") == str(tmp_path / "x.onnx")  # outside: as given
