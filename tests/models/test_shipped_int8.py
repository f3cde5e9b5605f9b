"""The shipped int8 copies belong to the shipped fp32 files: a replaced model needs `run.py quantize` again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import onnx
import pytest

ASSETS = Path(__file__).resolve().parents[2] / "installation" / "assets" / "models"
COPIES = sorted(ASSETS.glob("*.int8.onnx"))


@pytest.mark.parametrize("int8", COPIES, ids=[p.name for p in COPIES])
def test_shipped_int8_copy_matches_its_fp32_file_and_passed_its_goals(int8: Path) -> None:
    meta = {p.key: p.value for p in onnx.load(str(int8), load_external_data=False).metadata_props}
    fp32 = ASSETS / meta["source_file"]
    assert meta["precision"] == "int8"
    assert meta["source_sha256"] == hashlib.sha256(fp32.read_bytes()).hexdigest(), (
        f"{int8.name} was made from another {fp32.name}: run "
        f"`python run.py quantize --model {fp32.relative_to(ASSETS.parents[2])} --data data/clipart_all/pack.npz`"
    )
    assert json.loads(meta["int8_quality"])["within_goals"] is True
