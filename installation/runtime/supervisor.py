"""The watchdog: owns the worker threads, restarts a failed one with back-off, replaces a stuck one.

A worker is a body `body(stop, beat)` that runs until `stop` is set; it calls `beat()` at least every few
seconds (each loop turn). If the body raises (or returns while it should keep running), the supervisor marks
it down, waits the back-off (0.5 s, 1 s, 2 s ... capped at `max_backoff_s`; reset once a run lasted
`healthy_after_s`), and calls the body again on the same thread. The display is never involved: the main
loop keeps rendering the last good frame and reads `down()` for a gentle status line.

A worker that stops beating for `stall_after_s` is *replaced*: a thread cannot be killed, so the stuck one is
abandoned (its next `beat()` raises `Abandoned`, and `Abandoned` is also raised in it asynchronously, which
ends a thread caught in a Python loop at once and one blocked in a C call when that call returns), the
worker's `release` hook frees what the stuck run holds (the OSC server closes its socket; the camera worker
owns its handle per run, so a fresh run opens a fresh one), and the body starts again on a fresh thread.
Replacements are counted per worker (`replaced`, in the health line and metrics). At most
`MAX_ABANDONED` abandoned threads of one worker may still be alive; past that it is only reported stalled.
All threads are daemons and `join` is bounded, so a stuck thread never holds the show's exit.

A worker added with `interrupt=False` (the archive writer: a slow disk is not a stuck thread, and a save
interrupted half-way would lose the work) is only abandoned: it ends at its next beat. The asynchronous
exception is a trade-off: it frees the core a spinning thread would burn for the rest of the
day, but landing just after a lock was taken (a stuck thread woken inside `logging` or a `with lock:`) it can
leave that lock held. Should that freeze the main loop, the systemd watchdog (WATCHDOG=1 from the main loop,
see installation.adapters.sd_notify) restarts the process.

Fault injection for tests and the soak: `inject(name, exc)` makes that worker's next `beat()` raise `exc`,
a real exception inside the worker's own thread; `stall(name, seconds)` makes it block there instead.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Body = Callable[[threading.Event, Callable[[], None]], None]
MAX_ABANDONED = 4  # stuck threads of one worker still alive before replacing stops (a hang in C that never returns)


class Abandoned(BaseException):
    """Raised inside a replaced worker's thread so it ends instead of competing with its replacement.

    A BaseException, so a body's `except Exception` does not swallow it."""


@dataclass
class _Stall:
    seconds: float


@dataclass
class Worker:
    name: str
    body: Body
    restart_on_exit: bool = True
    watch_stall: bool = True  # False for a worker that blocks on a device between events (a pen tablet)
    release: Callable[[], None] | None = None  # frees what a stuck run holds (its socket) before a fresh run
    interrupt: bool = True  # raise Abandoned in a replaced thread at once (False: let its current call finish)
    state: str = "starting"  # starting, up, down, stopped
    restarts: int = 0  # runs after a failure
    replaced: int = 0  # fresh threads after a stall
    last_error: str = ""
    last_beat: float = field(default_factory=time.monotonic)
    down_since: float | None = None
    thread: threading.Thread | None = None
    generation: int = 0  # the run whose thread is current; a beat from an older one raises Abandoned
    abandoned: list[threading.Thread] = field(default_factory=list)
    _fault: BaseException | _Stall | None = None

    def beat(self, generation: int | None = None) -> None:
        if generation is not None and generation != self.generation:
            raise Abandoned(self.name)
        self.last_beat = time.monotonic()
        fault, self._fault = self._fault, None
        if isinstance(fault, _Stall):
            time.sleep(fault.seconds)  # a thread stuck in a call that neither returns nor beats
        elif fault is not None:
            raise fault

    def stuck(self) -> list[threading.Thread]:
        """Abandoned threads still alive (pruned by the supervisor, under its lock, at the next replacement)."""
        return [t for t in self.abandoned if t.is_alive()]


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
        self._watcher: threading.Thread | None = None

    def add(
        self,
        name: str,
        body: Body,
        restart_on_exit: bool = True,
        watch_stall: bool = True,
        release: Callable[[], None] | None = None,
        interrupt: bool = True,
    ) -> Worker:
        """Start a supervised worker now (a finished worker of the same name is replaced).

        `release` frees what a stuck run holds before its replacement starts; `interrupt=False` spares a
        replaced thread the asynchronous exception, so the call it is in (a slow save) finishes first."""
        with self._lock:
            old = self.workers.get(name)
            if old is not None and old.thread is not None and old.thread.is_alive():
                raise RuntimeError(f"worker {name!r} is already running")
            w = Worker(name, body, restart_on_exit, watch_stall, release, interrupt)
            if old is not None:
                w.restarts, w.replaced, w.abandoned = old.restarts, old.replaced, old.stuck()
            w.thread = threading.Thread(target=self._run, args=(w, 0), name=f"sup-{name}", daemon=True)
            self.workers[name] = w
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="sup-watch", daemon=True)
                self._watcher.start()
        w.thread.start()
        return w

    def _run(self, w: Worker, generation: int) -> None:
        try:
            try:
                self._loop(w, generation)
            except Abandoned:  # from its own beat, or sent by _replace: the other may still be pending
                _raise_in(threading.current_thread(), None)
        except Abandoned:
            pass
        if w.generation == generation:
            w.state = "stopped"
        else:
            log.info("the abandoned thread of worker %s has ended", w.name)

    def _loop(self, w: Worker, generation: int) -> None:
        beat = functools.partial(w.beat, generation)
        backoff = self.initial_backoff_s
        while not self.stop.is_set() and w.generation == generation:
            started = time.monotonic()
            w.last_beat, w.state, w.down_since = started, "up", None
            try:
                w.body(self.stop, beat)
                if self.stop.is_set() or not w.restart_on_exit:
                    break
                w.last_error = "returned while the show was running"
            except Exception as e:  # the point of a watchdog: any failure of the worker, never of the show
                if w.generation != generation:
                    raise Abandoned(w.name) from e  # the failure of a thread already replaced: not counted
                w.last_error = f"{type(e).__name__}: {e}"[:300]
                log.error("worker %s failed: %s", w.name, w.last_error, exc_info=not isinstance(e, OSError))
            if w.generation != generation:
                raise Abandoned(w.name)
            if time.monotonic() - started >= self.healthy_after_s:
                backoff = self.initial_backoff_s
            w.state, w.down_since = "down", time.monotonic()
            log.warning("worker %s down; restart %d in %.1f s", w.name, w.restarts + 1, backoff)
            if self.stop.wait(backoff):
                break
            w.restarts += 1
            backoff = min(self.max_backoff_s, backoff * 2)
        if w.generation != generation:
            raise Abandoned(w.name)

    # -- stalls -----------------------------------------------------------------------------------------------
    def _watch(self) -> None:
        period = max(0.02, min(1.0, self.stall_after_s / 4))
        while not self.stop.wait(period):
            for w in list(self.workers.values()):
                if self._stalled(w, time.monotonic()):
                    self._replace(w)

    def _stalled(self, w: Worker, now: float) -> bool:
        return w.watch_stall and w.state == "up" and now - w.last_beat > self.stall_after_s

    def _replace(self, w: Worker) -> None:
        """Abandon the stuck thread of `w` and start its body on a fresh one."""
        with self._lock:
            if not self._stalled(w, time.monotonic()) or self.stop.is_set():
                return
            quiet_s = time.monotonic() - w.last_beat
            if len(w.stuck()) >= MAX_ABANDONED:
                if w.last_error != "stalled: too many stuck threads to replace it again":
                    w.last_error = "stalled: too many stuck threads to replace it again"
                    log.error("worker %s stalled; %d stuck threads already, not replacing it", w.name, MAX_ABANDONED)
                return
            w.abandoned = w.stuck()
            old = w.thread
            w.generation += 1
            w.replaced += 1
            w.last_error = f"stalled: no beat for {quiet_s:.1f} s; replaced by a fresh thread"
            log.error("worker %s stalled (no beat for %.1f s): abandoned its thread, starting a fresh one (%d)",
                      w.name, quiet_s, w.replaced)  # fmt: skip
            if old is not None and old.is_alive():
                w.abandoned.append(old)
                if w.interrupt:
                    _raise_in(old, Abandoned)
            if w.release is not None:
                _release(w)
            w.state, w.last_beat = "starting", time.monotonic()
            w.thread = threading.Thread(
                target=self._run, args=(w, w.generation), name=f"sup-{w.name}-{w.replaced}", daemon=True
            )
            w.thread.start()

    # -- test hooks -------------------------------------------------------------------------------------------
    def inject(self, name: str, fault: BaseException) -> None:
        """Test hook: the worker's next beat raises `fault` inside its own thread."""
        self.workers[name]._fault = fault

    def stall(self, name: str, seconds: float) -> None:
        """Test hook: the worker's next beat blocks for `seconds` (a stuck call: no beats, no return)."""
        self.workers[name]._fault = _Stall(seconds)

    # -- reports ----------------------------------------------------------------------------------------------
    def down(self, now: float | None = None) -> list[str]:
        """Names of workers that are down or stalled right now."""
        now = time.monotonic() if now is None else now
        return [w.name for w in list(self.workers.values()) if w.state == "down" or self._stalled(w, now)]

    def status(self) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        return {
            w.name: {
                "state": "stalled" if self._stalled(w, now) else w.state,
                "restarts": w.restarts,
                "replaced": w.replaced,
                "stuck_threads": len(w.stuck()),
                "last_error": w.last_error,
            }
            for w in list(self.workers.values())
        }

    @property
    def restarts(self) -> int:
        return sum(w.restarts for w in list(self.workers.values()))

    @property
    def replaced(self) -> int:
        return sum(w.replaced for w in list(self.workers.values()))

    def stuck(self) -> list[str]:
        """Names of threads still alive that were abandoned or did not stop when asked."""
        out = [t.name for w in list(self.workers.values()) for t in w.stuck()]
        if self.stop.is_set():
            out += [w.thread.name for w in list(self.workers.values()) if w.thread is not None and w.thread.is_alive()]
        return out

    def join(self, timeout: float = 2.0) -> None:
        """Wait for the current threads, `timeout` in all (abandoned threads are not waited for)."""
        end = time.monotonic() + timeout
        for w in list(self.workers.values()):
            if w.thread is not None:
                w.thread.join(max(0.0, end - time.monotonic()))


def _raise_in(thread: threading.Thread, exc: type[BaseException] | None) -> None:
    """Raise `exc` in another thread at its next Python instruction, or clear a pending one (None).

    CPython's PyThreadState_SetAsyncExc; best effort, never raises."""
    if thread.ident is None:
        return
    try:
        arg = ctypes.py_object(exc) if exc is not None else None  # None: a NULL pointer, which clears
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), arg)
    except Exception as e:  # not CPython, or the thread is gone: abandoning it is all that is left
        log.debug("could not interrupt thread %s: %s", thread.name, e)


def _release(w: Worker) -> None:
    """Run the worker's release hook on its own thread, waiting at most 1 s (a hook may block on the stuck run)."""
    assert w.release is not None
    hook = w.release

    def run() -> None:
        try:
            hook()
        except Exception as e:  # a socket already closed, a device gone: the fresh run copes
            log.warning("worker %s: releasing the stuck run's resources failed: %s", w.name, e)

    t = threading.Thread(target=run, name=f"sup-release-{w.name}", daemon=True)
    t.start()
    t.join(1.0)
