"""The one `/state/error` line of a show fed by several sources (commands, /model, /mode, NDI, the archive, the
OSC server): the newest error wins.

Each source keeps its own last error (a string, empty when it has none). Polled in the show's state loop,
`NewestError.update` notes when each source's error last changed and returns the error that changed most
recently among those still set, so a `/model` failure is seen even when an older `/param` error is still held;
when the newest is cleared, the next newest still set is shown again. Pure: no clock, the order of changes is the
order of calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class NewestError:
    _seen: dict[str, tuple[str, int]] = field(default_factory=dict)  # source → (its error, the tick it changed)
    _tick: int = 0

    def update(self, errors: Mapping[str, str]) -> str:
        """errors: each source's current error ("" for none); returns the newest one still set, or ""."""
        for source, text in errors.items():
            if self._seen.get(source, ("", 0))[0] != text:
                self._tick += 1
                self._seen[source] = (text, self._tick)
        live = [(tick, text) for source, (text, tick) in self._seen.items() if text and errors.get(source) == text]
        return max(live)[1] if live else ""
