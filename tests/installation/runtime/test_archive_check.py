"""`archive verify` on a tampered archive: leftovers, links (never followed), damaged meta.json, the index."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.core.archive_index import check_meta
from installation.runtime.archive import Archive
from installation.runtime.archive_check import check_archive

ROOT = Path(__file__).resolve().parents[3]


def _archive(tmp: Path, n: int = 2) -> tuple[Archive, list[str]]:
    a = Archive(tmp / "arch")
    ids = [a.save("drawing", {"sketch.png": b"s%d" % i, "ai.png": b"a%d" % i}, {"reason": "clear"}) for i in range(n)]
    return a, ids


def _verify(root: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "run.py"), "archive", "verify", "--root", str(root)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_leftover_temporary_folders_are_reported_and_young_ones_are_saves_in_progress(tmp_path: Path) -> None:
    a, _ = _archive(tmp_path)
    old = a.root / ".tmp-20260101-000000-000000-drawing-9"
    old.mkdir()
    (old / "ai.png").write_bytes(b"half")
    os.utime(old, (time.time() - 3600,) * 2)
    (a.root / ".tmp-just-started").mkdir()
    r = check_archive(a)
    assert r.leftovers == [old.name] and r.in_progress == [".tmp-just-started"] and not r.ok
    assert len(r.complete) == 2 and not r.damaged  # a leftover is not a damaged work


def test_symbolic_links_are_reported_and_never_followed(tmp_path: Path) -> None:
    a, ids = _archive(tmp_path, 3)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_bytes(b"not the archive's")
    # a whole work replaced by a link to a folder outside, with a plausible meta.json there
    work = a.root / "works" / ids[0]
    fake = outside / "fake-work"
    work.rename(fake)
    work.symlink_to(fake)
    # a file inside a real work replaced by a link to a file outside
    (a.root / "works" / ids[1] / "ai.png").unlink()
    (a.root / "works" / ids[1] / "ai.png").symlink_to(secret)
    (a.root / "works" / ids[2] / "extra").symlink_to("/etc/passwd")
    (a.root / ".tmp-link").symlink_to(outside)
    r = check_archive(a)
    assert r.damaged == {
        ids[0]: "its folder is a symbolic link",
        ids[1]: "ai.png is a symbolic link",
        ids[2]: "extra is a symbolic link",
    }
    assert sorted(x.split(" -> ")[0] for x in r.links) == sorted(
        [".tmp-link", f"works/{ids[0]}", f"works/{ids[1]}/ai.png", f"works/{ids[2]}/extra"]
    )
    assert f"works/{ids[1]}/ai.png -> {secret}" in r.links
    assert [e["id"] for e in a.list()] == ids[1:]  # a linked work folder is not listed
    a.recover()
    assert (a.root / ".tmp-link").is_symlink() and secret.read_bytes() == b"not the archive's"  # nothing removed
    out = _verify(a.root)
    assert out.returncode == 1 and out.stdout.startswith("0 of 3 works complete") and "Traceback" not in out.stderr
    assert "symbolic links, not followed" in out.stdout


def test_a_linked_works_folder_is_neither_read_nor_written_through(tmp_path: Path) -> None:
    a, _ = _archive(tmp_path, 1)
    elsewhere = tmp_path / "elsewhere"
    (a.root / "works").rename(elsewhere)
    (a.root / "works").symlink_to(elsewhere)
    before = sorted(p.name for p in elsewhere.iterdir())
    assert a.save("drawing", {"x.png": b"x"}, {}) == ""  # refused, counted: nothing written outside
    assert a.stats.failed == 1 and "symbolic link" in a.stats.last_error
    assert sorted(p.name for p in elsewhere.iterdir()) == before
    r = check_archive(a)
    assert r.complete == [] and r.links == [f"works -> {elsewhere}"] and not r.ok


def test_a_fifo_in_a_work_does_not_hang_verify(tmp_path: Path) -> None:
    a, ids = _archive(tmp_path, 1)
    path = a.root / "works" / ids[0] / "ai.png"
    path.unlink()
    os.mkfifo(path)
    assert check_archive(a).damaged == {ids[0]: "ai.png is not a regular file"}


TAMPERED = {
    "not JSON": (b'{"id": "x", "files": {', "meta.json is not valid JSON"),
    "not UTF-8": (b'{"id": "\xff\xfe"}', "meta.json is not UTF-8"),
    "too deep": (b"[" * 100_000 + b"]" * 100_000, "meta.json nests too deep"),
    "huge int": (b'{"files": {"a.png": {"bytes": ' + b"9" * 5000 + b"}}}", "meta.json is not valid JSON"),
    "a list": (b"[1, 2]", "meta.json is not a JSON object"),
    "empty": (b"", "meta.json is not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_tampered_meta_json_is_damaged_not_a_traceback(tmp_path: Path, case: str) -> None:
    a, ids = _archive(tmp_path)
    data, why = TAMPERED[case]
    (a.root / "works" / ids[0] / "meta.json").write_bytes(data)
    r = check_archive(a)
    assert r.damaged == {ids[0]: why} and r.complete == [ids[1]]
    assert a.meta(ids[0]) is None and [e["id"] for e in a.list()] == ids  # the index still lists it
    out = _verify(a.root)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stdout.startswith(f"1 of 2 works complete; damaged: {ids[0]} ({why})")


def test_wrong_types_in_meta_json_are_damaged_with_the_reason(tmp_path: Path) -> None:
    a, ids = _archive(tmp_path, 1)
    path = a.root / "works" / ids[0] / "meta.json"
    good = json.loads(path.read_text())
    info = good["files"]["ai.png"]
    cases = {
        "meta.json lists no files": {**good, "files": ["ai.png", "sketch.png"]},
        "meta.json belongs to another work": {**good, "id": 7},
        "meta.json: the size of ai.png is not a whole number of bytes": {
            **good,
            "files": {**good["files"], "ai.png": {**info, "bytes": "2"}},
        },
        "meta.json: the sha256 of ai.png is not 64 hex digits": {
            **good,
            "files": {**good["files"], "ai.png": {**info, "sha256": None}},
        },
        "meta.json: the entry for ai.png is not an object": {**good, "files": {**good["files"], "ai.png": 5}},
        "meta.json lists a file name no work can hold: '../../etc/passwd'": {
            **good,
            "files": {"../../etc/passwd": info},
        },
        "ai.png has 2 bytes, meta.json says 3": {**good, "files": {**good["files"], "ai.png": {**info, "bytes": 3}}},
        "ai.png does not match its sha256": {
            **good,
            "files": {**good["files"], "ai.png": {**info, "sha256": "0" * 64}},
        },
    }
    for why, record in cases.items():
        path.write_text(json.dumps(record))
        assert check_archive(a).damaged == {ids[0]: why}, why
        a.list()  # listing a tampered work never raises either
    path.write_text(json.dumps(good))
    (a.root / "works" / ids[0] / "note.txt").write_text("added later")
    assert check_archive(a).damaged == {ids[0]: "note.txt is not listed in meta.json"}


def test_an_unwritable_index_is_reported_as_such_not_as_failed_works(tmp_path: Path) -> None:
    a, ids = _archive(tmp_path, 1)
    index = a.root / "index.jsonl"
    index.unlink()
    index.mkdir()  # unwritable for everyone, root included (a read-only file would not stop root)
    wid = a.save("drawing", {"ai.png": b"later"}, {})
    assert wid and a.stats.saved == 2 and a.stats.failed == 0 and a.stats.index_failed == 1
    assert "index" in a.stats.last_error and "not indexed" in a.stats.last_error
    assert [e["id"] for e in a.list()] == [*ids, wid]  # the folders are the truth
    r = check_archive(a)
    assert r.complete == [*ids, wid] and not r.damaged
    assert "folder" in r.index and r.index_lacks == 2 and not r.ok
    out = _verify(a.root)
    assert out.returncode == 1 and out.stdout.startswith("2 of 2 works complete\n")
    assert "index: index.jsonl is a folder" in out.stdout and "damaged" not in out.stdout


def test_an_index_that_is_a_link_is_not_written_through(tmp_path: Path) -> None:
    a, _ = _archive(tmp_path, 1)
    target = tmp_path / "victim.txt"
    target.write_text("keep me\n")
    (a.root / "index.jsonl").unlink()
    (a.root / "index.jsonl").symlink_to(target)
    assert a.save("drawing", {"ai.png": b"x"}, {}) and a.stats.index_failed == 1
    assert target.read_text() == "keep me\n"
    assert "symbolic link" in check_archive(a).index


def test_a_clean_archive_verifies_ok(tmp_path: Path) -> None:
    a, ids = _archive(tmp_path, 3)
    r = check_archive(a)
    assert r.ok and r.complete == ids and r.lines() == ["3 of 3 works complete"]
    assert _verify(a.root).returncode == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=1000)
@given(record=json_values)
def test_check_meta_never_raises_on_any_json(record: object) -> None:
    got = check_meta(record, "20260101-000000-000000-drawing-1")
    assert isinstance(got, str) or (isinstance(got, dict) and got)


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_any_bytes_as_meta_json_are_damaged_not_raised(tmp_path: Path, data: bytes) -> None:
    root = tmp_path / "h"
    a = Archive(root)
    if not (root / "works").is_dir():
        a.save("drawing", {"ai.png": b"x"}, {})
    [wid] = [p.name for p in (root / "works").iterdir()]
    (root / "works" / wid / "meta.json").write_bytes(data)
    r = check_archive(a)
    assert wid in r.damaged or wid in r.complete
