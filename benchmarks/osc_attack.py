"""Structured OSC attacks at the running show (issue 15), for `benchmarks/osc_fuzz.py --attack`.

The attacker is a separate process (`python benchmarks/osc_attack.py --child ...`), as a real one would be, so
the show's interpreter pays only for receiving and refusing. It sends from 127.0.0.2 (allowlisted), the rig's
pings come from 127.0.0.1, and the show's rate limit is off: every attack datagram reaches the parser (the
worst case; with `osc.rate_limit_hz` on, 200 a second would). Four classes, in turn, seeded:

- patterns: brace alternations (`/{,,,,,,}{,,,,,,}...x`, up to 16 groups of 13 empty alternatives: 13**16 paths
  for a backtracking matcher), star/question storms, all within the 256-character / 16-wildcard limits;
- lying bundles: element sizes negative, zero, misaligned, past the end, or pointing back at the previous one;
- nesting: bundles nested 9 to 400 deep (the deepest cut at 8 KB, so their sizes lie as well);
- oversize: 9 KB to 60 KB datagrams (over the 8 KB limit).

Every datagram carries a command that the show would obey (/clear, /ping, /layout, /prompt) if it were
parsed, so "nothing in a broken datagram was obeyed" is checked by the server's command counter.
"""

from __future__ import annotations

import itertools
import json
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = b"#bundle\x00"
CLASSES = ("patterns", "lying bundles", "nesting", "oversize")
ATTACKER = "127.0.0.2"  # loopback too (127/8), allowlisted: the worst case, a local program that may talk OSC


def _s(text: str) -> bytes:
    b = text.encode()
    return b + b"\x00" * (4 - len(b) % 4)


def message(address: str, *strings: str) -> bytes:
    return _s(address) + _s("," + "s" * len(strings)) + b"".join(_s(x) for x in strings)


def bundle(*elements: bytes, sizes: list[int] | None = None) -> bytes:
    sizes = sizes or [len(e) for e in elements]
    body = b"".join(struct.pack(">i", n) + e for n, e in zip(sizes, elements, strict=True))
    return BUNDLE + struct.pack(">Q", 1) + body


def _pattern(rng: random.Random) -> bytes:
    kind = rng.randrange(3)
    if kind == 0:
        commas, groups = rng.choice(((6, 8), (6, 12), (12, 16), (3, 16)))
        body = ("{" + "," * commas + "}") * groups
    elif kind == 1:
        body, wild = "", 0
        while True:  # star storms up to the 16-wildcard limit
            piece = rng.choice(("*a", "?*", "[a-z]*", "{p,pl,plo}*", "*/"))
            if wild + sum(piece.count(c) for c in "*?[{") > 16:
                break
            body, wild = body + piece, wild + sum(piece.count(c) for c in "*?[{")
    else:
        body = "plotter/" + ("{" + ",".join(["", "s", "st"] * 4) + "}") * 15
    tail = rng.choice(("x", "/x", "!", "ing!", "/start!"))  # never a real address: refused, not obeyed
    return message(("/" + body)[: 256 - 8 - len(tail)] + "@@@@@@@" + tail)  # numbered by the child


def _lying(rng: random.Random) -> bytes:
    clear = message("/clear")
    lie = rng.choice((-4, -8, -(2**31), 0, 3, 6, len(clear) + 4, 2**31 - 4, "back"))
    if lie == "back":
        return bundle(clear, clear, sizes=[len(clear), -len(clear) - 4])
    return bundle(clear, sizes=[int(lie)])


def _nested(rng: random.Random) -> bytes:
    inner = message("/layout", "overlay")
    for _ in range(rng.choice((9, 40, 400))):
        inner = bundle(inner)
    return inner[:8192]


def _oversize(rng: random.Random) -> bytes:
    return message("/prompt", "x" * rng.choice((8200, 30_000, 60_000)))


MAKERS: dict[str, Callable[[random.Random], bytes]] = {
    "patterns": _pattern,
    "lying bundles": _lying,
    "nesting": _nested,
    "oversize": _oversize,
}


def attacks(seed: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    while True:
        for name in CLASSES:
            yield name, MAKERS[name](rng)


def _child(target: tuple[str, int], rate: float, seconds: float, seed: int) -> dict:
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.bind((ATTACKER, 0))  # its own loopback address: what the show's per-source rate limit would see
    tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    sent = dict.fromkeys(CLASSES, 0)
    errors = 0
    gen = attacks(seed)
    pool = [next(gen) for _ in range(400)]  # made before the clock starts: the attacker's CPU goes on sending
    t0 = time.monotonic()
    for n, (name, dgram) in enumerate(itertools.cycle(pool)):
        now = time.monotonic()
        if now - t0 >= seconds:
            break
        ahead = n / rate - (now - t0)
        if ahead > 0:
            time.sleep(ahead)
        if name == "patterns":  # a new pattern every time: no cache on the show's side can help it
            dgram = dgram.replace(b"@@@@@@@", b"%07d" % (n % 10_000_000), 1)
        try:
            tx.sendto(dgram, target)
            sent[name] += 1
        except OSError:
            errors += 1
    return {"sent": sent, "send_errors": errors, "seconds": round(time.monotonic() - t0, 2)}


# -- the rig in the show's process ----------------------------------------------------------------------------
class Pinger(threading.Thread):
    """/ping every `every` s from its own socket; the /pong comes on the state port. Latencies in ms (None: none
    within 1 s), with the time each ping was sent."""

    def __init__(self, target: tuple[str, int], rx: socket.socket, every: float = 0.1) -> None:
        super().__init__(daemon=True, name="pinger")
        self.target, self.rx, self.every = target, rx, every
        self.samples: list[tuple[float, float | None]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from installation.core.osc_wire import FramingError, parse_datagram

        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        ping = message("/ping")
        self.rx.settimeout(0.05)
        while not self.stop.is_set():
            t_sent = time.monotonic()
            tx.sendto(ping, self.target)
            got = None
            while got is None and time.monotonic() - t_sent < 1.0:
                try:
                    data = self.rx.recv(65536)
                except OSError:
                    continue
                try:
                    if any(m.address == "/pong" for m in parse_datagram(data)):
                        got = (time.monotonic() - t_sent) * 1000.0
                except FramingError:
                    pass
            self.samples.append((t_sent, got))
            time.sleep(max(0.0, self.every - (time.monotonic() - t_sent)))


def _pings(samples: list[tuple[float, float | None]], t0: float, t1: float) -> dict:
    lat = [ms for t, ms in samples if t0 <= t < t1 and ms is not None]
    missed = sum(1 for t, ms in samples if t0 <= t < t1 and ms is None)
    if not lat:
        return {"pings": missed, "unanswered": missed}
    a = np.asarray(lat)
    return {
        "pings": len(lat) + missed,
        "unanswered": missed,
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p95_ms": round(float(np.percentile(a, 95)), 2),
        "max_ms": round(float(a.max()), 2),
        "over_100ms": int((a > 100.0).sum()),
    }


def _gaps(flips: np.ndarray, t0: float, t1: float) -> dict:
    f = flips[(flips >= t0) & (flips < t1)]
    g = np.diff(f) * 1000.0
    if len(g) == 0:
        return {"frames": int(len(f))}
    return {
        "frames": int(len(f)),
        "fps": round(len(f) / (t1 - t0), 2),
        "gap_p50_ms": round(float(np.percentile(g, 50)), 2),
        "gap_p99_ms": round(float(np.percentile(g, 99)), 2),
        "gap_max_ms": round(float(g.max()), 2),
        "gaps_over_250ms": int((g > 250.0).sum()),
    }


def run_attack(seconds: float, quiet: float, rate: float, seed: int, show_config, checks) -> dict:  # noqa: ANN001
    """The show headless; `quiet` s of pings alone, then `seconds` of attack with pings, then the checks."""
    from installation.runtime.show import Show, ShowOptions

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    tmp = Path(tempfile.mkdtemp(prefix="osc-attack-"))
    planned = quiet + seconds + 20.0  # room for the checks afterwards; the show stops itself at this time
    allow = f'osc.allow=["127.0.0.1", "{ATTACKER}"]'  # the attacker is another local program than the rig
    show = Show(show_config(rx, tmp, [allow]), ShowOptions(headless=True, seconds=planned))
    result: dict = {"settings": {"attack_s": seconds, "quiet_s": quiet, "rate_per_s": rate, "seed": seed}}
    marks: dict[str, float] = {}

    def rig() -> None:
        try:
            while show.supervisor is None or "osc" not in show.supervisor.workers:
                time.sleep(0.02)
            control = show.supervisor.workers["osc"].body.__self__  # the ControlSurface
            pinger = Pinger(control.address, rx)
            marks["quiet"] = time.monotonic()
            pinger.start()
            time.sleep(quiet)
            before = control.counters.commands
            marks["attack"] = time.monotonic()
            host, port = control.address
            child = [sys.executable, __file__, "--child", f"{host}:{port}", str(rate), str(seconds), str(seed)]
            out = subprocess.run(child, capture_output=True, text=True, timeout=seconds + 60)
            marks["after"] = time.monotonic()
            result["attacker"] = json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr[-500:]}
            time.sleep(2.0)
            pinger.stop.set()
            pinger.join(2.0)
            marks["end"] = time.monotonic()
            c = control.counters
            pings = sum(1 for t, _ in pinger.samples if t >= marks["attack"])  # the pinger has stopped
            commands = c.commands - before  # each attack datagram carries a command: obeyed, it would count here
            result["commands_during_attack"] = {"applied": commands, "pings_sent": pings}
            result["obeyed_from_attack"] = max(0, commands - pings)
            result["server"] = {k: v for k, v in vars(c).items() if not k.startswith("_")}
            result["pinger_samples"] = pinger.samples
            rx.settimeout(0.2)
            result["checks"] = checks(control.address, rx)
            result["workers"] = show.supervisor.status()
        except Exception as e:  # reported in the JSON, never a hang
            result["error"] = f"{type(e).__name__}: {e}"

    rig_thread = threading.Thread(target=rig, daemon=True)
    rig_thread.start()
    t_run = time.monotonic()
    metrics = show.run()
    wall = time.monotonic() - t_run
    rig_thread.join(30.0)
    if rig_thread.is_alive():
        result["error"] = "the rig did not finish before the show ended (its checks are missing)"
    flips = np.asarray(show.metrics.flips)
    samples = result.pop("pinger_samples", [])
    phases = {"quiet": ("quiet", "attack"), "attack": ("attack", "after")}
    result["phases"] = {
        name: {**_gaps(flips, marks[a], marks[b]), "ping": _pings(samples, marks[a], marks[b])}
        for name, (a, b) in phases.items()
        if a in marks and b in marks
    }
    result["show"] = {
        "planned_s": planned,
        "ran_s": metrics["seconds"],
        "wall_s_including_start": round(wall, 2),
        "ended_on_time": abs(float(metrics["seconds"]) - planned) < 2.0,
        "fps": metrics["fps"],
        "frames": metrics["frames"],
        "restarts": metrics["restarts"],
        "frame_ms": metrics["frame_ms"],
    }
    att = result["phases"].get("attack", {})
    result["acceptance"] = {
        "no_frame_gap_over_250ms": att.get("gaps_over_250ms", 1) == 0,
        "ping_within_100ms_throughout": att.get("ping", {}).get("over_100ms", 1) == 0
        and att.get("ping", {}).get("unanswered", 1) == 0,
        "ended_on_time_with_metrics": result["show"]["ended_on_time"],
        "nothing_broken_obeyed": result.get("obeyed_from_attack", 1) == 0,
        "no_worker_restarts": metrics["restarts"] == 0,
        "answers_afterwards": all(result.get("checks", {}).values()) and bool(result.get("checks")),
    }
    result["ok"] = all(result["acceptance"].values())
    return result


if __name__ == "__main__":  # the attacker process: --child HOST:PORT RATE SECONDS SEED
    argv = sys.argv[1:]
    if argv[:1] != ["--child"] or len(argv) != 5:
        raise SystemExit("run through: python benchmarks/osc_fuzz.py --attack --json FILE")
    host, _, port = argv[1].rpartition(":")
    print(json.dumps(_child((host, int(port)), float(argv[2]), float(argv[3]), int(argv[4]))))
