"""Defaults that fit the machine: torch threads from the cores the process may use."""

from __future__ import annotations

import os


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def auto_threads(cores: int | None = None) -> int:
    """1 on ≤ 2 cores (a second torch thread there spin-waits against the display and other work: measured 6×
    slower on the 2-core machine), else half the cores, at most 4 (steering's tensors are small)."""
    n = usable_cores() if cores is None else cores
    return 1 if n <= 2 else min(4, n // 2)
