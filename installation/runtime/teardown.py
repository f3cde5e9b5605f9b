"""The end of a show loop that sitter and duet mode share: workers joined, OSC closed, frame files finished."""

from __future__ import annotations

import threading
from typing import Any


def close_show_io(threads: list[threading.Thread], control: Any, state_out: Any, frames_out: Any, surface: Any) -> None:  # noqa: ANN401
    """Join the loop's worker threads (2 s each), stop OSC control and state, finish frame files, close the window."""
    import pygame

    for th in threads:
        th.join(timeout=2)
    if control is not None:
        control.stop()
    if state_out is not None:
        state_out.close()
    if frames_out is not None:
        frames_out.close(surface)
    pygame.display.quit()
