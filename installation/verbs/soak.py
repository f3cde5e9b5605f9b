"""`run.py soak`: the real show, headless, replaying the embedded sessions fast for a long time.

It measures what an unattended gallery day needs: crashes (a Show.run that raised; the soak starts it again
and counts), worker restarts (faults can be injected on a schedule: a real exception inside a worker, or the
OSC socket closed), resident memory at warm-up and at the end, the largest gap between two frames, and
whether every finished work is in the archive, complete (each file's sha256 checked against its meta.json).
The show paces at the display's frame rate, so a soak does not spin the CPU.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.config import load_config
from installation.core.errors import UserError
from installation.core.files import check_writable
from installation.runtime.archive import Archive
from installation.runtime.health import rss_mb
from installation.runtime.show import Show, ShowOptions

log = logging.getLogger(__name__)
FAULTS = ("inference", "osc-socket", "archive", "osc")  # injected in turn


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to run (wall clock)")
    parser.add_argument("--speed", type=float, default=10.0, help="replay speed (10: a 5-hour day in 30 minutes)")
    parser.add_argument("--fps", type=int, default=30, help="display frame rate the show paces at")
    parser.add_argument("--inject-every-s", type=float, default=0.0, help="inject a worker fault this often (0: never)")
    parser.add_argument("--out", type=Path, default=Path("out/soak"), help="archive, logs and frames go here")
    parser.add_argument("--json", type=Path, help="write the results here (e.g. benchmarks/soak-cpu-2core.json)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="config override")


def run_soak(
    seconds: float, speed: float, out: Path, fps: int = 30, inject_every_s: float = 0.0, overrides: list[str] = ()
) -> dict[str, Any]:
    if seconds <= 0 or speed <= 0:
        raise UserError("soak: --minutes and --speed must be positive")
    cfg = load_config(
        None,
        [
            'input.source="replay"',
            f"input.replay_speed={speed}",
            "display.fullscreen=false",
            "display.width=640",
            "display.height=360",
            f"display.fps={fps}",
            "osc.port=0",
            "osc.state_out=[]",
            f"archive.root={json.dumps(str(out / 'archive'))}",
            f"logging.file={json.dumps(str(out / 'logs' / 'installation.jsonl'))}",
            "supervision.initial_backoff_s=0.2",
            *overrides,
        ],
    )
    warm_up_s = min(120.0, max(5.0, 0.1 * seconds))
    t0 = time.monotonic()
    samples: list[tuple[float, float]] = []  # (seconds since start, RSS MB)
    done = threading.Event()
    stopped = threading.Event()  # SIGTERM: end early, still write the report
    shows: list[Show] = []
    faults: list[dict[str, Any]] = []

    def sampler() -> None:
        next_fault = inject_every_s
        while not done.wait(1.0):
            t = time.monotonic() - t0
            if not samples or t - samples[-1][0] >= 5.0:
                samples.append((round(t, 1), rss_mb()))
            if inject_every_s > 0 and t >= next_fault and shows and shows[-1].supervisor is not None:
                next_fault += inject_every_s
                faults.append(_inject(shows[-1], FAULTS[len(faults) % len(FAULTS)], t))

    previous = signal.signal(signal.SIGTERM, lambda *_: (stopped.set(), shows and shows[-1].stop.set()))
    thread = threading.Thread(target=sampler, name="soak-sampler", daemon=True)
    thread.start()
    crashes: list[str] = []
    summaries: list[dict[str, Any]] = []
    gaps: list[np.ndarray] = []
    worst_at: list[tuple[float, float]] = []  # (seconds since start, gap ms)
    while (left := seconds - (time.monotonic() - t0)) > 1.0 and not stopped.is_set():
        show = Show(cfg, ShowOptions(headless=True, seconds=left))
        shows.append(show)
        try:
            summaries.append(show.run())
        except Exception as e:  # a crash of the whole show: count it, start again (as a service manager would)
            log.exception("soak: the show crashed")
            crashes.append(f"{type(e).__name__}: {e}")
        flips = np.asarray(show.metrics.flips)
        gaps.append(np.diff(flips) * 1000.0 if len(flips) > 1 else np.zeros(0))
        if len(flips) > 1:  # when the largest gaps happened (seconds since the soak began), to tell their cause
            worst = np.argsort(gaps[-1])[-5:][::-1]
            worst_at.extend((round(float(flips[i + 1] - t0), 1), round(float(gaps[-1][i]), 1)) for i in worst)
    done.set()
    thread.join(2)
    signal.signal(signal.SIGTERM, previous)
    root = cfg.resolve(cfg.archive.root)
    report = _report(root, seconds, speed, fps, warm_up_s, samples, crashes, summaries, gaps, faults)
    report["frame_gap_ms"]["largest_at_s"] = sorted(worst_at, key=lambda x: -x[1])[:5]
    return report


def _inject(show: Show, fault: str, t: float) -> dict[str, Any]:
    from installation.adapters.osc_server import ControlSurface

    sup = show.supervisor
    assert sup is not None
    if fault == "osc-socket":
        body = sup.workers["osc"].body
        control = getattr(body, "__self__", None)
        if isinstance(control, ControlSurface):
            control.close_socket()
    else:
        sup.inject(fault, RuntimeError(f"soak fault injected at {t:.0f} s"))
    log.warning("soak: injected %s fault at %.0f s", fault, t)
    return {"t_s": round(t, 1), "fault": fault}


def _report(
    root: Path,
    seconds: float,
    speed: float,
    fps: int,
    warm_up_s: float,
    samples: list[tuple[float, float]],
    crashes: list[str],
    summaries: list[dict[str, Any]],
    gaps: list[np.ndarray],
    faults: list[dict[str, Any]],
) -> dict[str, Any]:
    warm = next((m for t, m in samples if t >= warm_up_s), samples[-1][1] if samples else 0.0)
    end = samples[-1][1] if samples else 0.0
    all_gaps = np.concatenate(gaps) if gaps else np.zeros(0)
    finished = sum(int(s.get("works_finished", 0)) for s in summaries)
    archived = sum(int(s.get("works_archived", 0)) for s in summaries)
    on_disk, verified = _verify(root)
    return {
        "wall_s": round(seconds, 1),
        "replay_speed": speed,
        "replayed_hours": round(seconds * speed / 3600, 2),
        "display_fps": fps,
        "crashes": len(crashes),
        "crash_errors": crashes[:10],
        "faults_injected": faults,
        "worker_restarts": sum(int(s.get("restarts", 0)) for s in summaries),
        "rss_mb": {
            "warm_up_at_s": warm_up_s,
            "warm": warm,
            "end": end,
            "max": max((m for _, m in samples), default=0.0),
            "growth_pct": round(100.0 * (end - warm) / warm, 2) if warm else None,
        },
        "frames": int(len(all_gaps) + len(gaps)),
        "fps": round(float(np.mean([s["fps"] for s in summaries])), 2) if summaries else 0.0,
        "frame_gap_ms": {
            "p50": round(float(np.percentile(all_gaps, 50)), 2) if len(all_gaps) else 0.0,
            "p99": round(float(np.percentile(all_gaps, 99)), 2) if len(all_gaps) else 0.0,
            "max": round(float(all_gaps.max()), 2) if len(all_gaps) else 0.0,
            "over_250ms": int((all_gaps > 250).sum()),
        },
        "ai_updates": sum(int(s.get("ai_updates", 0)) for s in summaries),
        "works": {
            "finished": finished,
            "archived": archived,
            "failed": sum(int(s.get("works_failed", 0)) for s in summaries),
            "dropped": sum(int(s.get("works_dropped", 0)) for s in summaries),
            "on_disk": on_disk,
            "verified_complete": verified,
        },
        "rss_samples": samples[:: max(1, len(samples) // 60)],
    }


def _verify(root: Path) -> tuple[int, int]:
    """(works on disk, works whose every file matches its recorded size and sha256): `archive verify`'s check."""
    from installation.runtime.archive_check import check_archive

    report = check_archive(Archive(root))
    return len(report.complete) + len(report.damaged), len(report.complete)


def main(args: argparse.Namespace) -> int:
    if args.out.exists() and any((args.out / "archive").glob("works/*")):
        raise UserError(f"soak output {args.out} already holds an archive: choose an empty --out folder")
    check_writable(args.json, "--json")
    result = run_soak(args.minutes * 60.0, args.speed, args.out, args.fps, args.inject_every_s, args.set)
    text = json.dumps(result, indent=2)
    log.info("soak: %s", json.dumps({k: v for k, v in result.items() if k != "rss_samples"}))
    if args.json is not None:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(text + "\n")
        except OSError as e:
            raise UserError(f"cannot write {args.json} ({e}): choose a writable --json path") from e
    return 0 if result["crashes"] == 0 and result["works"]["finished"] == result["works"]["verified_complete"] else 1
