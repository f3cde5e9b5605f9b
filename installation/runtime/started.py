"""When this process's interpreter started, the zero of `first_frame_s` in metrics.json.

run.py notes the wall-clock time right after its standard-library imports (`note`), so the figure counts the
show's imports and start-up and not what ran in the same process before Python was exec'd: scripts/demo.sh runs
scripts/setup.sh first, and the process start time the OS keeps (psutil's create_time) would include it. The
interpreter's own start-up before run.py's first line (some 20-50 ms) is not counted. Without a note (a test or
a benchmark that builds a show itself) the OS's process start time is used.
"""

from __future__ import annotations

_noted: float | None = None


def note(wall_time: float) -> None:
    global _noted
    _noted = wall_time


def interpreter_start() -> float:
    """Unix time the interpreter started running run.py (or the process started, without a note)."""
    if _noted is not None:
        return _noted
    import os

    import psutil

    return float(psutil.Process(os.getpid()).create_time())
