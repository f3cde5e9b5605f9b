"""Every figure in the README's benchmark table is the figure of the JSON record its row names."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "readme_figures.py"
_spec = importlib.util.spec_from_file_location("readme_figures", SCRIPT)
assert _spec is not None and _spec.loader is not None
rf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rf)


def test_the_readme_figures_match_their_records() -> None:
    problems, rows, figures = rf.check(ROOT / "README.md")
    assert not problems, "\n".join(problems)
    assert rows >= 20 and figures >= 100  # the table is really read, row by row


def test_the_script_says_so_and_exits_0() -> None:
    r = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "0 problem(s)" in r.stdout, r.stdout + r.stderr


def _readme(tmp_path: Path, row: str) -> Path:
    (tmp_path / "r.json").write_text(json.dumps({"a": {"p50_ms": 6.644}, "rows": [{"k": "x", "v": 582.5}], "s": 1830}))
    text = f"# t\n\n## Benchmarks\n\n| what | figure | command |\n|---|---|---|\n{row}\n\n## Next\n"
    path = tmp_path / "README.md"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("| x | p50 6.6 ms <!-- record r.json: a.p50_ms=6.6 --> | c |", None),
        ("| x | 583/s, 30.5 min <!-- record r.json: rows[k=x].v=583 s/60=30.5 --> | c |", None),  # half up, scaled
        ("| x | p50 6.7 ms <!-- record r.json: a.p50_ms=6.7 --> | c |", "README says 6.7, r.json#a.p50_ms is 6.644"),
        ("| x | p50 6.7 ms <!-- record r.json: a.p50_ms=6.6 --> | c |", "6.6 (a.p50_ms) is not in the row's text"),
        ("| x | p50 6.6 ms | c |", "no record comment"),
        ("| x | p50 6.6 ms <!-- record r.json: a.p95_ms=6.6 --> | c |", "no key 'p95_ms'"),
        ("| x | 583 <!-- record r.json: rows[k=y].v=583 --> | c |", "matches 0 items"),
        ("| x | 6.6 <!-- record nope.json: a.p50_ms=6.6 --> | c |", "cannot read nope.json"),
        ("| x | 50 fps (no record: from an earlier run) <!-- no record --> | c |", None),
        ("| x | 50 fps <!-- no record --> | c |", "not marked 'no record: from an earlier run'"),
    ],
)
def test_rows_that_disagree_with_their_record_are_named(tmp_path: Path, row: str, problem: str | None) -> None:
    problems, rows, _ = rf.check(_readme(tmp_path, row), tmp_path)
    assert rows == 1
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0] and problems[0].startswith("line 7:"), problems
