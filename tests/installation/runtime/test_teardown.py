"""The shared shutdown budget of sitter and duet mode: a stuck worker cannot hold the exit past it."""

from __future__ import annotations

import logging
import threading
import time

from installation.runtime.teardown import SHUTDOWN_S, close_show_io, join_within


def _worker(name: str, stop: threading.Event, ignore_stop: bool) -> threading.Thread:
    release = threading.Event()

    def body() -> None:
        (release if ignore_stop else stop).wait(30)

    th = threading.Thread(target=body, name=name, daemon=True)
    th.release = release  # type: ignore[attr-defined]
    return th


def test_stuck_workers_share_one_budget_and_are_named() -> None:
    stop = threading.Event()
    threads = [_worker(f"stuck-{i}", stop, ignore_stop=True) for i in range(4)] + [_worker("polite", stop, False)]
    for th in threads:
        th.start()
    stop.set()
    t0 = time.monotonic()
    left = join_within(threads, 0.4)
    took = time.monotonic() - t0
    for th in threads:
        th.release.set()  # type: ignore[attr-defined]
    assert left == ["stuck-0", "stuck-1", "stuck-2", "stuck-3"]
    # four stuck threads with a per-thread timeout would take 4 × the budget; shared, it is the budget once
    assert took < 4 * 0.4


def test_polite_workers_and_unstarted_ones_leave_nothing_behind() -> None:
    stop = threading.Event()
    started = [_worker(f"w{i}", stop, False) for i in range(3)]
    for th in started:
        th.start()
    never = _worker("never-started", stop, False)
    stop.set()
    assert join_within([*started, never], 2.0) == []


def test_close_show_io_logs_the_stuck_worker(monkeypatch, caplog) -> None:  # noqa: ANN001
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    import pygame

    pygame.display.init()
    surface = pygame.display.set_mode((32, 32))
    stop = threading.Event()
    stuck = _worker("sketcher", stop, ignore_stop=True)
    stuck.start()
    stop.set()
    with caplog.at_level(logging.WARNING, logger="installation.runtime.teardown"):
        close_show_io([stuck], None, None, None, surface, budget_s=0.2)
    stuck.release.set()  # type: ignore[attr-defined]
    assert "left behind: sketcher" in caplog.text
    assert not pygame.display.get_init()
    assert SHUTDOWN_S <= 5.0
