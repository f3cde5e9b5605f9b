"""Structured, rotating, size-bounded logs: one JSON object a line, in a RotatingFileHandler.

`attach(cfg.logging, resolve)` is called when a show starts and returns a handle to `detach` at its end. Each
record has `t` (UTC ISO time), `level`, `logger`, `msg`, the thread, `exc` for an exception, and any
structured fields passed as `extra={"fields": {...}, "short": "health"}` (`short` replaces the message in
the file, so the fields are not written twice). Disk use is bounded at
(backups + 1) x max_bytes; a log folder that cannot be written leaves console logging only, with one warning.

Repeated lines are rate-limited on every handler the app sets up (the console by `setup_console`, the file by
`attach`): `RepeatFilter` lets the first `burst` records of one kind (logger, level, message with its numbers
blanked) through per `interval_s`, drops the rest, and then writes one line "N similar lines suppressed ...".
Structured records (`short`, e.g. the health line) are periodic by design and always pass.
A flood of hostile datagrams, a failing device retried in a loop, a library warning per packet: each costs a
few lines a window, never thousands a second.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from installation.core.config import LoggingConfig

log = logging.getLogger(__name__)
_DIGITS = re.compile(r"\d+")


@dataclass
class _Window:
    start: float
    passed: int = 0
    suppressed: int = 0
    last: logging.LogRecord | None = None  # the newest suppressed record, quoted in the summary


class RepeatFilter(logging.Filter):
    """The first `burst` records of a kind per `interval_s` pass; the rest are counted and summarised once.

    One instance may sit on several handlers: a record's verdict is decided once and kept on the record. The
    summary for a window is written when the window is over and any record is logged, or on `flush()`; it goes
    to the suppressed records' logger, at their level. At most `max_kinds` kinds are tracked (the oldest window
    is closed early beyond that), so memory stays bounded however varied the flood.
    """

    def __init__(
        self,
        burst: int = 5,
        interval_s: float = 10.0,
        max_kinds: int = 512,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst, self.interval_s, self.max_kinds, self.clock = burst, interval_s, max_kinds, clock
        self.suppressed_total = 0
        self._windows: OrderedDict[tuple[str, int, str], _Window] = OrderedDict()  # oldest window first
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        verdict = getattr(record, "_repeat_verdict", None)
        if verdict is not None:  # already decided by this filter on another handler
            return bool(verdict)
        if getattr(record, "repeat_summary", False) or getattr(record, "short", None):
            return True  # a summary, or a structured record (health): periodic by design
        now = self.clock()
        key = (record.name, record.levelno, _DIGITS.sub("#", str(record.msg)[:200]))
        with self._lock:
            due = self._close(lambda w: now - w.start >= self.interval_s)
            w = self._windows.get(key)
            if w is None:
                w = self._windows[key] = _Window(now)
                if len(self._windows) > self.max_kinds:  # the oldest kind's window closes early
                    due += self._close(lambda _w: True, limit=1)
            ok = w.passed < self.burst
            if ok:
                w.passed += 1
            else:
                w.suppressed += 1
                w.last = record
                self.suppressed_total += 1
        self._emit(due)
        record._repeat_verdict = ok
        return ok

    def flush(self) -> None:
        """Write the summaries of every open window that suppressed something (at the end of a show)."""
        with self._lock:
            due = self._close(lambda w: True)
        self._emit(due)

    def _close(self, ended: Callable[[_Window], bool], limit: int | None = None) -> list[_Window]:
        """Remove the oldest windows while `ended` says so; those that suppressed records are returned."""
        out: list[_Window] = []
        n = 0
        while self._windows and (limit is None or n < limit):
            key, w = next(iter(self._windows.items()))
            if not ended(w):
                break
            del self._windows[key]
            n += 1
            if w.suppressed:
                out.append(w)
        return out

    def _emit(self, windows: list[_Window]) -> None:
        for w in windows:  # outside the lock: handlers may log through this filter again
            assert w.last is not None
            rec = w.last
            try:
                text = rec.getMessage()[:300]
            except Exception:  # noqa: BLE001 - a bad format string must not break logging
                text = str(rec.msg)[:300]
            summary = logging.getLogger(rec.name).makeRecord(
                rec.name,
                rec.levelno,
                rec.pathname,
                rec.lineno,
                "%d similar lines suppressed in %.0f s, the last: %s",
                (w.suppressed, self.clock() - w.start, text),
                None,
                extra={"repeat_summary": True, "fields": {"suppressed": w.suppressed}},
            )
            logging.getLogger(rec.name).handle(summary)


REPEATS = RepeatFilter()  # the app's one filter, on the console and on the file handler


def setup_console(verbose: bool = False) -> None:
    """Console logging for run.py, with repeated lines rate-limited (only on the handler made here: a host that
    set up logging already, such as a test runner, keeps its own handlers untouched)."""
    before = list(logging.getLogger().handlers)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for h in logging.getLogger().handlers:
        if h not in before and REPEATS not in h.filters:
            h.addFilter(REPEATS)


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
    handler.addFilter(REPEATS)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > handler.level or root.level == logging.NOTSET:
        root.setLevel(handler.level)
    log.info("logging to %s (rotated at %d bytes, %d backups)", path, cfg.max_bytes, cfg.backups)
    return handler


def detach(handler: logging.Handler | None) -> None:
    REPEATS.flush()  # the summaries of what was suppressed go to the file before it closes
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()
