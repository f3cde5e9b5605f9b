"""OSC over UDP: the control server thread and the state broadcaster.

`ControlSurface` runs a UDP server in its own thread: it waits with poll, then takes what is queued (up to `DRAIN`
datagrams, one system call each, no selector per datagram). Sources outside the allowlist and over the rate
are refused before parsing; datagrams over `osc_wire.MAX_DATAGRAM` bytes are dropped and counted (`oversize`);
the rest are parsed by the project's bounded parser (`installation/core/osc_wire.py`: lying bundle sizes, deep
nesting and broken strings are dropped and counted as `malformed`, and never reach python-osc, whose bundle
reader loops on them). Bundle time tags are not waited for. The handler only validates (through the pure
protocol table) and enqueues commands in a bounded queue; the main loop drains them each frame. A refused
message is answered to its sender on /error (at most `MAX_REPLIES_PER_S` replies a second; the rest counted).

`StateBroadcaster.publish(state)` is called every frame. Measurements (fps, latency) go out at most `state_hz`
times a second; a change of anything else (layout, mode, prompt, error...) goes out at once, so a rig sees its
command take effect within a frame, still bounded at MAX_CHANGE_HZ bundles a second.
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from installation.core.errors import UserError
from installation.core.osc_protocol import Command, Rejection, build_message, interpret, state_bundle
from installation.core.osc_wire import MAX_DATAGRAM, FramingError, parse_datagram

log = logging.getLogger(__name__)
MEASURED = ("fps", "latency_ms")  # keys that change every frame: sent at the periodic rate only
MAX_CHANGE_HZ = 200.0
MAX_REPLIES_PER_S = 100  # /error replies a second, all senders together
DRAIN = 64  # datagrams handled back to back (one system call each) before the next heartbeat


@dataclass(frozen=True)
class OscSettings:
    host: str = "127.0.0.1"
    port: int = 9000
    allow: tuple[str, ...] = ("127.0.0.1",)
    state_out: tuple[str, ...] = ("127.0.0.1:9001",)
    state_hz: float = 10.0
    queue_size: int = 256
    rate_per_s: float = 200.0  # datagrams a second per source (token bucket); 0 = unlimited
    burst: int = 400  # datagrams a source may send at once before the rate applies


@dataclass
class Counters:
    datagrams: int = 0  # accepted for parsing (allowlisted, within the rate)
    received: int = 0  # messages that reached the handler
    malformed: int = 0  # datagrams that are not well-formed OSC (or whose handling raised)
    oversize: int = 0  # datagrams over MAX_DATAGRAM bytes, dropped unparsed
    rate_limited: int = 0
    reopened: int = 0  # the server socket was found closed and opened again
    commands: int = 0
    rejected: int = 0
    refused_sources: int = 0
    dropped: int = 0
    replies_dropped: int = 0  # /error replies not sent: over MAX_REPLIES_PER_S
    last_error: str = ""
    last_malformed: str = ""  # why the newest malformed datagram was dropped
    _last_log: float = field(default=0.0, repr=False)


Handler = Callable[[tuple[str, int], str, tuple[Any, ...]], tuple[str, str] | None]


class _AllowlistServer(socketserver.UDPServer):
    max_packet_size = 65536  # read whole datagrams, so one over MAX_DATAGRAM is seen as such, not cut short
    allow: frozenset[str] = frozenset()
    on_message: Handler
    counters: Counters
    rate_per_s: float = 0.0
    burst: float = 1.0
    _buckets: dict[str, tuple[float, float]]  # source -> (tokens, time of last refill)
    _reply_window: tuple[float, int] = (0.0, 0)  # (start of this second, /error replies sent in it)

    def verify_request(self, request: Any, client_address: tuple[str, int]) -> bool:  # noqa: ANN401
        source = client_address[0]
        if source not in self.allow:
            self.counters.refused_sources += 1
            self._warn(f"OSC from {source} refused: not in osc.allow ({self.counters.refused_sources} so far)")
            return False
        if self.rate_per_s > 0:
            now = time.monotonic()
            tokens, t = self._buckets.get(source, (self.burst, now))
            tokens = min(self.burst, tokens + (now - t) * self.rate_per_s)
            if tokens < 1.0:
                self._buckets[source] = (tokens, now)
                self.counters.rate_limited += 1
                self._warn(f"OSC from {source} over {self.rate_per_s:g}/s: {self.counters.rate_limited} dropped so far")
                return False
            self._buckets[source] = (tokens - 1.0, now)
        self.counters.datagrams += 1
        return True

    def finish_request(self, request: Any, client_address: tuple[str, int]) -> None:  # noqa: ANN401
        """One datagram: size bound, bounded parse, then each message to the handler; replies go to the sender."""
        data, sock = request
        if len(data) > MAX_DATAGRAM:
            self.counters.oversize += 1
            self._warn(
                f"OSC datagram of {len(data)} bytes from {client_address[0]} dropped: over {MAX_DATAGRAM} bytes "
                f"({self.counters.oversize} so far)"
            )
            return
        try:
            messages = parse_datagram(data)
        except FramingError as e:
            self.counters.malformed += 1
            self.counters.last_malformed = str(e)
            self._warn(f"malformed OSC datagram from {client_address[0]}: {e} ({self.counters.malformed} so far)")
            return
        for m in messages:
            reply = self.on_message(client_address, m.address, m.args)
            if reply is None:
                continue
            now = time.monotonic()
            if now - self._reply_window[0] >= 1.0:
                self._reply_window = (now, 0)
            if self._reply_window[1] >= MAX_REPLIES_PER_S:  # a flood of bad messages is not answered in kind
                self.counters.replies_dropped += 1
                continue
            self._reply_window = (self._reply_window[0], self._reply_window[1] + 1)
            sock.sendto(build_message(reply[0], reply[1:]), client_address)

    def take(self, data: bytes, client_address: tuple[str, int]) -> None:
        """One received datagram through the allowlist, the rate limit and `finish_request`; never raises."""
        request = (data, self.socket)
        if not self.verify_request(request, client_address):
            return
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)

    def handle_error(self, request: Any, client_address: tuple[str, int]) -> None:  # noqa: ANN401
        """A datagram whose handling raised: counted, logged at most every few seconds, never fatal."""
        self.counters.malformed += 1
        self._warn(f"malformed OSC datagram from {client_address[0]} ({self.counters.malformed} so far)")

    def _warn(self, text: str) -> None:
        now = time.monotonic()
        if now - self.counters._last_log > 5.0:  # rate-limited: a flood must not flood the log
            log.warning(text)
            self.counters._last_log = now


class ControlSurface:
    """The OSC control server. `serve(stop, beat)` is the supervised loop; `start()`/`stop()` run it alone."""

    def __init__(self, settings: OscSettings) -> None:
        self.settings = settings
        self.counters = Counters()
        self._queue: queue.Queue[Command] = queue.Queue(maxsize=settings.queue_size)
        self.wake = threading.Event()  # set when a command is queued: the main loop need not wait for a frame
        self._server = self._open((settings.host, settings.port))
        self._own_stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _open(self, address: tuple[str, int]) -> _AllowlistServer:
        try:
            server = _AllowlistServer(address, socketserver.BaseRequestHandler)
        except OSError as e:
            raise UserError(
                f"cannot listen for OSC on {address[0]}:{address[1]} ({e.strerror}): another program uses "
                "the port; set osc.port or stop the other program"
            ) from e
        server.allow = frozenset(self.settings.allow)
        server.on_message = self._handle
        server.counters = self.counters
        server.rate_per_s = self.settings.rate_per_s
        server.burst = float(max(1, self.settings.burst))
        server._buckets = {}
        server.timeout = 0.2
        return server

    @property
    def address(self) -> tuple[str, int]:
        return self._server.server_address[:2]

    def serve(self, stop: threading.Event, beat: Callable[[], None]) -> None:
        """Handle datagrams until `stop`; a closed or broken socket raises, and the next call reopens it."""
        if self._server.socket.fileno() < 0:
            self._server = self._open(self.address)
            self.counters.reopened += 1
            log.info("OSC control socket reopened on %s:%d", *self.address)
        sock = self._server.socket
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        while not stop.is_set():
            beat()
            if sock.fileno() < 0:
                raise OSError("the OSC control socket was closed")
            if not poller.poll(200):  # ms: wait for a datagram, or beat again
                continue
            for _ in range(DRAIN):  # what is queued, without a wait or a selector per datagram
                try:
                    data, client = sock.recvfrom(self._server.max_packet_size, socket.MSG_DONTWAIT)
                except (BlockingIOError, InterruptedError):
                    break
                self._server.take(data, client)

    def start(self) -> ControlSurface:
        self._thread = threading.Thread(
            target=self.serve, args=(self._own_stop, lambda: None), name="osc-control", daemon=True
        )
        self._thread.start()
        self.announce()
        return self

    def announce(self) -> None:
        log.info("OSC control on %s:%d (allow %s)", *self.address, ", ".join(self.settings.allow))

    def close_socket(self) -> None:
        """Fault injection and shutdown: close the server socket (a supervised `serve` reopens it)."""
        self._server.server_close()

    def stop(self) -> None:
        self._own_stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._server.server_close()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def drain(self, max_n: int = 64) -> list[Command]:
        out = []
        while len(out) < max_n:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return out

    def _handle(self, client: tuple[str, int], address: str, args: tuple[Any, ...]) -> tuple[str, str] | None:
        """Runs on the server thread: validate and enqueue only."""
        self.counters.received += 1
        try:
            result = interpret(address, args)
        except Exception as e:  # never let one message take the server down
            result = Rejection(address, f"internal error: {type(e).__name__}")
        if isinstance(result, Rejection):
            self.counters.rejected += 1
            self.counters.last_error = f"{result.address[:80]}: {result.reason}"
            if self.counters.rejected <= 20 or self.counters.rejected % 1000 == 0:
                c = self.counters
                log.info("OSC refused from %s: %s (%d so far)", client[0], c.last_error, c.rejected)
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
