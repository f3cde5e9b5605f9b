"""Malformed, hostile and flooding datagrams over real loopback UDP: the server never dies or wedges."""

import importlib.util
import socket
import threading
import time
from pathlib import Path

from installation.adapters.osc_server import ControlSurface, OscSettings
from installation.core.osc_protocol import Command, build_message
from installation.runtime.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[3]


def _fuzz_module():  # noqa: ANN202 - the benchmark's generator, shared so test and benchmark fuzz alike
    spec = importlib.util.spec_from_file_location("osc_fuzz", ROOT / "benchmarks" / "osc_fuzz.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _client() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(3.0)
    return s


def _until(cond, timeout: float = 10.0) -> bool:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_thousands_of_fuzzed_datagrams_then_the_server_still_answers() -> None:
    stop = threading.Event()
    cs = ControlSurface(OscSettings(port=0, rate_per_s=0, queue_size=64))
    sup = Supervisor(stop, initial_backoff_s=0.05)
    sup.add("osc", cs.serve)
    try:
        fuzz = _fuzz_module()
        report = fuzz.fuzz(cs.address, 4000, 60.0, lambda: cs.counters.datagrams, seed=3)
        assert report["sent"] == 4000
        assert _until(lambda: cs.counters.datagrams >= 3800)  # the server parsed them; the kernel dropped few
        assert cs.counters.malformed > 100 and cs.counters.rejected > 100
        assert sup.workers["osc"].restarts == 0 and sup.down() == []
        client = _client()
        assert _until(lambda: not cs.drain())  # the fuzz's own valid commands out of the bounded queue first
        client.sendto(build_message("/layout", ["overlay"]), cs.address)
        got: list[Command] = []
        assert _until(lambda: got.extend(cs.drain()) or Command("/layout", ("overlay",)) in got)
        time.sleep(1.1)  # the flood spent this second's /error replies (MAX_REPLIES_PER_S); the next second answers
        client.sendto(build_message("/crossfade", [99.0]), cs.address)
        assert b"/error" in client.recv(4096)
    finally:
        stop.set()
        sup.join()
        cs.close_socket()


def test_a_backtracking_wildcard_storm_does_not_wedge_the_server() -> None:
    cs = ControlSurface(OscSettings(port=0)).start()
    try:
        client = _client()
        for n in (30, 200, 2000):
            client.sendto(build_message("/" + "*" * n + "x"), cs.address)
        client.sendto(build_message("/" + "*?" * 12 + "t"), cs.address)
        client.sendto(build_message("/clear"), cs.address)
        assert _until(lambda: Command("/clear", ()) in cs.drain(), 5.0)
    finally:
        cs.stop()


def test_a_flooding_source_is_rate_limited_and_served_again_afterwards() -> None:
    cs = ControlSurface(OscSettings(port=0, rate_per_s=50, burst=20)).start()
    try:
        client = _client()
        t0 = time.monotonic()
        for i in range(600):
            client.sendto(build_message("/clear"), cs.address)
            if i % 20 == 19:  # paced a little, so the kernel's buffer does not drop what the limiter should
                time.sleep(0.002)
        c = cs.counters
        assert _until(lambda: c.datagrams + c.rate_limited >= 500)
        allowed = 20 + 50 * (time.monotonic() - t0) + 1
        assert c.rate_limited >= 300 and c.datagrams <= allowed
        time.sleep(0.5)  # the bucket refills
        cs.drain(1000)
        client.sendto(build_message("/hud", [True]), cs.address)
        assert _until(lambda: Command("/hud", (True,)) in cs.drain(), 5.0)
    finally:
        cs.stop()
