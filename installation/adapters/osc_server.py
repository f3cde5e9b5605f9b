"""OSC over UDP: the control server thread and the state broadcaster.

`ControlSurface` runs python-osc's blocking UDP server in its own thread with `strict_timing` off (the default
would sleep until bundle time tags). Its handler only validates (through the pure protocol table) and enqueues
commands in a bounded queue; the main loop drains them each frame. Sources outside the allowlist are refused
before parsing; a refused message is answered to its sender on /error. Malformed datagrams are dropped by
python-osc's parser and counted here as received-without-command.

`StateBroadcaster.publish(state)` is called every frame. Measurements (fps, latency) go out at most `state_hz`
times a second; a change of anything else (layout, mode, prompt, error...) goes out at once, so a rig sees its
command take effect within a frame, still bounded at MAX_CHANGE_HZ bundles a second.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from installation.core.errors import UserError
from installation.core.osc_protocol import Command, Rejection, build_message, interpret, state_bundle

log = logging.getLogger(__name__)
MEASURED = ("fps", "latency_ms")  # keys that change every frame: sent at the periodic rate only
MAX_CHANGE_HZ = 200.0


@dataclass(frozen=True)
class OscSettings:
    host: str = "127.0.0.1"
    port: int = 9000
    allow: tuple[str, ...] = ("127.0.0.1",)
    state_out: tuple[str, ...] = ("127.0.0.1:9001",)
    state_hz: float = 10.0
    queue_size: int = 256


@dataclass
class Counters:
    received: int = 0
    commands: int = 0
    rejected: int = 0
    refused_sources: int = 0
    dropped: int = 0
    last_error: str = ""
    _last_log: float = field(default=0.0, repr=False)


class _AllowlistServer(BlockingOSCUDPServer):
    allow: frozenset[str] = frozenset()
    counters: Counters

    def verify_request(self, request: Any, client_address: tuple[str, int]) -> bool:  # noqa: ANN401
        if client_address[0] in self.allow:
            return True
        self.counters.refused_sources += 1
        now = time.monotonic()
        if now - self.counters._last_log > 5.0:  # rate-limited: a flood must not flood the log
            log.warning(
                "OSC from %s refused: not in osc.allow (%d refused so far)",
                client_address[0],
                self.counters.refused_sources,
            )
            self.counters._last_log = now
        return False

    def handle_error(self, request: Any, client_address: tuple[str, int]) -> None:  # noqa: ANN401
        log.exception("OSC packet from %s could not be handled", client_address)


class ControlSurface:
    def __init__(self, settings: OscSettings) -> None:
        self.settings = settings
        self.counters = Counters()
        self._queue: queue.Queue[Command] = queue.Queue(maxsize=settings.queue_size)
        self.wake = threading.Event()  # set when a command is queued: the main loop need not wait for a frame
        dispatcher = Dispatcher(strict_timing=False)
        dispatcher.set_default_handler(self._handle, needs_reply_address=True)
        try:
            self._server = _AllowlistServer((settings.host, settings.port), dispatcher)
        except OSError as e:
            raise UserError(
                f"cannot listen for OSC on {settings.host}:{settings.port} ({e.strerror}): another program uses "
                "the port; set osc.port or stop the other program"
            ) from e
        self._server.allow = frozenset(settings.allow)
        self._server.counters = self.counters
        self._server.timeout = 0.2
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="osc-control", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        return self._server.server_address[:2]

    def start(self) -> ControlSurface:
        self._thread.start()
        log.info("OSC control on %s:%d (allow %s)", *self.address, ", ".join(self.settings.allow))
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def drain(self, max_n: int = 64) -> list[Command]:
        out = []
        while len(out) < max_n:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return out

    def _handle(self, client: tuple[str, int], address: str, *args: Any) -> tuple[str, str] | None:  # noqa: ANN401
        """Runs on the server thread: validate and enqueue only."""
        self.counters.received += 1
        try:
            result = interpret(address, args)
        except Exception as e:  # never let one message take the server down
            result = Rejection(address, f"internal error: {type(e).__name__}")
        if isinstance(result, Rejection):
            self.counters.rejected += 1
            self.counters.last_error = f"{result.address}: {result.reason}"
            log.info("OSC refused from %s: %s", client[0], self.counters.last_error)
            return ("/error", self.counters.last_error)  # python-osc sends this back to the sender
        for cmd in result:
            try:
                self._queue.put_nowait(cmd)
                self.counters.commands += 1
                self.wake.set()
            except queue.Full:
                self.counters.dropped += 1
        return None


class StateBroadcaster:
    def __init__(self, settings: OscSettings) -> None:
        self.period = 1.0 / settings.state_hz if settings.state_hz > 0 else float("inf")
        self.destinations = [_parse_dest(d) for d in settings.state_out]
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._last = -float("inf")
        self._last_discrete: dict[str, Any] = {}
        self.sent = 0

    def publish(self, state: dict[str, Any], now: float | None = None) -> bool:
        """Send a state bundle if due (periodic) or if a non-measured value changed; True if one was sent."""
        now = time.monotonic() if now is None else now
        discrete = {k: v for k, v in state.items() if k not in MEASURED}
        changed = discrete != self._last_discrete and now - self._last >= 1.0 / MAX_CHANGE_HZ
        if not changed and now - self._last < self.period:
            return False
        self._last = now
        self._last_discrete = discrete
        self.send(state_bundle(state))
        return True

    def send(self, dgram: bytes) -> None:
        for dest in self.destinations:
            try:
                self._sock.sendto(dgram, dest)
                self.sent += 1
            except OSError as e:  # a vanished listener must not stop the show
                log.debug("state to %s failed: %s", dest, e)

    def pong(self) -> None:
        self.send(build_message("/pong"))

    def close(self) -> None:
        self._sock.close()


def _parse_dest(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"OSC destination {text!r} must look like HOST:PORT, e.g. 127.0.0.1:9001")
    return host, int(port)
