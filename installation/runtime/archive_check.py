"""`archive verify`: every work against its meta.json, and what else is in the archive that should not be.

Walks the archive without following a single symbolic link (each is reported instead: the archive never makes
one, so a link is someone else's, and may point anywhere). Reports, one kind per line:

- works complete / damaged, with the reason per damaged work: meta.json missing, not UTF-8, not JSON, nested
  too deep, of the wrong shape (installation.core.archive_index.check_meta), a file missing, of another size
  or hash, not a regular file, a link, or a file meta.json does not list;
- leftover temporary folders (`.tmp-*`, a crash's unfinished saves; the show removes those older than
  5 minutes at start) and saves in progress (younger ones, left alone);
- symbolic links, with where they point, never followed;
- entries of `works/` that are not works;
- the index: not writable (then new works are saved but not indexed; that is not a damaged work), a link
  or a folder, or lacking works the folders hold.

Files are read with O_NOFOLLOW | O_NONBLOCK (a FIFO cannot hang it) and hashed in chunks (a huge file cannot
fill memory); nothing is written.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from installation.core.archive_index import META, check_meta, is_work_id
from installation.runtime.archive import INDEX, MAX_META_BYTES, STALE_TMP_S, WORKS, Archive, read_nofollow


@dataclass
class ArchiveReport:
    complete: list[str] = field(default_factory=list)
    damaged: dict[str, str] = field(default_factory=dict)  # work id → why
    leftovers: list[str] = field(default_factory=list)  # temporary folders/files a crash left
    in_progress: list[str] = field(default_factory=list)  # temporary folders young enough to be a save under way
    links: list[str] = field(default_factory=list)  # "relative/name -> target"
    foreign: list[str] = field(default_factory=list)  # entries of works/ that are not works
    index: str = ""  # what is wrong with the index ("" when nothing)
    index_lacks: int = 0  # complete works the index does not list

    @property
    def ok(self) -> bool:
        return not (self.damaged or self.leftovers or self.links or self.foreign or self.index)

    def lines(self) -> list[str]:
        n = len(self.complete) + len(self.damaged)
        head = f"{len(self.complete)} of {n} works complete"
        if self.damaged:
            head += "; damaged: " + ", ".join(f"{w} ({why})" for w, why in sorted(self.damaged.items()))
        out = [head]
        if self.leftovers:
            out.append(
                f"leftover temporary folders (unfinished saves; the show removes them at start): "
                f"{', '.join(self.leftovers)}"
            )
        if self.in_progress:
            out.append(f"saves in progress (left alone): {', '.join(self.in_progress)}")
        if self.links:
            out.append(f"symbolic links, not followed (the archive makes none): {', '.join(self.links)}")
        if self.foreign:
            out.append(f"not works, in {WORKS}/: {', '.join(self.foreign)}")
        if self.index:
            out.append(f"index: {self.index}")
        if self.index_lacks:
            out.append(f"the index lacks {self.index_lacks} complete work(s) (the show rewrites it at start)")
        return out


def check_archive(archive: Archive, now: float | None = None) -> ArchiveReport:
    root = archive.root
    report = ArchiveReport()
    now = time.time() if now is None else now
    for entry in _scan(root):
        rel = entry.name
        if entry.is_symlink():
            report.links.append(_link(root, rel))
        elif rel.startswith(".tmp-") or rel == INDEX + ".tmp":
            young = now - entry.stat(follow_symlinks=False).st_mtime <= STALE_TMP_S
            (report.in_progress if young else report.leftovers).append(rel)
    works = root / WORKS
    if not works.is_symlink() and works.is_dir():
        for entry in sorted(_scan(works), key=lambda e: e.name):
            rel = f"{WORKS}/{entry.name}"
            if entry.is_symlink():
                report.links.append(_link(root, rel))
                if is_work_id(entry.name):
                    report.damaged[entry.name] = "its folder is a symbolic link"
            elif entry.is_dir(follow_symlinks=False) and is_work_id(entry.name):
                why = check_work(works / entry.name, entry.name, report, root)
                if why:
                    report.damaged[entry.name] = why
                else:
                    report.complete.append(entry.name)
            else:
                report.foreign.append(rel)
    report.index = _index_problem(root)
    report.index_lacks = len(set(report.complete) - archive.indexed())
    return report


def check_work(folder: Path, wid: str, report: ArchiveReport, root: Path) -> str:
    """'' if every file of the work is whole, else the first reason it is not (links go to `report.links`)."""
    try:
        raw = read_nofollow(folder / META, MAX_META_BYTES)
    except OSError as e:
        return _read_error(META, e)
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "meta.json is not UTF-8"
    except ValueError:
        return "meta.json is not valid JSON"
    except RecursionError:
        return "meta.json nests too deep"
    files = check_meta(record, wid)
    if isinstance(files, str):
        return files
    why = ""
    for entry in _scan(folder):
        if entry.is_symlink():
            report.links.append(_link(root, f"{WORKS}/{wid}/{entry.name}"))
            why = why or f"{entry.name} is a symbolic link"
        elif entry.name != META and entry.name not in files:
            why = why or f"{entry.name} is not listed in meta.json"
    for name, (size, digest) in sorted(files.items()):
        why = why or _check_file(folder / name, size, digest)
    return why


def _check_file(path: Path, size: int, digest: str) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        return _read_error(path.name, e)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return f"{path.name} is not a regular file"
        if st.st_size != size:
            return f"{path.name} has {st.st_size} bytes, meta.json says {size}"
        h = hashlib.sha256()
        while chunk := os.read(fd, 1 << 20):
            h.update(chunk)
        return "" if h.hexdigest() == digest else f"{path.name} does not match its sha256"
    except OSError as e:
        return _read_error(path.name, e)
    finally:
        os.close(fd)


def _read_error(name: str, e: OSError) -> str:
    if e.errno == errno.ENOENT:
        return f"{name} is missing"
    if e.errno == errno.ELOOP:
        return f"{name} is a symbolic link"
    if e.errno == errno.EFBIG:
        return f"{name} is too large"
    return f"{name} cannot be read ({e.strerror or e})"


def _index_problem(root: Path) -> str:
    """Why new index lines could not be appended, '' if they can. Opens for appending, writes nothing."""
    path = root / INDEX
    if path.is_symlink():
        return f"{INDEX} is a symbolic link (not followed): new works are saved but not indexed; replace it"
    if path.is_dir():
        return f"{INDEX} is a folder, not a file: new works are saved but not indexed; move it away"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        os.close(fd)
    except FileNotFoundError:
        return "" if os.access(root, os.W_OK) else f"{root} is not writable: new works cannot be saved"
    except OSError as e:
        return f"{INDEX} is not writable ({e.strerror or e}): new works are saved but not indexed; fix its permissions"
    return ""


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError:
        return []


def _link(root: Path, rel: str) -> str:
    try:
        return f"{rel} -> {os.readlink(root / rel)}"
    except OSError:
        return rel
