"""The watchdog: owns the worker threads and restarts a failed one with capped exponential back-off.

A worker is a body `body(stop, beat)` that runs until `stop` is set; it calls `beat()` at least every few
seconds (each loop turn). If the body raises (or returns while it should keep running), the supervisor marks
it down, waits the back-off (0.5 s, 1 s, 2 s ... capped at `max_backoff_s`; reset once a run lasted
`healthy_after_s`), and calls the body again on the same thread. The display is never involved: the main
loop keeps rendering the last good frame and reads `down()` for a gentle status line. A worker that stops
beating for `stall_after_s` is reported as stalled (Python cannot kill a thread; the report says which).

Fault injection for tests and the soak: `inject(name, exc)` makes that worker's next `beat()` raise `exc`,
a real exception inside the worker's own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Body = Callable[[threading.Event, Callable[[], None]], None]


@dataclass
class Worker:
    name: str
    body: Body
    restart_on_exit: bool = True
    watch_stall: bool = True  # False for a worker that blocks on a device between events (a pen tablet)
    state: str = "starting"  # starting, up, down, stopped
    restarts: int = 0
    last_error: str = ""
    last_beat: float = field(default_factory=time.monotonic)
    down_since: float | None = None
    thread: threading.Thread | None = None
    _fault: BaseException | None = None

    def beat(self) -> None:
        self.last_beat = time.monotonic()
        fault, self._fault = self._fault, None
        if fault is not None:
            raise fault


class Supervisor:
    def __init__(
        self,
        stop: threading.Event,
        initial_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        healthy_after_s: float = 60.0,
        stall_after_s: float = 10.0,
    ) -> None:
        self.stop = stop
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.healthy_after_s = healthy_after_s
        self.stall_after_s = stall_after_s
        self.workers: dict[str, Worker] = {}
        self._lock = threading.Lock()

    def add(self, name: str, body: Body, restart_on_exit: bool = True, watch_stall: bool = True) -> Worker:
        """Start a supervised worker now (a finished worker of the same name is replaced)."""
        with self._lock:
            old = self.workers.get(name)
            if old is not None and old.thread is not None and old.thread.is_alive():
                raise RuntimeError(f"worker {name!r} is already running")
            w = Worker(name, body, restart_on_exit, watch_stall)
            if old is not None:
                w.restarts = old.restarts
            w.thread = threading.Thread(target=self._run, args=(w,), name=f"sup-{name}", daemon=True)
            self.workers[name] = w
        w.thread.start()
        return w

    def _run(self, w: Worker) -> None:
        backoff = self.initial_backoff_s
        while not self.stop.is_set():
            started = time.monotonic()
            w.last_beat, w.state, w.down_since = started, "up", None
            try:
                w.body(self.stop, w.beat)
                if self.stop.is_set() or not w.restart_on_exit:
                    break
                w.last_error = "returned while the show was running"
            except Exception as e:  # the point of a watchdog: any failure of the worker, never of the show
                w.last_error = f"{type(e).__name__}: {e}"[:300]
                log.error("worker %s failed: %s", w.name, w.last_error, exc_info=not isinstance(e, OSError))
            if time.monotonic() - started >= self.healthy_after_s:
                backoff = self.initial_backoff_s
            w.state, w.down_since = "down", time.monotonic()
            log.warning("worker %s down; restart %d in %.1f s", w.name, w.restarts + 1, backoff)
            if self.stop.wait(backoff):
                break
            w.restarts += 1
            backoff = min(self.max_backoff_s, backoff * 2)
        w.state = "stopped"

    def inject(self, name: str, fault: BaseException) -> None:
        """Test hook: the worker's next beat raises `fault` inside its own thread."""
        self.workers[name]._fault = fault

    def down(self, now: float | None = None) -> list[str]:
        """Names of workers that are down or stalled right now."""
        now = time.monotonic() if now is None else now
        out = []
        for w in list(self.workers.values()):
            stalled = w.watch_stall and w.state == "up" and now - w.last_beat > self.stall_after_s
            if w.state == "down" or stalled:
                out.append(w.name)
        return out

    def status(self) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        stalled = set(self.down(now))
        return {
            w.name: {
                "state": "stalled" if w.state == "up" and w.name in stalled else w.state,
                "restarts": w.restarts,
                "last_error": w.last_error,
            }
            for w in list(self.workers.values())
        }

    @property
    def restarts(self) -> int:
        return sum(w.restarts for w in list(self.workers.values()))

    def join(self, timeout: float = 2.0) -> None:
        end = time.monotonic() + timeout
        for w in list(self.workers.values()):
            if w.thread is not None:
                w.thread.join(max(0.0, end - time.monotonic()))
