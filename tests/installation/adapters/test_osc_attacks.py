"""The attack classes of issue 15 at a real control server on a loopback port: backtracking patterns, bundles
whose element sizes lie, deep nesting, oversize datagrams. Each is dropped or refused and counted, and the
server still takes /ping and answers a bad message afterwards."""

import socket
import struct
import time
from collections.abc import Callable

import pytest

from installation.adapters.osc_server import ControlSurface, OscSettings
from installation.core.osc_protocol import Command, build_message
from installation.core.osc_wire import BUNDLE, MAX_DATAGRAM, MAX_DEPTH


def bundle(*elements: bytes, sizes: list[int] | None = None) -> bytes:
    sizes = sizes or [len(e) for e in elements]
    return (
        BUNDLE + struct.pack(">Q", 1) + b"".join(struct.pack(">i", n) + e for n, e in zip(sizes, elements, strict=True))
    )


CLEAR = build_message("/clear")


def braces() -> list[bytes]:
    return [
        build_message("/" + ("{" + "," * commas + "}") * groups + tail)
        for commas, groups in ((6, 8), (6, 12), (12, 16))  # the old regex: 2 s, hours, years
        for tail in ("x", "/x", "")
    ]


def lying() -> list[bytes]:
    out = [bundle(CLEAR, sizes=[n]) for n in (-4, -(2**31), 0, 3, 6, len(CLEAR) + 4, 2**31 - 4)]
    out.append(bundle(CLEAR, CLEAR, sizes=[len(CLEAR), -len(CLEAR) - 4]))  # the second points back at the first
    return out


def nested() -> list[bytes]:
    out = []
    for depth in (MAX_DEPTH + 1, 40, 500):
        inner = CLEAR
        for _ in range(depth):
            inner = bundle(inner)
        out.append(inner[:MAX_DATAGRAM])  # the deepest are cut at the size limit: lying sizes as well
    return out


def oversize() -> list[bytes]:
    return [build_message("/prompt", ["x" * n]) for n in (MAX_DATAGRAM, 20_000, 60_000)]


ATTACKS: dict[str, tuple[Callable[[], list[bytes]], str]] = {
    "brace alternations": (braces, "rejected"),
    "lying bundle sizes": (lying, "malformed"),
    "nested bundles": (nested, "malformed"),
    "oversize datagrams": (oversize, "oversize"),
}


def _until(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.005)
    return False


@pytest.mark.parametrize("name", list(ATTACKS))
def test_an_attack_is_dropped_and_counted_and_ping_still_gets_through(name: str) -> None:
    make, counter = ATTACKS[name]
    cs = ControlSurface(OscSettings(port=0, rate_per_s=0)).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(5.0)
    try:
        payloads = make() * 5
        for i, p in enumerate(payloads, 1):
            client.sendto(p, cs.address)
            assert _until(lambda i=i: cs.counters.datagrams >= i)  # paced: the kernel must not drop any
        client.sendto(build_message("/ping"), cs.address)
        got: list[Command] = []
        assert _until(lambda: got.extend(cs.drain()) or Command("/ping", ()) in got)
        assert Command("/clear", ()) not in got  # nothing inside a broken datagram was obeyed
        assert getattr(cs.counters, counter) >= len(payloads)
        client.sendto(build_message("/layout", [3]), cs.address)  # and the server still answers its sender
        while b"/error" not in (reply := client.recv(65536)) or b"/layout" not in reply:
            pass
    finally:
        client.close()
        cs.stop()


def test_a_lying_bundle_flood_leaves_a_short_log(caplog: pytest.LogCaptureFixture) -> None:
    """2,000 lying bundles: a few warning lines, not one per datagram (python-osc logged ~2,000 lines a second)."""
    cs = ControlSurface(OscSettings(port=0, rate_per_s=0)).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with caplog.at_level("INFO"):
            for i in range(2000):
                client.sendto(bundle(CLEAR, sizes=[-4 - 4 * (i % 5)]), cs.address)
                if i % 100 == 99:
                    time.sleep(0.005)  # paced, so the kernel does not drop what the server should count
            assert _until(lambda: cs.counters.malformed >= 1900)
        assert len(caplog.records) < 20
    finally:
        client.close()
        cs.stop()
