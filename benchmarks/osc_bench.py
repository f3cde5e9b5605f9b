"""OSC benchmarks: control round trip through the running show, and path streaming to the simulator.

    python benchmarks/osc_bench.py --json benchmarks/osc-cpu-2core.json

Round trip: a rig-like client sends /layout (alternating values) to the headless show and times until a
/state/layout bundle carrying the new value arrives (loopback UDP, the show rendering at 60 fps meanwhile).
Streaming: 2,000 paths of 40 points each through the acknowledged protocol to the simulator (instant pen).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pythonosc.osc_message_builder import OscMessageBuilder  # noqa: E402
from pythonosc.osc_packet import OscPacket  # noqa: E402


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def round_trip(n: int) -> dict:
    from installation.core.config import load_config
    from installation.runtime.show import Show, ShowOptions

    port = free_port()
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.5)
    cfg = load_config(
        None,
        [
            'input.source="replay"',
            f"osc.port={port}",
            f'osc.state_out=["127.0.0.1:{rx.getsockname()[1]}"]',
            "display.fullscreen=false",
        ],
    )
    times: list[float] = []

    def rig() -> None:
        time.sleep(2.0)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for k in range(n):
            want = ("ai", "side")[k % 2]
            t0 = time.perf_counter()
            tx.sendto(_msg("/layout", want), ("127.0.0.1", port))
            while time.perf_counter() - t0 < 1.0:
                try:
                    msgs = OscPacket(rx.recv(65536)).messages
                except OSError:
                    continue
                if any(m.message.address == "/state/layout" and m.message.params == [want] for m in msgs):
                    times.append((time.perf_counter() - t0) * 1000)
                    break
            time.sleep(0.05)

    threading.Thread(target=rig, daemon=True).start()
    Show(cfg, ShowOptions(headless=True, seconds=2.0 + n * 0.08 + 2.0)).run()
    a = np.asarray(times)
    return {
        "messages": n,
        "answered": len(a),
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p95_ms": round(float(np.percentile(a, 95)), 2),
        "max_ms": round(float(a.max()), 2),
    }


def _msg(address: str, *args: object) -> bytes:
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def streaming(n: int, tmp: Path) -> dict:
    from installation.adapters.plotter_link import PlotStreamer
    from installation.bridges.simulator import Simulator

    sim = Simulator("127.0.0.1", 0, tmp, (297.0, 420.0), speed_mm_s=0.0)
    threading.Thread(target=sim.serve, args=(120.0,), daemon=True).start()
    rng = np.random.default_rng(0)
    paths = [rng.uniform(20, 250, 2) + np.cumsum(rng.normal(0, 1, (40, 2)), axis=0) for _ in range(n)]
    s = PlotStreamer(paths, ("127.0.0.1", sim.port), window=16, timeout_s=0.2)
    t0 = time.perf_counter()
    s.start()
    s.join()
    dt = time.perf_counter() - t0
    return {
        "paths": n,
        "points_per_path": 40,
        "seconds": round(dt, 3),
        "paths_per_s": round(n / dt, 1),
        "datagrams_sent": s.datagrams_sent,
        "done": s.sender.done,
    }


def main() -> int:
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--messages", type=int, default=60)
    ap.add_argument("--paths", type=int, default=2000)
    ap.add_argument("--streaming-only", action="store_true", help="re-measure streaming only; keep the other figures")
    args = ap.parse_args()
    if args.streaming_only and args.json.is_file():
        out = json.loads(args.json.read_text())
    else:
        out = {"osc_round_trip": round_trip(args.messages)}
    with tempfile.TemporaryDirectory() as d:
        out["stream_to_simulator"] = streaming(args.paths, Path(d))
    args.json.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
