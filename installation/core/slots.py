"""One-slot, latest-value hand-off between threads.

A producer `put`s; the value replaces whatever was there (older values are dropped, never queued).
A consumer `take`s the newest value it has not seen yet, waiting up to a timeout. `dropped` counts values
overwritten before anyone took them, so back-pressure is visible in the metrics instead of hidden.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._value: T | None = None
        self._version = 0  # increases on every put
        self._taken = 0  # version last handed out by take()
        self.dropped = 0

    def put(self, value: T) -> None:
        with self._cond:
            if self._version > self._taken:
                self.dropped += 1
            self._value = value
            self._version += 1
            self._cond.notify_all()

    def take(self, timeout: float | None = None) -> T | None:
        """The newest unseen value, or None if none arrives within `timeout` seconds (0: don't wait)."""
        with self._cond:
            if self._version == self._taken and timeout != 0:
                self._cond.wait_for(lambda: self._version > self._taken, timeout)
            if self._version == self._taken:
                return None
            self._taken = self._version
            return self._value

    def peek(self) -> T | None:
        """The newest value whether or not it was taken (does not mark it seen)."""
        with self._cond:
            return self._value

    @property
    def version(self) -> int:
        with self._cond:
            return self._version
