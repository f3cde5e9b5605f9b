"""`run.py bench --ndi`: NDI frame latency sent → received on loopback, and the display rate with NDI on and off.

    .venv/bin/pip install -r requirements-ndi.txt
    python run.py bench --ndi --json benchmarks/ndi-cpu-2core.json

Latency: one process, the real NDI library (cyndilib's bundled runtime), discovery asked at 127.0.0.1; a
1280×720 RGBA source fed at 60 fps with frames numbered in their corner (installation/adapters/ndi_code.py);
the receiver pairs each frame it gets with its send time: milliseconds, and frames at 60 fps (16.7 ms).
Display rate: the headless show (`run.py demo` replay, 1280×720 at 60 fps target, no frame files) for
`--e2e-seconds` with ndi.enabled off, then on (three sources: screen, AI, sketch), alternating twice in one run;
NDI frames sent are counted from the worker.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from installation.core.errors import UserError

log = logging.getLogger(__name__)
FRAME_S = 1 / 60


def latency(seconds: float) -> dict:
    from installation.adapters import ndi, ndi_code

    ndi.configure(["127.0.0.1"])
    name = f"bench-{os.getpid()}"
    sender = ndi.NdiSender(name, 1280, 720, 60)
    base = np.zeros((720, 1280, 4), np.uint8)
    base[..., 3] = 255
    base[100:600, 200:1000, :3] = 160
    sent: dict[int, float] = {}
    stop = threading.Event()

    def feed() -> None:
        n, t_next = 0, time.perf_counter()
        while not stop.is_set():
            frame = ndi_code.stamp(base, n)
            sent[n] = time.perf_counter()
            sender.send(frame)
            n += 1
            t_next += FRAME_S
            time.sleep(max(0.0, t_next - time.perf_counter()))

    th = threading.Thread(target=feed, daemon=True)
    th.start()
    receiver = ndi.NdiReceiver(name, 10.0)
    lat: list[float] = []
    t_end = time.perf_counter() + seconds
    warm_until = time.perf_counter() + 1.0  # the connection's first second is not counted
    while time.perf_counter() < t_end:
        f = receiver.receive(100)
        t = time.perf_counter()
        if f is None or t < warm_until:
            continue
        n = ndi_code.read(f)
        if n in sent:
            lat.append((t - sent[n]) * 1000.0)
    stop.set()
    th.join()
    frames_sent = len(sent)
    receiver.close()
    sender.close()
    a = np.asarray(lat)
    return {
        "size": [1280, 720],
        "fps_sent": 60,
        "seconds": seconds,
        "frames_sent": frames_sent,
        "frames_received": len(lat),
        "ms": {
            "p50": round(float(np.percentile(a, 50)), 1),
            "p95": round(float(np.percentile(a, 95)), 1),
            "max": round(float(a.max()), 1),
        },  # fmt: skip
        "frames_at_60fps": {
            "p50": round(float(np.percentile(a, 50)) / 16.667, 2),
            "p95": round(float(np.percentile(a, 95)) / 16.667, 2),
        },  # fmt: skip
    }


def show_fps(enabled: bool, seconds: float) -> dict:
    from installation.core.config import load_config
    from installation.verbs.demo import run_headless

    with tempfile.TemporaryDirectory() as tmp:
        sets = ['input.source="replay"', "archive.enabled=false", "display.fullscreen=false", "osc.enabled=false",
                f"ndi.enabled={'true' if enabled else 'false'}", 'ndi.extra_ips=["127.0.0.1"]',
                f"logging.file={json.dumps(str(Path(tmp) / 'log.jsonl'))}"]  # fmt: skip
        m = run_headless(load_config(None, sets), seconds, None)
    return {"ndi": enabled, "fps": m["fps"], "frame_ms_p95": m["frame_ms"]["p95"], "ndi_sent": m.get("ndi_sent")}


def run(out: Path, seconds: float = 15.0, rounds: int = 2, latency_s: float = 10.0) -> dict:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from installation.adapters import ndi

    why = ndi.unavailable()
    if why:
        raise UserError(f"bench --ndi: {why}")
    load = os.getloadavg()[0]
    lat = latency(latency_s)
    runs = []
    for _ in range(rounds):
        runs += [show_fps(False, seconds), show_fps(True, seconds)]
    off = statistics.mean(r["fps"] for r in runs if not r["ndi"])
    on = statistics.mean(r["fps"] for r in runs if r["ndi"])
    from cyndilib.wrapper.ndi_structs import get_ndi_version

    record = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "ndi_runtime": get_ndi_version(),
        "load_average_1min_at_start": round(load, 1),
        "latency": lat,
        "display": {
            "fps_off": round(off, 1),
            "fps_on": round(on, 1),
            "ratio_on_off": round(on / off, 2),
            "runs": runs,
        },  # fmt: skip
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2))
    log.info("NDI bench: %s", json.dumps(record))
    return record
