"""`model.backend = "triton"`: a station's model answered by a Triton server, the local model standing by.

`TritonModel` has the local Model's face (`run(sketch) -> image`, `name`, `provider`), so the inference
worker, the HUD and /model do not know which one answers. Latest-value semantics are the worker's: it takes
the newest sketch from its LatestSlot and makes one blocking request at a time, so no stale sketch queues up
anywhere, here or on the server. Tensors are compact: the uint8 sketch goes up, the uint8 RGB image comes back
(the `_u8` model of `run.py export --triton-repo`).

Faults: a request that fails or takes longer than `timeout_s` is answered by the local model (already open and
warm) at once, with one WARNING that names the server and the reason; from then on the local model answers
and the server is asked again every `retry_s` (a ready check, then the sketch itself), and when it answers
the station is back on it, with one WARNING saying so. The round trip of each remote answer is kept for the
health line and /state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

import numpy as np

from installation.runtime.triton_client import Transport, TransportError

log = logging.getLogger(__name__)


class TritonModel:
    def __init__(
        self,
        transport: Transport,
        model: str,
        url: str,
        local: Any,  # noqa: ANN401 - the runtime's Model, the fall-back
        retry_s: float = 1.0,
        input_name: str = "sketch_u8",
        output_name: str = "image_u8",
    ) -> None:
        self.transport = transport
        self.triton_model = model
        self.url = url
        self.local = local
        self.retry_s = retry_s
        self.input_name, self.output_name = input_name, output_name
        self.name = f"{model}@triton"
        self.input_size = local.input_size
        self.remote = True  # answering from the server now
        self.remote_answers = 0
        self.local_answers = 0
        self.fallbacks = 0  # times the server was lost
        self.returns = 0  # times it came back
        self.last_error = ""
        self.round_trips: deque[float] = deque(maxlen=512)  # ms of the recent remote answers
        self._next_try = 0.0
        self._lock = threading.Lock()  # stats read by the health line while the worker writes them

    @property
    def provider(self) -> str:
        if self.remote:
            return f"triton {self.url}"
        return f"{self.local.provider} (local fall-back: triton {self.url} gone)"

    @property
    def path(self) -> Any:  # noqa: ANN401 - the local file, as /state's model block reports it
        return self.local.path

    @property
    def sha256(self) -> str:
        return str(self.local.sha256)

    def run(self, sketch: np.ndarray) -> np.ndarray:
        """(S, S) uint8 sketch → (S, S, 3) uint8 RGB, from the server if it answers, locally otherwise."""
        if sketch.shape != (self.input_size, self.input_size):
            raise ValueError(f"{self.name} takes ({self.input_size}, {self.input_size}) sketches, got {sketch.shape}")
        now = time.monotonic()
        if not self.remote and now >= self._next_try:
            self._next_try = now + self.retry_s
            if self.transport.ready(self.triton_model):
                image = self._remote(sketch)
                if image is not None:
                    self.remote = True
                    self.returns += 1
                    log.warning("triton %s answers again: station back on the server (%s)", self.url, self.name)
                    return image
        if self.remote:
            image = self._remote(sketch)
            if image is not None:
                return image
            self.remote = False
            self.fallbacks += 1
            self._next_try = time.monotonic() + self.retry_s
            log.warning(
                "triton %s lost (%s): answering with the local model %s on %s; retrying every %.1f s",
                self.url, self.last_error, self.local.name, self.local.provider, self.retry_s,
            )  # fmt: skip
        self.local_answers += 1
        return np.asarray(self.local.run(sketch))

    def _remote(self, sketch: np.ndarray) -> np.ndarray | None:
        t0 = time.perf_counter()
        try:
            y = self.transport.infer(self.triton_model, self.input_name, sketch[None], self.output_name)
        except TransportError as e:
            self.last_error = str(e)[:200]
            return None
        ms = (time.perf_counter() - t0) * 1000.0
        want = (1, self.input_size, self.input_size, 3)
        if tuple(y.shape) != want or y.dtype != np.uint8:
            self.last_error = f"answer of shape {list(y.shape)} {y.dtype}, not {list(want)} uint8"
            return None
        with self._lock:
            self.round_trips.append(ms)
            self.remote_answers += 1
        return np.asarray(y[0])

    def stats(self) -> dict[str, Any]:
        """For the health line and /state: where answers come from and the recent round trip."""
        with self._lock:
            trips = sorted(self.round_trips)
        p50 = trips[len(trips) // 2] if trips else 0.0
        p95 = trips[min(len(trips) - 1, int(0.95 * len(trips)))] if trips else 0.0
        return {
            "backend": "triton",
            "url": self.url,
            "model": self.triton_model,
            "on_server": self.remote,
            "round_trip_ms_p50": round(p50, 2),
            "round_trip_ms_p95": round(p95, 2),
            "remote_answers": self.remote_answers,
            "local_answers": self.local_answers,
            "fallbacks": self.fallbacks,
            "returns": self.returns,
            "last_error": self.last_error,
        }


def remote_stats(model: Any) -> dict[str, Any] | None:  # noqa: ANN401
    """The stats of a TritonModel, None for a local model (the health line and /state add them when present)."""
    return model.stats() if isinstance(model, TritonModel) else None


def state_fields(model: Any) -> dict[str, Any]:  # noqa: ANN401
    """/state/model/backend and /state/model/round_trip_ms for any model."""
    st = remote_stats(model)
    if st is None:
        return {"model/backend": "local", "model/round_trip_ms": 0.0}
    return {
        "model/backend": "triton" if st["on_server"] else "local-fallback",
        "model/round_trip_ms": float(st["round_trip_ms_p95"]),
    }


def open_triton(cfg_model: Any, local: Any) -> TritonModel:  # noqa: ANN401 - ModelConfig, runtime Model
    """The configured server in front of the (already open, warm) local model; says where answers come from."""
    from installation.core.config import parse_host_port
    from installation.runtime.triton_client import make_transport

    host, port = parse_host_port(cfg_model.url, "model.url")
    transport = make_transport(cfg_model.protocol, host, port, cfg_model.timeout_s)
    model = TritonModel(transport, cfg_model.triton_model, cfg_model.url, local, cfg_model.retry_s)
    if transport.ready(model.triton_model):
        log.warning("model backend: triton %s (%s, %s), local %s standing by", cfg_model.url,
                    model.triton_model, cfg_model.protocol, local.name)  # fmt: skip
    else:
        model.remote = False
        model.fallbacks += 1
        model.last_error = "not ready at start-up"
        log.warning(
            "triton %s has no ready model %s at start-up: answering with the local model %s; retrying every %.1f s",
            cfg_model.url, model.triton_model, local.name, cfg_model.retry_s,
        )  # fmt: skip
    return model
