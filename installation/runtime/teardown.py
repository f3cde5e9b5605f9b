"""The end of a show loop that sitter and duet mode share: workers joined, OSC closed, frame files finished."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

SHUTDOWN_S = 3.5  # every join after a stop shares this budget: SIGTERM ends the show within 5 s


def join_within(threads: list[threading.Thread], budget_s: float) -> list[str]:
    """Join the threads in turn, all within one budget; return the names of those still running after it."""
    end = time.monotonic() + budget_s
    for th in threads:
        if th.ident is not None:  # a thread that never started cannot be joined
            th.join(timeout=max(0.0, end - time.monotonic()))
    return [th.name for th in threads if th.is_alive()]


def close_show_io(
    threads: list[threading.Thread],
    control: Any,  # noqa: ANN401
    state_out: Any,  # noqa: ANN401
    frames_out: Any,  # noqa: ANN401
    surface: Any,  # noqa: ANN401
    budget_s: float = SHUTDOWN_S,
) -> None:
    """Join the loop's worker threads within one shared budget, stop OSC control and state, finish frame files,
    close the window. A worker stuck past the budget is named in the log and left (they are daemon threads)."""
    import pygame

    if left_behind := join_within(threads, budget_s):
        log.warning("threads still busy at shutdown, left behind: %s", ", ".join(left_behind))
    if control is not None:
        control.stop()
    if state_out is not None:
        state_out.close()
    if frames_out is not None:
        frames_out.close(surface)
    pygame.display.quit()
