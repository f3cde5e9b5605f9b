"""Output paths are checked before long work: one line naming the flag, nothing left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from installation.core.errors import UserError
from installation.core.files import check_writable

ROOT = Path(__file__).resolve().parents[3]


def test_a_writable_path_passes_and_its_parents_are_made(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report.json"
    check_writable(target, "--json")
    assert target.parent.is_dir() and list(target.parent.iterdir()) == []  # the probe is gone
    check_writable(None, "--sheet")  # an option not given
    check_writable(tmp_path / "run", "--out", folder=True)
    assert (tmp_path / "run").is_dir()


def test_a_file_where_a_folder_must_be_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    with pytest.raises(UserError, match=r"cannot write --json .*notes.txt/x.json .*choose a writable --json path"):
        check_writable(blocker / "x.json", "--json")
    with pytest.raises(UserError, match="--out"):
        check_writable(blocker / "run", "--out", folder=True)
    assert blocker.read_text() == "mine"


def test_a_folder_given_for_a_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is a folder: give a file name"):
        check_writable(tmp_path, "--out")


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--json", "{bad}/bench.json"],
        ["quality", "--data", "{pack}", "--model", "v={pack}", "--json", "{bad}/q.json"],
        ["steer", "--prompt", "a cat", "--out", "{bad}/cat.png"],
        ["train", "--data", "{pack}", "--out", "{bad}/run"],
    ],
)
def test_verbs_refuse_an_unwritable_output_before_working(tmp_path: Path, argv: list[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    pack = tmp_path / "pack.npz"
    pack.write_bytes(b"")
    args = [a.format(bad=blocker, pack=pack) for a in argv]
    r = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True, timeout=120)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-600:]
    assert str(blocker) in lines[-1] and ("cannot write" in lines[-1] or "is not a folder" in lines[-1])
