"""How many intra-op threads inference gets: chosen once from the cores this process may use.

The render loop (pygame, the frame writer, the OSC server) needs a core of its own to keep the display rate,
so inference gets the cores left over, at least one and at most `MAX_THREADS` (a 256² U-Net gains little past
four threads and more threads only fight the renderer). On a 2-core machine that is 1 inference thread:
measured under the running show, 2 threads made both the display and the AI rate worse there (Benchmarks).
`model.threads` > 0 in the config overrides the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_THREADS = 4
RENDER_CORES = 1  # kept for the display loop


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    reason: str


def inference_threads(configured: int, cores: int) -> ThreadChoice:
    """configured: model.threads (0 = choose); cores: the CPUs this process may run on."""
    if configured > 0:
        return ThreadChoice(configured, f"model.threads = {configured}")
    cores = max(1, cores)
    n = max(1, min(MAX_THREADS, cores - RENDER_CORES))
    return ThreadChoice(n, f"{cores} cores, {RENDER_CORES} kept for the display loop (at most {MAX_THREADS})")
