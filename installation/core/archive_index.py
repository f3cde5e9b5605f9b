"""Archive names and index lines, as pure functions (no file system here).

A work id is `YYYYMMDD-HHMMSS-ffffff-KIND-N`: sortable by time, unique within a process, and made only of
`[a-z0-9-]`, so it can never name a path outside the archive. File names inside a work are sanitised the same
way (letters, digits, `.`, `_`, `-`; no leading dot; at most 64 characters). The index is JSON Lines, one
object per saved work; a reader skips a torn or foreign line instead of failing.
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
