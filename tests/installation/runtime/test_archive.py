"""The archive: atomic works, a tolerant index, crash consistency under kill -9, failures that never raise."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from installation.core.errors import UserError
from installation.runtime.archive import Archive

ROOT = Path(__file__).resolve().parents[3]


def _complete(archive: Archive, wid: str) -> bool:
    meta = archive.meta(wid)
    if meta is None or meta["id"] != wid:
        return False
    for name, info in meta["files"].items():
        data = archive.path(wid, name).read_bytes()
        if len(data) != info["bytes"] or hashlib.sha256(data).hexdigest() != info["sha256"]:
            return False
    return True


def test_save_list_and_meta(tmp_path: Path) -> None:
    a = Archive(tmp_path / "arch")
    wid = a.save("drawing", {"sketch.png": b"png", "strokes.jsonl": b"{}\n"}, {"prompt": "a cat", "reason": "clear"})
    assert wid and (tmp_path / "arch" / "works" / wid / "meta.json").is_file()
    [entry] = a.list()
    assert entry["id"] == wid and entry["prompt"] == "a cat" and entry["files"] == ["sketch.png", "strokes.jsonl"]
    meta = a.meta(wid)
    assert meta is not None and meta["kind"] == "drawing" and meta["files"]["sketch.png"]["bytes"] == 3
    assert _complete(a, wid)
    assert a.stats.saved == 1 and a.stats.failed == 0


def test_names_cannot_escape_the_archive(tmp_path: Path) -> None:
    root = tmp_path / "arch"
    a = Archive(root)
    evil = {"../../escape.txt": b"1", "/etc/passwd": b"2", "..": b"3", ".hidden": b"4", "a/../../b": b"5"}
    evil["meta.json"] = b"6"
    wid = a.save("../../kind/../x", evil, {})
    assert wid and "/" not in wid and ".." not in wid
    written = sorted(p.name for p in (root / "works" / wid).iterdir())
    assert "meta.json" in written and len(written) == len(evil) + 1
    assert all(".." not in n and "/" not in n for n in written)
    outside = [p for p in tmp_path.rglob("*") if not p.is_relative_to(root)]
    assert outside == []
    assert json.loads((root / "works" / wid / "meta.json").read_text())["id"] == wid  # not overwritten
    for bad_id in ("../works", "/etc", "20260101-000000-000000-x-1/../..", ""):
        with pytest.raises(UserError):
            a.path(bad_id)
    for bad_name in ("../meta.json", "/etc/passwd", "..", "a/b"):
        with pytest.raises(UserError):
            a.path(wid, bad_name)


def test_camera_frames_are_kept_only_when_the_venue_allows(tmp_path: Path) -> None:
    files = {"sketch.png": b"s", "camera.jpg": b"face"}
    private = Archive(tmp_path / "a")
    wid = private.save("drawing", files, {})
    assert sorted(private.meta(wid)["files"]) == ["sketch.png"] and private.stats.camera_frames_dropped == 1
    allowed = Archive(tmp_path / "b", store_camera_frames=True)
    wid = allowed.save("drawing", files, {})
    assert sorted(allowed.meta(wid)["files"]) == ["camera.jpg", "sketch.png"]


def test_unwritable_archive_is_reported_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the archive should be")
    a = Archive(blocker)
    assert a.save("drawing", {"x.png": b"x"}, {}) == ""
    assert a.stats.failed == 1 and a.stats.saved == 0 and "not-a-folder" in a.stats.last_error
    assert a.list() == []


def test_torn_index_and_missing_entries_are_tolerated_and_repaired(tmp_path: Path) -> None:
    a = Archive(tmp_path)
    ids = [a.save("drawing", {"n.txt": str(i).encode()}, {}) for i in range(3)]
    index = tmp_path / "index.jsonl"
    lines = index.read_bytes().splitlines(keepends=True)
    index.write_bytes(lines[0] + lines[1][:17])  # third line lost, second torn mid-write
    assert [e["id"] for e in a.list()] == ids  # the folders are the truth
    (tmp_path / f".tmp-{ids[0]}x").mkdir()  # a save a crash left half-done
    (tmp_path / ".tmp-in-progress").mkdir()  # another writer's save, just begun: left alone
    old = time.time() - 3600
    os.utime(tmp_path / f".tmp-{ids[0]}x", (old, old))
    assert a.recover() == 1 and (tmp_path / ".tmp-in-progress").is_dir()
    (tmp_path / ".tmp-in-progress").rmdir()
    assert [json.loads(x)["id"] for x in index.read_text().splitlines()] == ids
    assert not list(tmp_path.glob(".tmp-*"))


WRITER = """
import sys, os
sys.path.insert(0, {root!r})
from pathlib import Path
from installation.runtime.archive import Archive
a = Archive(Path({path!r}))
blob = os.urandom(1 << 20)  # made once: nearly all of the loop's time is spent inside save()
files = {{f"layer{{k}}.png": blob for k in range(6)}}
files["strokes.jsonl"] = b"x" * 1000
i = 0
while True:
    i += 1
    a.save("drawing", files, {{"n": i}})
"""


def test_kill_9_during_saves_leaves_only_complete_works(tmp_path: Path) -> None:
    path = tmp_path / "arch"
    script = WRITER.format(root=str(ROOT), path=str(path))
    interrupted = 0  # kills that landed mid-save (a .tmp folder left behind): what the test is about
    # At least five kills; more (up to 30) until one lands mid-save, so a fast disk cannot make the test vacuous.
    delays = [0.0, 0.013, 0.029, 0.047, 0.061] + [0.003 * k for k in range(25)]
    for attempt, delay in enumerate(delays):
        if attempt >= 5 and interrupted:
            break
        before = len(Archive(path).list())
        proc = subprocess.Popen([sys.executable, "-c", script])
        end = time.monotonic() + 60
        while len(list((path / "works").glob("*"))) < before + 2 and time.monotonic() < end:
            time.sleep(0.005)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        interrupted += bool(list(path.glob(".tmp-*")))
    assert interrupted >= 1
    a = Archive(path)
    entries = a.list()
    folders = sorted(p.name for p in (path / "works").iterdir())
    assert [e["id"] for e in entries] == folders and len(folders) >= 8
    assert all(_complete(a, wid) for wid in folders)  # every work whole: none half-written
    for tmp in path.glob(".tmp-*"):
        os.utime(tmp, (time.time() - 3600,) * 2)  # as if the kill was long ago
    a.recover()
    assert not list(path.glob(".tmp-*"))
    assert a.save("drawing", {"after.txt": b"ok"}, {}) and len(a.list()) == len(folders) + 1
