"""Adaptive quality: step down a ladder of models when inference cannot keep the AI rate, back up with room.

Pure logic (no clocks, no models). The ladder's levels are ordered from the best answer (level 0) to the
cheapest; `costs` are their per-call times measured at start on this machine (ms). The runtime feeds every
answer's inference time to `observe`; each full window of answers is judged by its median:
- over budget (median > 1000 / target_hz ms: the worker cannot answer `target_hz` times a second) for
  `down_after` windows in a row → one level down;
- room: the level above would fit (its start cost × the load seen now, i.e. median / this level's start
  cost) within `room` × budget for `up_after` windows in a row → one level up.
The gap between the two thresholds (budget vs room × budget) and the longer wait to go up are the hysteresis:
a load near the threshold cannot make it switch back and forth. At the cheapest level, still over budget, a
single "stuck" step is returned (the runtime says so once) until a window has room again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median


@dataclass(frozen=True)
class AdaptivePolicy:
    target_hz: float = 20.0  # AI updates a second to keep
    window: int = 10  # answers judged together
    down_after: int = 2  # windows over budget before stepping down
    up_after: int = 5  # windows with room before stepping up
    room: float = 0.7  # the level above must fit within this share of the budget

    @property
    def budget_ms(self) -> float:
        return 1000.0 / self.target_hz


@dataclass(frozen=True)
class Step:
    level: int  # the level to run from now on
    direction: str  # "down", "up" or "stuck" (over budget at the cheapest level: nothing to switch)
    median_ms: float
    budget_ms: float

    def describe(self, names: list[str]) -> str:
        rate = 1000.0 / self.budget_ms
        if self.direction == "stuck":
            return (
                f"inference takes {self.median_ms:.0f} ms (> {self.budget_ms:.0f} ms for {rate:.0f} AI updates/s) "
                f"even with {names[self.level]}, the cheapest level: the AI rate stays below {rate:.0f}/s"
            )
        if self.direction == "down":
            return (
                f"inference takes {self.median_ms:.0f} ms (> {self.budget_ms:.0f} ms for {rate:.0f} AI updates/s): "
                f"lowering quality to {names[self.level]}"
            )
        return f"room again (inference {self.median_ms:.0f} ms): back to {names[self.level]}"


@dataclass
class AdaptiveLadder:
    costs: list[float]  # start cost (ms) of each level, best first
    policy: AdaptivePolicy = field(default_factory=AdaptivePolicy)
    level: int = 0
    _samples: list[float] = field(default_factory=list)
    _over: int = 0
    _room: int = 0
    _stuck_said: bool = False

    def __post_init__(self) -> None:
        if not self.costs or any(not c > 0 for c in self.costs):
            raise ValueError("every level needs a positive start cost")
        if not 0 <= self.level < len(self.costs):
            raise ValueError(f"level {self.level} is not on a ladder of {len(self.costs)}")

    def observe(self, inference_ms: float) -> Step | None:
        """One answer's inference time; a Step when the level changes (or, once, when it cannot)."""
        self._samples.append(inference_ms)
        if len(self._samples) < self.policy.window:
            return None
        m = median(self._samples)
        self._samples.clear()
        budget = self.policy.budget_ms
        load = m / self.costs[self.level]  # how much slower than at start this level runs now
        over = m > budget
        room = self.level > 0 and self.costs[self.level - 1] * load <= self.policy.room * budget
        self._over = self._over + 1 if over else 0
        self._room = self._room + 1 if room else 0
        if not over:
            self._stuck_said = False
        if self._over >= self.policy.down_after:
            self._over = 0
            if self.level + 1 < len(self.costs):
                self.level += 1
                self._room = 0
                return Step(self.level, "down", m, budget)
            if not self._stuck_said:
                self._stuck_said = True
                return Step(self.level, "stuck", m, budget)
            return None
        if self._room >= self.policy.up_after:
            self._room = 0
            self.level -= 1
            return Step(self.level, "up", m, budget)
        return None
