"""Archive names and index lines, as pure functions (no file system here).

A work id is `YYYYMMDD-HHMMSS-ffffff-KIND-N`: sortable by time, unique within a process, and made only of
`[a-z0-9-]`, so it can never name a path outside the archive. File names inside a work are sanitised the same
way (letters, digits, `.`, `_`, `-`; no leading dot; at most 64 characters). The index is JSON Lines, one
object per saved work; a reader skips a torn or foreign line instead of failing. `check_meta` tells whether a
work's meta.json (already parsed) is what the archive writes, with the reason when it is not: a tampered or
damaged record is a reason, never an exception.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

WORK_ID_RE = re.compile(r"\A[0-9]{8}-[0-9]{6}-[0-9]{6}-[a-z0-9][a-z0-9-]{0,31}-[0-9]{1,9}\Z")
_KIND_BAD = re.compile(r"[^a-z0-9-]+")
_FILE_BAD = re.compile(r"[^A-Za-z0-9._-]+")
MAX_FILE_NAME = 64
META = "meta.json"
_SHA256 = re.compile(r"\A[0-9a-f]{64}\Z")


def safe_kind(kind: str) -> str:
    """A work kind reduced to `[a-z0-9-]`, 1..32 characters ('work' if nothing is left)."""
    k = _KIND_BAD.sub("-", str(kind).lower()).strip("-")[:32].strip("-")
    return k or "work"


def safe_file_name(name: str) -> str:
    """A file name that stays inside its folder: path separators, '..' and odd characters are replaced."""
    base = _FILE_BAD.sub("_", str(name).replace("\\", "/").split("/")[-1])
    base = base.lstrip(".")
    while ".." in base:
        base = base.replace("..", ".")
    base = base[:MAX_FILE_NAME]
    return base or "file"


def work_id(kind: str, when: datetime, n: int) -> str:
    """The id of the n-th work saved by this process at `when`."""
    return f"{when:%Y%m%d-%H%M%S-%f}-{safe_kind(kind)}-{int(n)}"


def is_work_id(text: str) -> bool:
    return bool(WORK_ID_RE.match(text))


def index_line(entry: dict[str, Any]) -> bytes:
    """One index record as a single line of UTF-8 JSON (no newline inside)."""
    return (json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str) + "\n").encode("utf-8")


def parse_index(data: bytes) -> list[dict[str, Any]]:
    """Index entries in file order; torn, foreign or duplicate-id lines are skipped (the last copy wins)."""
    entries: dict[str, dict[str, Any]] = {}
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and is_work_id(entry["id"]):
            entries.pop(entry["id"], None)
            entries[entry["id"]] = entry
    return list(entries.values())


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the effective config, keys sorted: two works made under the same settings share it."""
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def check_meta(record: object, wid: str) -> dict[str, tuple[int, str]] | str:
    """The files the meta.json of work `wid` lists, as {name: (bytes, sha256)}, or why it is damaged."""
    if not isinstance(record, dict):
        return "meta.json is not a JSON object"
    if record.get("id") != wid:
        return "meta.json belongs to another work"
    files = record.get("files")
    if not isinstance(files, dict) or not files:
        return "meta.json lists no files"
    out: dict[str, tuple[int, str]] = {}
    for name, info in files.items():
        if not isinstance(name, str) or name == META or safe_file_name(name) != name:
            return f"meta.json lists a file name no work can hold: {str(name)[:40]!r}"
        if not isinstance(info, dict):
            return f"meta.json: the entry for {name} is not an object"
        size, digest = info.get("bytes"), info.get("sha256")
        if type(size) is not int or size < 0:
            return f"meta.json: the size of {name} is not a whole number of bytes"
        if not isinstance(digest, str) or not _SHA256.match(digest):
            return f"meta.json: the sha256 of {name} is not 64 hex digits"
        out[name] = (size, digest)
    return out


def listed_files(record: dict[str, Any]) -> list[str]:
    """The sorted file names of a meta.json record for the index ([] when its file list is not an object)."""
    files = record.get("files")
    return sorted(k for k in files if isinstance(k, str)) if isinstance(files, dict) else []
