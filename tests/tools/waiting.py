"""Polling a condition in tests that watch real threads, sockets and processes."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(
    cond: Callable[[], bool], timeout: float, poll_s: float = 0.02, tick: Callable[[], None] | None = None
) -> bool:
    """True as soon as `cond()` holds, else its value once `timeout` seconds have passed; `tick()` before each look."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if tick is not None:
            tick()
        if cond():
            return True
        time.sleep(poll_s)
    return cond()
