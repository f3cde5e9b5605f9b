"""The archive of finished works: one folder per work, written atomically, plus an append-only index.

Layout under `root`:

    works/<id>/meta.json      everything about the work (kind, timestamps, model, hashes, file list)
    works/<id>/<files>        what the caller handed over (sketch.png, ai.png, strokes.jsonl, paths.svg ...)
    index.jsonl               one line per saved work, appended after the folder is in place
    .tmp-<id>/                a save in progress (removed by `recover`)

A save writes every file into `.tmp-<id>` inside root, fsyncs, then `os.replace`s the folder to
`works/<id>`: a kill -9 at any moment leaves either no folder or a complete one. The index is only a
speed-up: `list` also finds folders the index lacks (a kill between rename and append) and skips torn lines;
`recover` rewrites it from the folders. Names are sanitised (installation.core.archive_index), so nothing a
caller passes can write outside root, and no symbolic link inside root is followed (the archive never makes
one; `works/` a link refuses the save, a linked work or file is not read). An OSError (disk full, unwritable
folder) is logged and counted in `stats`, never raised: the show goes on. An index that cannot be appended to
is counted apart (`index_failed`): the work itself is saved. Camera frames (file names starting with "camera")
are dropped unless the venue enables `archive.store_camera_frames`. `archive_check` verifies an archive.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import logging
import os
import queue
import shutil
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from installation.core.archive_index import (
    META,
    index_line,
    is_work_id,
    listed_files,
    parse_index,
    safe_file_name,
    work_id,
)
from installation.core.errors import UserError

log = logging.getLogger(__name__)
INDEX = "index.jsonl"
STALE_TMP_S = 300.0  # a temp folder this old is a crash's leftover, not another writer's save in progress
_COUNTER = itertools.count(1)  # shared by every Archive in the process: ids stay unique across instances
WORKS = "works"
MAX_META_BYTES = 1 << 20  # a meta.json larger than this is damaged (the writer's are a few KB)


@dataclass
class ArchiveStats:
    saved: int = 0
    failed: int = 0
    camera_frames_dropped: int = 0
    index_failed: int = 0  # works saved whose index line could not be written (the index is behind)
    last_error: str = ""


class Archive:
    def __init__(self, root: Path, store_camera_frames: bool = False) -> None:
        self.root = Path(root)
        self.store_camera_frames = store_camera_frames
        self.stats = ArchiveStats()
        self._lock = threading.Lock()

    # -- writing ----------------------------------------------------------------------------------------------
    def save(self, kind: str, files: dict[str, bytes], meta: dict[str, Any]) -> str:
        """Store one work atomically; returns its id, or "" if it could not be written (logged and counted)."""
        now = datetime.now(UTC)
        wid = work_id(kind, now, next(_COUNTER))
        tmp = self.root / f".tmp-{wid}"
        try:
            works = self.root / WORKS
            if works.is_symlink():
                raise OSError(errno.ELOOP, f"{works} is a symbolic link; the archive does not follow links")
            works.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()
            listing = self._write_files(tmp, files)
            record = {**meta, "id": wid, "kind": kind, "saved_at": now.isoformat(timespec="milliseconds")}
            record["files"] = listing
            _write_synced(tmp / META, json.dumps(record, indent=1, sort_keys=True, default=str).encode("utf-8"))
            _fsync_dir(tmp)
            os.replace(tmp, works / wid)
            _fsync_dir(works)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            with self._lock:
                self.stats.failed += 1
                self.stats.last_error = f"archive {self.root}: {e.strerror or e}"
            log.error("could not archive a %s work in %s: %s (the show goes on)", kind, self.root, e)
            return ""
        index_ok = self._index(record)
        with self._lock:
            self.stats.saved += 1
            if index_ok:
                self.stats.last_error = ""  # writable again: /state/error clears
        log.info("archived %s (%d files)", wid, len(listing))
        return wid

    def _write_files(self, folder: Path, files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
        listing: dict[str, dict[str, Any]] = {}
        for name, data in files.items():
            safe = safe_file_name(name)
            if safe == META or safe in listing:
                safe = f"{len(listing)}-{safe}"
            if safe.lower().startswith("camera") and not self.store_camera_frames:
                with self._lock:
                    self.stats.camera_frames_dropped += 1
                continue
            _write_synced(folder / safe, data)
            listing[safe] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        return listing

    def _index(self, record: dict[str, Any]) -> bool:
        """Append the saved work to the index; False (counted, reported as an index problem) if it cannot be."""
        try:
            self._append_index(_index_entry(record))
            return True
        except OSError as e:
            self._index_failed(e)
            return False

    def _index_failed(self, e: OSError) -> None:
        msg = f"archive index {self.root / INDEX} cannot be written ({e.strerror or e}): works are saved, not indexed"
        with self._lock:
            self.stats.index_failed += 1
            self.stats.last_error = msg
        if self.stats.index_failed == 1 or self.stats.index_failed % 100 == 0:
            log.error("%s (%d so far; run.py archive verify)", msg, self.stats.index_failed)

    def _append_index(self, entry: dict[str, Any]) -> None:
        line = index_line(entry)
        with self._lock:
            fd = os.open(self.root / INDEX, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            try:
                os.write(fd, line)  # one write of one line: a kill leaves it whole or torn, never interleaved
                os.fsync(fd)
            finally:
                os.close(fd)

    def recover(self) -> int:
        """Remove saves a crash left half-done (temp folders older than STALE_TMP_S, so another writer's save in
        progress is left alone) and rewrite the index from the folders; returns the temp folders removed."""
        if not self.root.is_dir():
            return 0
        removed = 0
        for tmp in self.root.glob(".tmp-*"):
            try:
                stale = time.time() - tmp.lstat().st_mtime > STALE_TMP_S
            except OSError:
                continue
            if tmp.is_symlink():
                continue  # not ours: `archive verify` reports it, nothing is removed through it
            if stale or not tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
                removed += 1
        entries = self.list()
        if {e["id"] for e in entries} != self.indexed():
            data = b"".join(index_line(e) for e in entries)
            try:
                _write_synced(self.root / (INDEX + ".tmp"), data)
                os.replace(self.root / (INDEX + ".tmp"), self.root / INDEX)
            except OSError as e:
                self._index_failed(e)
        if removed:
            log.warning("archive %s: removed %d unfinished save(s) left by a crash", self.root, removed)
        return removed

    # -- reading ----------------------------------------------------------------------------------------------
    def list(self) -> list[dict[str, Any]]:
        """Index entries of every complete work, oldest first (folders missing from the index included)."""
        works = self.root / WORKS
        if works.is_symlink() or not works.is_dir():
            return []
        present = {p.name for p in works.iterdir() if is_work_id(p.name) and p.is_dir() and not p.is_symlink()}
        entries = {e["id"]: e for e in parse_index(_read(self.root / INDEX)) if e["id"] in present}
        for wid in present - entries.keys():
            record = self.meta(wid)
            if record is not None:
                entries[wid] = _index_entry(record)
        return [entries[k] for k in sorted(entries)]

    def indexed(self) -> set[str]:
        """Ids the index lists (torn and foreign lines skipped; a linked index is not read)."""
        return {e["id"] for e in parse_index(_read(self.root / INDEX))}

    def meta(self, wid: str) -> dict[str, Any] | None:
        """The parsed meta.json of a work, or None when it is missing, a link, too large or not JSON."""
        try:
            record = json.loads(read_nofollow(self.path(wid, META), MAX_META_BYTES).decode("utf-8"))
        except (OSError, ValueError, RecursionError, UserError):  # UnicodeDecodeError is a ValueError
            return None
        return record if isinstance(record, dict) else None

    def path(self, wid: str, name: str = "") -> Path:
        """The folder of a work, or a file in it; a UserError for anything that would leave the archive."""
        if not is_work_id(wid):
            raise UserError(f"{wid!r} is not a work id of this archive (run.py archive list shows them)")
        folder = self.root / WORKS / wid
        for p in (self.root / WORKS, folder):
            if p.is_symlink():
                raise UserError(f"{p} is a symbolic link: the archive does not follow links (run.py archive verify)")
        if not name:
            return folder
        if safe_file_name(name) != name:
            raise UserError(f"{name!r} is not a file name inside a work (no folders, no '..')")
        target = folder / name
        if target.is_symlink() or not target.resolve().is_relative_to(folder.resolve()):
            raise UserError(f"{name!r} points outside the archive")
        return target


def _index_entry(record: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "kind", "saved_at", "started_at", "finished_at", "reason", "source", "prompt", "model")
    entry = {k: record[k] for k in keep if k in record}
    entry["files"] = listed_files(record)
    return entry


def read_nofollow(path: Path, limit: int) -> bytes:
    """A regular file's bytes, never through a symbolic link (ELOOP), never blocking on a FIFO; over `limit`
    bytes is an OSError (EFBIG)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"{path.name} is not a regular file")
        if st.st_size > limit:
            raise OSError(errno.EFBIG, f"{path.name} is larger than {limit} bytes")
        chunks, n = [], 0
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
            n += len(chunk)
            if n > limit:  # it grew while being read
                raise OSError(errno.EFBIG, f"{path.name} is larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read(path: Path) -> bytes:
    try:
        return read_nofollow(path, 1 << 30)
    except OSError:
        return b""


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# A job builds (kind, files, meta) on the writer thread, so image encoding never costs the display a frame.
Job = Callable[[], tuple[str, dict[str, bytes], dict[str, Any]]]


class ArchiveWriter:
    """A bounded hand-off from the show to the archive; `serve` runs on a supervised worker thread."""

    def __init__(self, archive: Archive, max_pending: int = 8) -> None:
        self.archive = archive
        self._jobs: queue.Queue[Job] = queue.Queue(maxsize=max_pending)
        self.submitted = 0
        self.dropped = 0  # jobs refused because the writer was this far behind (counted, reported in health)
        self.written: list[str] = []  # ids of the newest works (bounded)
        self._busy = threading.Event()

    def submit(self, job: Job) -> bool:
        """Never blocks: False (and counted) when `max_pending` works are already waiting."""
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            self.dropped += 1
            log.error("archive writer is %d works behind: a finished work was not archived", self._jobs.maxsize)
            return False
        self.submitted += 1
        return True

    @property
    def pending(self) -> int:
        return self._jobs.qsize() + (1 if self._busy.is_set() else 0)

    def serve(self, stop: threading.Event, beat: Callable[[], None]) -> None:
        self.archive.recover()
        while True:
            beat()
            try:
                job = self._jobs.get(timeout=0.2)
            except queue.Empty:
                if stop.is_set():
                    return
                continue
            self._busy.set()
            try:
                kind, files, meta = job()
                wid = self.archive.save(kind, files, meta)
                if wid:
                    self.written = [*self.written[-99:], wid]
            finally:
                self._busy.clear()

    def flush(self, timeout: float) -> bool:
        """Wait until every submitted work is written (or failed); True if the queue emptied in time."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.pending
