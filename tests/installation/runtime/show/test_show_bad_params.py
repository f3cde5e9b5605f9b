"""A non-finite or out-of-range live parameter over OSC is refused on /state/error; the show goes on."""

from __future__ import annotations

import socket
import threading
import time

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from installation.core.config import load_config


def test_param_refuses_nan_and_out_of_range(free_udp_port: int, sandbox: list[str]) -> None:
    from installation.runtime.show import Show, ShowOptions

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    cfg = load_config(
        None,
        [
            *sandbox,
            "display.width=320",
            "display.height=200",
            f"osc.port={free_udp_port}",
            f'osc.state_out=["127.0.0.1:{rx.getsockname()[1]}"]',
            "display.attract_after_s=0",
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=8.0))
    errors: list[str] = []

    def send(address: str, *args: object) -> None:
        b = OscMessageBuilder(address=address)
        for a in args:
            b.add_arg(a)
        tx.sendto(b.build().dgram, ("127.0.0.1", free_udp_port))

    def listen(until: float, stop_on: str) -> bool:
        while time.monotonic() < until:
            try:
                for m in OscPacket(rx.recv(65536)).messages:
                    if m.message.address == "/state/error":
                        errors.extend(str(p) for p in m.message.params)
                    if m.message.address == stop_on or any(stop_on in e for e in errors):
                        return True
            except OSError:
                pass
        return False

    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def rig() -> None:
        end = time.monotonic() + 6.0
        while time.monotonic() < end:  # the show is up once it answers /ping
            send("/ping")
            if listen(time.monotonic() + 0.3, "/pong"):
                break
        for value in (float("nan"), float("inf"), -2.0):
            send("/param", "display.crossfade_s", value)
        listen(end, "not within")

    t = threading.Thread(target=rig, daemon=True)
    t.start()
    metrics = show.run()
    t.join(timeout=3)
    assert any("/param display.crossfade_s" in e and "not within 0..60" in e for e in errors), errors
    assert metrics["frames"] > 0
