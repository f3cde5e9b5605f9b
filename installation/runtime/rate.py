"""The display rate's start-up choices, made once and logged: inference threads, int8 or fp32, the adaptive ladder.

Kept apart from the show loop: `inference_settings_threads` gives the intra-op thread count from the cores this
process may use (installation/core/threads.py; `model.threads` overrides), `with_rate_choices` swaps in the int8
copy where it wins (installation/runtime/precision.py) and builds the adaptive ladder
(installation/runtime/adaptive_models.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from installation.core.config import AppConfig
from installation.core.errors import UserError
from installation.core.threads import inference_threads

log = logging.getLogger(__name__)


def usable_cores() -> int:
    """CPUs this process may run on (a taskset or cgroup affinity counts), else all."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def inference_settings_threads(configured: int) -> int:
    choice = inference_threads(configured, usable_cores())
    log.warning("inference threads: %d (%s)", choice.threads, choice.reason)
    return choice.threads


def with_rate_choices(
    model: Any, cfg: AppConfig, open_path: Callable[[Path], Any]
) -> tuple[Any, Any, dict[str, object]]:
    """(the model to run, the AdaptiveModels or None, what was chosen for metrics.json)."""
    from installation.runtime.adaptive_models import build
    from installation.runtime.precision import best_precision

    m = cfg.model
    result = best_precision(model, open_path, m.int8)
    info: dict[str, object] = {"threads": inference_threads(m.threads, usable_cores()).threads, **result.summary()}
    if not m.adaptive:
        return result.model, None, info
    extra = []
    for name in m.adaptive_levels:
        path = cfg.resolve(name)
        if not path.is_file():
            raise UserError(f"config model.adaptive_levels names {path}, which does not exist: export it or drop it")
        extra.append(open_path(path))
    costs = [result.fp32_ms, result.int8_ms] if result.cheaper else None  # [fp32, int8]: timed just now
    known = [c for c in costs if c is not None] if costs else None
    return result.model, build(result.model, result.cheaper, extra, m.adaptive_hz, known), info
