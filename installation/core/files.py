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
