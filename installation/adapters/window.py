"""Which SDL video driver a window got, and one clear warning when nobody can see it.

Without a screen (no DISPLAY / WAYLAND_DISPLAY), SDL falls back to its offscreen driver: the window opens, is
drawn every frame and is shown nowhere. That is right for `--headless` (which asks for the dummy driver on
purpose) and wrong for anything meant to be looked at, so those callers warn once per process.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

INVISIBLE_DRIVERS = ("offscreen", "dummy")
_warned: set[str] = set()


def warn_if_invisible(driver: str, what: str, instead: str) -> bool:
    """True when `driver` shows nothing; the first time for each `what`, one warning saying what to do."""
    if driver not in INVISIBLE_DRIVERS:
        return False
    if what not in _warned:
        _warned.add(what)
        log.warning(
            "no display: %s runs invisibly on SDL's %r video driver; %s, or set DISPLAY to a screen (e.g. DISPLAY=:0)",
            what,
            driver,
            instead,
        )
    return True
