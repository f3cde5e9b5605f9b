"""Writing a file so that a reader (or a crash) sees the old content or the new, never half of it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from installation.core.errors import UserError


def write_text_atomic(path: Path, text: str, what: str = "", fix: str = "choose a writable path") -> None:
    """A temporary file beside the target, fsync, then rename over it. An OSError becomes one UserError line:
    "cannot write {what} {path} (reason): {fix}"."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        name = f"{what} {path}" if what else str(path)
        raise UserError(f"cannot write {name} ({e.strerror or e}): {fix}") from e


def check_writable(path: Path | None, flag: str, folder: bool = False) -> None:
    """Before long work: can `path` (a file, or with folder=True a folder) be written? Creates the missing
    parent folders, probes with a file that is removed again; else one UserError line naming the flag, so that a
    benchmark or a steering run is not lost at its end to a path that could never have been written."""
    if path is None:
        return
    path = Path(path)
    where = path if folder else path.parent
    if not folder and path.is_dir():
        raise UserError(f"{flag} {path} is a folder: give a file name, e.g. {path / 'out'}")
    probe = where / f".probe.{os.getpid()}.tmp"
    try:
        where.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UserError(f"cannot write {flag} {path} ({e.strerror or e}): choose a writable {flag} path") from e
