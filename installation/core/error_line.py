"""The one `/state/error` line of a show fed by several sources (commands, /model, /mode, NDI, the archive, the
OSC server): the newest error wins.

Each source keeps its own last error (a string, empty when it has none). Polled in the show's state loop,
`NewestError.update` notes when each source's error last changed and returns the error that changed most
recently among those still set, so a `/model` failure is seen even when an older `/param` error is still held;
when the newest is cleared, the next newest still set is shown again. A source may report (error, count) instead
of the bare text, count rising with every error it reports: then the same error made again (a second bad /param
with the same text, after another source's error) is new and is shown. Pure: no clock, the order of changes is
the order of calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Report = str | tuple[str, int]  # an error's text ("" for none), or (text, how many errors the source has made)


@dataclass
class NewestError:
    _seen: dict[str, tuple[Report, int]] = field(default_factory=dict)  # source → (its report, the tick it changed)
    _tick: int = 0

    def update(self, errors: Mapping[str, Report]) -> str:
        """errors: each source's current report; returns the newest error text still set, or ""."""
        for source, report in errors.items():
            if self._seen.get(source, ("", 0))[0] != report:
                self._tick += 1
                self._seen[source] = (report, self._tick)
        live = [
            (tick, _text(report))
            for source, (report, tick) in self._seen.items()
            if _text(report) and errors.get(source) == report
        ]
        return max(live)[1] if live else ""


def _text(report: Report) -> str:
    return report if isinstance(report, str) else report[0]
