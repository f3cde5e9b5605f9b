import socket
import time

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from installation.adapters.osc_server import ControlSurface, OscSettings, StateBroadcaster
from installation.core.osc_protocol import Command


def _listener() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2.0)
    return s


def _msg(address: str, *args: object) -> OscMessageBuilder:
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b


def _drain_until(cs: ControlSurface, n: int, timeout: float = 3.0) -> list[Command]:
    got: list[Command] = []
    end = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < end:
        got += cs.drain()
        time.sleep(0.01)
    return got


@pytest.fixture()
def surface() -> ControlSurface:
    cs = ControlSurface(OscSettings(port=0)).start()
    yield cs
    cs.stop()


def test_messages_and_nested_bundles_over_real_udp(surface: ControlSurface) -> None:
    client = _listener()
    client.sendto(_msg("/layout", "ai").build().dgram, surface.address)
    inner = OscBundleBuilder(IMMEDIATELY)
    inner.add_content(_msg("/crossfade", 2).build())
    outer = OscBundleBuilder(time.time() + 60)  # a future time tag must not be waited for
    outer.add_content(_msg("/clear").build())
    outer.add_content(inner.build())
    client.sendto(outer.build().dgram, surface.address)
    client.sendto(_msg("/plotter/{pause,resume}").build().dgram, surface.address)
    got = _drain_until(surface, 5)
    assert Command("/layout", ("ai",)) in got and Command("/clear", ()) in got
    assert Command("/crossfade", (2.0,)) in got
    assert Command("/plotter/pause", ()) in got and Command("/plotter/resume", ()) in got


def test_bad_messages_are_answered_on_error_and_the_server_lives_on(surface: ControlSurface) -> None:
    client = _listener()
    client.sendto(_msg("/layout", 3).build().dgram, surface.address)
    reply = OscPacket(client.recv(4096)).messages[0].message
    assert reply.address == "/error" and "/layout" in reply.params[0]
    for junk in (b"", b"\x00" * 7, b"#bundle\x00garbage", b"/x\x00\x00,zz\x00\x00", bytes(range(256))):
        client.sendto(junk, surface.address)
    client.sendto(_msg("/hud", "T").build().dgram, surface.address)
    client.sendto(_msg("/hud", True).build().dgram, surface.address)
    got = _drain_until(surface, 1)
    assert got == [Command("/hud", (True,))]
    assert surface.counters.rejected >= 2


def test_sources_outside_the_allowlist_are_refused() -> None:
    cs = ControlSurface(OscSettings(port=0, allow=("127.0.0.2",))).start()
    try:
        client = _listener()
        client.sendto(_msg("/clear").build().dgram, cs.address)
        time.sleep(0.3)
        assert cs.drain() == [] and cs.counters.refused_sources == 1
    finally:
        cs.stop()


def test_state_broadcast_is_rate_limited_and_well_formed() -> None:
    rx = _listener()
    b = StateBroadcaster(OscSettings(state_out=(f"127.0.0.1:{rx.getsockname()[1]}",), state_hz=10))
    assert b.publish({"fps": 60.0, "layout": "ai"}, now=100.0)
    assert not b.publish({"fps": 61.0, "layout": "ai"}, now=100.05)  # only a measurement moved: wait
    assert b.publish({"fps": 61.5, "layout": "side"}, now=100.06)  # a change goes out at once
    assert b.publish({"fps": 62.0, "layout": "side"}, now=100.2)  # the periodic tick
    got = [{m.message.address: m.message.params for m in OscPacket(rx.recv(4096)).messages} for _ in range(3)]
    assert got[0] == {"/state/fps": [60.0], "/state/layout": ["ai"]}
    assert got[1]["/state/layout"] == ["side"] and got[2]["/state/fps"] == [62.0]
    b.close()
