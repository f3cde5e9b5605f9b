"""Structured, rotating, size-bounded logs: one JSON object a line, in a RotatingFileHandler.

`attach(cfg.logging, resolve)` is called when a show starts and returns a handle to `detach` at its end. Each
record has `t` (UTC ISO time), `level`, `logger`, `msg`, the thread, `exc` for an exception, and any
structured fields passed as `extra={"fields": {...}, "short": "health"}` (`short` replaces the message in
the file, so the fields are not written twice). Disk use is bounded at
(backups + 1) x max_bytes; a log folder that cannot be written leaves console logging only, with one warning.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from installation.core.config import LoggingConfig

log = logging.getLogger(__name__)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "t": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": getattr(record, "short", None) or record.getMessage(),
            "thread": record.threadName,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def attach(cfg: LoggingConfig, resolve: Callable[[str], Path]) -> logging.Handler | None:
    """Add the rotating JSON-lines file handler to the root logger; None if logging to a file is off or fails."""
    if not cfg.file:
        return None
    path = resolve(cfg.file)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=cfg.max_bytes, backupCount=cfg.backups, encoding="utf-8", delay=False
        )
    except OSError as e:
        log.warning("cannot write logs to %s (%s): logging to the console only; set logging.file", path, e)
        return None
    handler.setFormatter(JsonFormatter())
    handler.setLevel(getattr(logging, cfg.level))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > handler.level or root.level == logging.NOTSET:
        root.setLevel(handler.level)
    log.info("logging to %s (rotated at %d bytes, %d backups)", path, cfg.max_bytes, cfg.backups)
    return handler


def detach(handler: logging.Handler | None) -> None:
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()
