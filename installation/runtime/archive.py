"""The archive of finished works (minimal stand-in for issue #10's archive, same API).

`Archive(root).save(kind, files, meta)` writes one work as a folder ROOT/<work id>/ holding the files and
meta.json. It is written into a temporary folder inside ROOT first and renamed into place, so a crash never
leaves half a work; file names are sanitised to plain names.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(name: str) -> str:
    cleaned = _SAFE.sub("_", Path(name).name).lstrip(".")
    return cleaned or "file"


class Archive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, kind: str, files: dict[str, bytes], meta: dict[str, Any]) -> str:
        """Write one work atomically; returns its id."""
        self.root.mkdir(parents=True, exist_ok=True)
        work_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{_safe(kind)}-{uuid.uuid4().hex[:6]}"
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
        for name, data in files.items():
            (tmp / _safe(name)).write_bytes(data)
        record = {"id": work_id, "kind": kind, "files": sorted(_safe(n) for n in files), **meta}
        (tmp / "meta.json").write_text(json.dumps(record, indent=2, default=str))
        os.replace(tmp, self.root / work_id)
        return work_id
