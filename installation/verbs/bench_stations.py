"""`run.py bench --stations 1,2,4,8 --json FILE`: N headless stations against one Triton server, and locally.

For each N, three cases in one run: N stations on their own local models (ONNX Runtime in each station), N
stations against one PyTriton server with dynamic batching (NAME), and the same server's NAME_nobatch (max
batch 1). A station is the real show (`run_headless`: replayed sessions, the inference worker, the renderer),
one process each, started together; each reports its AI updates/s, pen-to-photon p50/p95 and where its answers
came from. The server's statistics extension gives, per case, the sketches it served per second and how many
of its executions had each batch size. The server runs from .venv-triton (scripts/setup_triton.sh).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from installation.core.errors import UserError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
MODEL = "pix2pix_default_u8"
STATION = [
    'input.source="replay"',
    "display.width=640",
    "display.height=360",
    "display.fps=30",
    "osc.port=0",
    "osc.state_out=[]",
    "archive.enabled=false",
    'logging.file=""',
    "clip.enabled=false",
    'model.providers=["cpu"]',
    "model.threads=1",
    "model.timeout_s=10",
]  # fmt: skip  (a long request limit: on an overloaded machine a late answer is measured, not replaced)


def parse_counts(text: str) -> list[int]:
    try:
        counts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UserError(f"--stations {text!r}: give station counts separated by commas, e.g. 1,2,4,8") from None
    if not counts or not all(1 <= n <= 32 for n in counts):
        raise UserError(f"--stations {text!r}: each count must be 1..32")
    return counts


def run_stations(n: int, overrides: list[str], seconds: float, tmp: Path) -> list[dict[str, Any]]:
    """N station processes at once; their metrics summaries."""
    procs = []
    for i in range(n):
        out = tmp / f"station-{i}.json"
        cmd = [sys.executable, "-m", "installation.verbs.bench_stations", "--child", str(out), str(seconds)]
        procs.append((subprocess.Popen([*cmd, *STATION, *overrides], cwd=ROOT), out))
    results = []
    for proc, out in procs:
        if proc.wait(seconds + 180) != 0 or not out.is_file():
            raise UserError(f"a benchmark station failed (exit {proc.returncode}): run it alone to see why")
        results.append(json.loads(out.read_text()))
        out.unlink()
    return results


def _batch_counts(stats: dict[str, Any]) -> tuple[int, dict[int, int]]:
    (ms,) = stats.get("model_stats", [{}])
    sizes = {int(b["batch_size"]): int(b["compute_infer"]["count"]) for b in ms.get("batch_stats", [])}
    return int(ms.get("inference_count", 0)), sizes


def case(label: str, n: int, overrides: list[str], seconds: float, tmp: Path, stats: Any = None) -> dict[str, Any]:  # noqa: ANN401
    before = _batch_counts(stats()) if stats else (0, {})
    t0 = time.monotonic()
    rows = run_stations(n, overrides, seconds, tmp)
    wall = time.monotonic() - t0
    per = [
        {
            "ai_updates_per_s": r["ai_updates_per_s"],
            "latency_ms_p50": r["latency_ms"]["p50"],
            "latency_ms_p95": r["latency_ms"]["p95"],
            "fps": r["fps"],
            "frame_ms_max": r["frame_ms"]["max"],
            "remote": r.get("remote"),
        }
        for r in rows
    ]
    out: dict[str, Any] = {
        "case": label,
        "stations": n,
        "per_station": per,
        "ai_updates_per_s_mean": round(sum(p["ai_updates_per_s"] for p in per) / n, 2),
        "ai_updates_per_s_total": round(sum(p["ai_updates_per_s"] for p in per), 2),
        "latency_ms_p95_worst": max(p["latency_ms_p95"] for p in per),
        "latency_ms_p95_median": sorted(p["latency_ms_p95"] for p in per)[n // 2],
    }
    if stats:
        count, sizes = _batch_counts(stats())
        served = count - before[0]
        hist = {s: sizes.get(s, 0) - before[1].get(s, 0) for s in sorted(sizes)}
        execs = sum(hist.values())
        out["server"] = {
            "sketches": served,
            "sketches_per_s": round(served / wall, 2),  # over the whole case, station start-up included
            "sketches_per_s_show": round(
                sum((p["remote"] or {}).get("remote_answers", 0) for p in per) / seconds, 2
            ),  # answers the stations got from it, over their show time
            "executions": execs,
            "mean_batch": round(served / execs, 2) if execs else 0.0,
            "batch_sizes": {str(s): c for s, c in hist.items() if c},
            "local_answers": sum((p["remote"] or {}).get("local_answers", 0) for p in per),
        }
    log.info("%s x%d: %.1f AI updates/s per station, p95 %.0f ms", label, n, out["ai_updates_per_s_mean"],
             out["latency_ms_p95_median"])  # fmt: skip
    return out


def warm_up(http: Any, models: list[str]) -> None:  # noqa: ANN401 - HttpTransport
    """Every batch size once per model before timing (ONNX Runtime sizes its buffers on the first run of each)."""
    import numpy as np

    from installation.runtime.triton_client import wait_ready

    for model in models:
        # the server reports ready before every bound model is: wait for each (an idle machine won the race)
        if not wait_ready(http, model, 60.0):
            raise UserError(f"Triton model {model} did not become ready within 60 s: see the server's log above")
        sizes = (1,) if model.endswith("_nobatch") else (1, 2, 3, 4, 5, 6, 7, 8)
        for k in sizes:
            http.infer(model, "sketch_u8", np.full((k, 256, 256), 255, np.uint8), "image_u8")


def server_load(label: str, n: int, port: int, model: str, seconds: float, stats: Any) -> dict[str, Any]:  # noqa: ANN401
    """N clients, each sending its next sketch as soon as the last answer came (a station's latest-value loop
    with no rendering): sketches served per second, round trip p50/p95, the server's batch sizes."""
    import threading

    import numpy as np

    from installation.runtime.triton_client import HttpTransport

    before = _batch_counts(stats())
    trips: list[list[float]] = [[] for _ in range(n)]
    t_end = time.monotonic() + seconds

    def client(i: int) -> None:
        t = HttpTransport("127.0.0.1", port, 30.0)
        rng = np.random.default_rng(i)
        x = np.full((1, 256, 256), 255, np.uint8)
        while time.monotonic() < t_end:
            r, c = rng.integers(10, 240, 2)
            x[0, r : r + 6, c : c + 6] = 0  # the drawing grows, as a visitor's does
            t0 = time.perf_counter()
            t.infer(model, "sketch_u8", x, "image_u8")
            trips[i].append((time.perf_counter() - t0) * 1000.0)
        t.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    wall = time.monotonic() - t0
    count, sizes = _batch_counts(stats())
    hist = {str(k): sizes.get(k, 0) - before[1].get(k, 0) for k in sorted(sizes)}
    execs = sum(hist.values())
    every = sorted(x for t in trips for x in t)
    out = {
        "case": label,
        "clients": n,
        "sketches": len(every),
        "sketches_per_s": round(len(every) / wall, 2),
        "round_trip_ms_p50": round(every[len(every) // 2], 1) if every else 0.0,
        "round_trip_ms_p95": round(every[min(len(every) - 1, int(0.95 * len(every)))], 1) if every else 0.0,
        "server_count": count - before[0],
        "mean_batch": round((count - before[0]) / execs, 2) if execs else 0.0,
        "batch_sizes": {k: v for k, v in hist.items() if v},
    }
    log.info("server load %s x%d: %.1f sketches/s, mean batch %.2f", label, n, out["sketches_per_s"],
             out["mean_batch"])  # fmt: skip
    return out


def main(args: argparse.Namespace) -> int:
    from installation.runtime.triton_client import HttpTransport
    from installation.runtime.triton_repo import SHIPPED, write_repo
    from installation.runtime.triton_server import Ports, TritonServer, triton_env
    from installation.verbs.bench import machine

    counts = parse_counts(args.stations)
    if triton_env()[0] is None:
        raise UserError(f"--stations needs the Triton server environment: {triton_env()[1]}")
    seconds = args.e2e_seconds
    out: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "stations": counts, "seconds_per_case": seconds, "station": STATION, "server_threads": args.server_threads,
            "load_seconds": args.load_seconds,
            "queue_delay_us": 2000, "max_batch": 8, "model": MODEL,
        },
        "cases": [],
        "server_load": [],
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-stations-") as tmp_s:
        tmp = Path(tmp_s)
        write_repo(tmp / "repo", SHIPPED, "cpu", 8, 2000, 1)
        server = TritonServer(tmp / "repo", Ports.free(), models=[MODEL], no_batch=True, threads=args.server_threads,
                              log_file=tmp / "server.log")  # fmt: skip
        server.start(MODEL)
        http = HttpTransport("127.0.0.1", server.ports.http, 60.0)
        try:
            url = f"127.0.0.1:{server.ports.http}"
            warm_up(http, [MODEL, MODEL + "_nobatch"])
            out["settings"]["load_average_before"] = [round(v, 2) for v in os.getloadavg()]
            for n in counts:  # the server alone: N clients in a closed loop, batching on and off
                for name, label in ((MODEL, "batching"), (MODEL + "_nobatch", "no-batching")):
                    out["server_load"].append(
                        server_load(label, n, server.ports.http, name, args.load_seconds, lambda m=name: http.stats(m))
                    )
            if args.skip_e2e:
                counts = []
            for n in counts:
                out["cases"].append(case("local", n, [], seconds, tmp))
                for name, label in ((MODEL, "triton"), (MODEL + "_nobatch", "triton-nobatch")):
                    remote = ['model.backend="triton"', f'model.url="{url}"', f'model.triton_model="{name}"']
                    out["cases"].append(case(label, n, remote, seconds, tmp, lambda m=name: http.stats(m)))
        finally:
            server.stop()
    out["settings"]["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    out["summary"] = summary(out["cases"])
    out["load_summary"] = load_summary(out["server_load"])
    from installation.core.files import write_text_atomic

    write_text_atomic(args.json, json.dumps(out, indent=2), fix="choose a writable --json path")
    print(table(out))
    return 0


def summary(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Per N: per-station updates/s and p95 for each case, and batching's gain in sketches served per second."""
    by = {(c["case"], c["stations"]): c for c in cases}
    out: dict[str, Any] = {}
    for n in sorted({c["stations"] for c in cases}):
        row: dict[str, Any] = {}
        for label in ("local", "triton", "triton-nobatch"):
            c = by.get((label, n))
            if c is not None:
                key = label.replace("-", "_")
                row[f"{key}_updates_per_s"] = c["ai_updates_per_s_mean"]
                row[f"{key}_p95_ms"] = c["latency_ms_p95_median"]
                if "server" in c:
                    row[f"{key}_server_per_s"] = c["server"]["sketches_per_s_show"]
                    row[f"{key}_mean_batch"] = c["server"]["mean_batch"]
        on, off = row.get("triton_server_per_s"), row.get("triton_nobatch_server_per_s")
        if on and off:
            row["batching_gain"] = round(on / off, 2)
        out[str(n)] = row
    return out


def load_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by = {(r["case"], r["clients"]): r for r in rows}
    out: dict[str, Any] = {}
    for n in sorted({r["clients"] for r in rows}):
        on, off = by.get(("batching", n)), by.get(("no-batching", n))
        if on and off:
            out[str(n)] = {
                "batching_per_s": on["sketches_per_s"],
                "no_batching_per_s": off["sketches_per_s"],
                "gain": round(on["sketches_per_s"] / off["sketches_per_s"], 2) if off["sketches_per_s"] else None,
                "batching_p95_ms": on["round_trip_ms_p95"],
                "no_batching_p95_ms": off["round_trip_ms_p95"],
                "mean_batch": on["mean_batch"],
            }
    return out


def table(out: dict[str, Any]) -> str:
    lines = [
        "| stations | local: updates/s, p95 ms | triton batching: updates/s, p95 ms, served/s, mean batch | "
        "triton no batching: updates/s, p95 ms, served/s | gain |",
        "|---|---|---|---|---|",
    ]
    for n, r in out["summary"].items():
        lines.append(
            f"| {n} | {r.get('local_updates_per_s')}, {r.get('local_p95_ms')} | {r.get('triton_updates_per_s')}, "
            f"{r.get('triton_p95_ms')}, {r.get('triton_server_per_s')}, {r.get('triton_mean_batch')} | "
            f"{r.get('triton_nobatch_updates_per_s')}, {r.get('triton_nobatch_p95_ms')}, "
            f"{r.get('triton_nobatch_server_per_s')} | {r.get('batching_gain')} |"
        )
    lines += ["", "| clients | batching: sketches/s, p95 ms, mean batch | no batching: sketches/s, p95 ms | gain |",
              "|---|---|---|---|"]  # fmt: skip
    for n, r in out.get("load_summary", {}).items():
        lines.append(
            f"| {n} | {r['batching_per_s']}, {r['batching_p95_ms']}, {r['mean_batch']} | {r['no_batching_per_s']}, "
            f"{r['no_batching_p95_ms']} | {r['gain']} |"
        )
    return "\n".join(lines)


def _child(argv: list[str]) -> int:
    """One station: the headless show for SECONDS with the overrides; its metrics summary to OUT."""
    from installation.core.config import load_config
    from installation.verbs.demo import run_headless

    out, seconds, overrides = Path(argv[0]), float(argv[1]), argv[2:]
    logging.basicConfig(level=logging.WARNING)
    metrics = run_headless(load_config(None, overrides), seconds, None)
    out.write_text(json.dumps(metrics, default=str))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        raise SystemExit(_child(sys.argv[2:]))
