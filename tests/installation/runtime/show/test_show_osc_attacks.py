"""The benchmark's structured attacks at a real running show on a free loopback port: afterwards /ping still
comes back as /pong, nothing inside a broken datagram was obeyed, and the show ends on its own time."""

import importlib.util
import socket
import threading
import time
from pathlib import Path

from installation.core.config import load_config
from installation.core.osc_protocol import build_message
from installation.core.osc_wire import FramingError, parse_datagram
from installation.runtime.show import Show, ShowOptions

ROOT = Path(__file__).resolve().parents[4]
N = 120  # datagrams, the four classes in turn


def _attack_module():  # noqa: ANN202 - the benchmark's generator, so test and benchmark attack alike
    spec = importlib.util.spec_from_file_location("osc_attack", ROOT / "benchmarks" / "osc_attack.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _pong(rx: socket.socket, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if any(m.address == "/pong" for m in parse_datagram(rx.recv(65536))):
                return True
        except (OSError, FramingError):
            continue
    return False


def test_structured_attacks_leave_the_show_answering_ping(sandbox: list[str], free_udp_port: int) -> None:
    attacks = _attack_module().attacks(seed=5)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.1)
    cfg = load_config(
        None,
        [
            *sandbox,
            'input.source="replay"',
            "display.width=320",
            "display.height=200",
            f"osc.port={free_udp_port}",
            f'osc.state_out=["127.0.0.1:{rx.getsockname()[1]}"]',
            "osc.rate_limit_hz=0",  # every datagram reaches the parser
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=10.0))
    out: dict = {}

    def rig() -> None:
        while show.supervisor is None or "osc" not in show.supervisor.workers:
            time.sleep(0.02)
        control = show.supervisor.workers["osc"].body.__self__
        c = control.counters
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(N):
            name, dgram = next(attacks)
            tx.sendto(dgram.replace(b"@@@@@@@", b"%07d" % i, 1), ("127.0.0.1", free_udp_port))
            end = time.monotonic() + 1.0
            while c.datagrams < i + 1 and time.monotonic() < end:  # paced: the kernel must not drop them
                time.sleep(0.001)
        out["commands_before_ping"] = c.commands
        out["flips_before_ping"] = show.metrics.flips.total
        tx.sendto(build_message("/ping"), ("127.0.0.1", free_udp_port))
        out["pong"] = _pong(rx, 3.0)
        out["counters"] = (c.malformed, c.oversize, c.rejected, c.datagrams)

    t = threading.Thread(target=rig, daemon=True)
    t.start()
    m = show.run()
    t.join(5.0)
    assert out.get("pong") is True
    malformed, oversize, rejected, datagrams = out["counters"]
    assert datagrams >= N and malformed >= N // 2 and oversize >= N // 4 and rejected >= N // 4
    assert out["commands_before_ping"] == 0  # every attack datagram carried a command: none was obeyed
    assert m["frames"] > out["flips_before_ping"]  # frames kept coming after the attack
    assert abs(float(m["seconds"]) - 10.0) < 2.0 and m["restarts"] == 0  # ended on its own time, nothing restarted
