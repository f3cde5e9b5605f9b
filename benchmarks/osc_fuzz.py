"""OSC fuzz: random and malformed datagrams at the running show's control port, then proof it still answers.

    python benchmarks/osc_fuzz.py --count 100000 --json benchmarks/osc-fuzz-cpu-2core.json
    python benchmarks/osc_fuzz.py --attack --seconds 60 --json benchmarks/osc-attack-cpu-2core.json

`--attack` (issue 15) floods the running show with *structured* attacks from a separate process instead:
brace-alternation patterns that make a backtracking matcher explode, bundles whose element sizes lie
(negative, zero, misaligned, past the end, pointing back), bundles nested hundreds deep, and datagrams over
the 8 KB limit, at `--rate` datagrams a second for `--seconds`, after a quiet phase of the same show for
comparison. Throughout, a rig pings (/ping every 100 ms, waiting for /pong on the state port) and the show's
own frame times are kept. The JSON has, per phase, the frame gaps (max, p99, count over 250 ms) and the /ping
latency (p50/p95/max, unanswered), the worker restarts, the server's counters, whether anything inside a
broken datagram was obeyed, and whether the show ended on time with its metrics.

The show runs headless (replaying the embedded sessions) with its OSC server on loopback; a sender thread
fires `--count` datagrams from a seeded generator (random bytes, mutated and truncated valid messages, odd
type tags, wildcard storms, bundles with lying sizes and deep nesting, huge strings, valid addresses with
wrong arguments, a few valid commands), paced so the server sees them rather than the kernel dropping them,
and bounded by `--max-seconds`. Then it checks the show still works: /layout ai must come back as
/state/layout "ai", /ping as /pong, and a bad /layout 3 as an /error reply. Only 127.0.0.1 is targeted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pythonosc.osc_packet import OscPacket  # noqa: E402

from installation.core.osc_protocol import CONTROL, build_message  # noqa: E402

WILD = "*?[]{},!-/"
TAGS = "ifsbTFNIhdtmcr[]"


def _pad(b: bytes) -> bytes:
    return b + b"\x00" * (4 - len(b) % 4)


def _osc_string(rng: random.Random, n: int) -> bytes:
    return _pad(bytes(rng.randrange(1, 256) for _ in range(n)))


def _random_address(rng: random.Random) -> str:
    alphabet = WILD + "abcdelmoprstuy/"
    n = rng.choice((1, 5, 20, 80, 300))
    return "/" + "".join(rng.choice(alphabet) for _ in range(n))


def _bundle(rng: random.Random, depth: int) -> bytes:
    out = b"#bundle\x00" + struct.pack(">Q", rng.getrandbits(64))
    for _ in range(rng.randrange(0, 4)):
        inner = _bundle(rng, depth - 1) if depth > 0 and rng.random() < 0.5 else _one(rng, allow_bundle=False)
        size = len(inner) if rng.random() < 0.7 else rng.choice((0, 1, 3, len(inner) + 5, 2**31 - 1, 2**32 - 1))
        out += struct.pack(">I", size) + inner
    return out


def _one(rng: random.Random, allow_bundle: bool = True) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 1500)))
    if kind in (1, 2):  # a valid message, mutated or truncated
        a = rng.choice(CONTROL)
        data = bytearray(build_message(a.path, [rng.choice((0, 1.5, "side", True))] * len(a.types)))
        if kind == 1:
            for _ in range(rng.randrange(1, 6)):
                data[rng.randrange(len(data))] = rng.getrandbits(8)
            return bytes(data)
        return bytes(data[: rng.randrange(len(data))])
    if kind == 3:  # odd type tags with random payload
        tags = "," + "".join(rng.choice(TAGS) for _ in range(rng.randrange(0, 12)))
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 64)))
        return _pad(b"/layout") + _pad(tags.encode()) + payload
    if kind == 4:  # wildcard storms and long or odd addresses
        return _pad(_random_address(rng).encode()) + _pad(b",")
    if kind == 5 and allow_bundle:
        return _bundle(rng, rng.choice((1, 3, 40)))
    if kind == 6:  # a huge string argument
        return _pad(b"/prompt") + _pad(b",s") + _osc_string(rng, rng.choice((1000, 7000)))
    if kind == 7:  # known addresses, wrong or extreme arguments
        a = rng.choice(CONTROL)
        args = [rng.choice((float("nan"), float("inf"), -3e38, 2**31 - 1, "", "x" * 300, b"\x00blob", True))]
        return build_message(a.path, args * rng.randrange(0, 4))
    if kind == 8:  # non-UTF-8 address
        return _pad(b"/" + bytes(rng.randrange(128, 256) for _ in range(9))) + _pad(b",i") + b"\x00\x00\x00\x01"
    a = rng.choice([c for c in CONTROL if c.types in ("", "b", "f")])  # occasionally a valid command
    return build_message(a.path, [0.5 if a.types == "f" else True] * len(a.types))


def datagrams(seed: int, count: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for _ in range(count):
        yield _one(rng)[:8000]


def fuzz(target: tuple[str, int], count: int, max_seconds: float, progress, seed: int = 0) -> dict:  # noqa: ANN001
    """Send `count` datagrams (paced by `progress()`, the server's processed count); stop at `max_seconds`."""
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.setblocking(False)
    sent = errors = 0
    t0 = time.monotonic()
    base = progress()
    for dgram in datagrams(seed, count):
        if time.monotonic() - t0 > max_seconds:
            break
        try:
            tx.sendto(dgram, target)
            sent += 1
        except (BlockingIOError, OSError):
            errors += 1
        while sent - (progress() - base) > 256 and time.monotonic() - t0 < max_seconds:
            time.sleep(0.0005)  # let the server catch up: a fuzz the kernel drops tests nothing
        if sent % 64 == 0:
            try:
                while tx.recv(65536):  # drain the /error replies addressed to us
                    pass
            except OSError:
                pass
    tx.close()
    return {"sent": sent, "send_errors": errors, "seconds": round(time.monotonic() - t0, 2)}


def _show_config(rx: socket.socket, tmp: Path, extra: list[str] = ()):  # noqa: ANN202 - AppConfig
    from installation.core.config import load_config

    return load_config(
        None,
        [
            'input.source="replay"',
            "osc.port=0",
            f'osc.state_out=["127.0.0.1:{rx.getsockname()[1]}"]',
            "osc.rate_limit_hz=0",  # unlimited: every datagram reaches the parser
            "display.width=640",
            "display.height=360",
            "display.fps=30",
            f"paths.saved={json.dumps(str(tmp / 'saved'))}",
            f"archive.root={json.dumps(str(tmp / 'archive'))}",
            f"logging.file={json.dumps(str(tmp / 'logs' / 'i.jsonl'))}",
            'plotter.robot="127.0.0.1:9"',
            *extra,
        ],
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--max-seconds", type=float, default=540.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--attack", action="store_true", help="structured attacks from another process (issue 15)")
    ap.add_argument("--seconds", type=float, default=60.0, help="--attack: how long the attack lasts")
    ap.add_argument("--quiet", type=float, default=15.0, help="--attack: seconds of the same show before it")
    ap.add_argument("--rate", type=float, default=2000.0, help="--attack: datagrams a second")
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    if args.attack:
        from osc_attack import run_attack  # noqa: PLC0415 - next to this file

        result = run_attack(args.seconds, args.quiet, args.rate, args.seed, _show_config, _checks)
        ok = bool(result["ok"])
    else:
        result, ok = _run_fuzz(args)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if ok else 1


def _run_fuzz(args: argparse.Namespace) -> tuple[dict, bool]:
    import tempfile

    from installation.runtime.show import Show, ShowOptions

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    tmp = Path(tempfile.mkdtemp(prefix="osc-fuzz-"))
    show = Show(_show_config(rx, tmp), ShowOptions(headless=True, seconds=args.max_seconds + 60))
    result: dict = {}

    def rig() -> None:
        try:
            _rig()
        except Exception as e:  # reported in the JSON, never a hang
            result["error"] = f"{type(e).__name__}: {e}"
        finally:
            show.stop.set()

    def _rig() -> None:
        while show.supervisor is None or "osc" not in show.supervisor.workers:
            time.sleep(0.05)
        control = show.supervisor.workers["osc"].body.__self__  # the ControlSurface
        c = control.counters
        result["fuzz"] = fuzz(control.address, args.count, args.max_seconds, lambda: c.datagrams, args.seed)
        time.sleep(1.0)
        result["server"] = {k: v for k, v in vars(c).items() if not k.startswith("_")}
        result["checks"] = _checks(control.address, rx)
        result["workers"] = show.supervisor.status()

    threading.Thread(target=rig, daemon=True).start()
    metrics = show.run()
    result["show"] = {k: metrics[k] for k in ("seconds", "fps", "frames", "restarts")}
    result["frame_ms"] = metrics["frame_ms"]
    ok = all(result.get("checks", {}).values()) and result.get("fuzz", {}).get("sent", 0) >= min(args.count, 1)
    result["ok"] = ok
    return result, ok


def _checks(address: tuple[str, int], rx: socket.socket) -> dict[str, bool]:
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.bind(("127.0.0.1", 0))
    tx.settimeout(2.0)
    out = {"layout_applied": False, "pong": False, "bad_message_answered": False}
    for want in ("ai", "side"):
        tx.sendto(build_message("/layout", [want]), address)
        out["layout_applied"] = _wait_state(rx, "/state/layout", [want])
    tx.sendto(build_message("/ping"), address)
    out["pong"] = _wait_state(rx, "/pong", [])
    tx.sendto(build_message("/layout", [3]), address)
    with contextlib.suppress(OSError):
        out["bad_message_answered"] = OscPacket(tx.recv(4096)).messages[0].message.address == "/error"
    return out


def _wait_state(rx: socket.socket, address: str, params: list) -> bool:
    end = time.monotonic() + 3.0
    while time.monotonic() < end:
        try:
            msgs = OscPacket(rx.recv(65536)).messages
        except (OSError, Exception):  # noqa: BLE001 - timeouts and foreign packets alike
            continue
        if any(m.message.address == address and list(m.message.params) == params for m in msgs):
            return True
    return False


if __name__ == "__main__":
    raise SystemExit(main())
