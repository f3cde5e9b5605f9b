"""Watchdog soak: this script plays systemd's part for the show (Type=notify, WatchdogSec, Restart=on-failure).

    python benchmarks/watchdog_soak.py --cycles 3 --json benchmarks/watchdog-cpu-2core.json

It binds its own unix datagram socket, starts the real show (`run.py live`, headless, replaying the embedded
sessions) with $NOTIFY_SOCKET and $WATCHDOG_USEC pointing at it, and reads the show's READY=1 / WATCHDOG=1 /
STOPPING=1 messages (the sender's pid from SCM_CREDENTIALS, as systemd checks it). Each cycle it freezes the
show with SIGSTOP, notices the missing WATCHDOG=1 once `--watchdog-s` has passed since the last one, sends
SIGABRT (+ SIGCONT, as systemd does; SIGKILL after 5 s), waits `--restart-s` and starts the show again,
recording the time to recovery: from the stop to READY=1 of the new process, which the show sends right
after its first frame. Last, it stalls the archive worker of a fresh show (a stuck thread, not replaced),
lets works pile up behind it, sends SIGTERM and measures how long the show takes to exit (bound: 5 s) and
whether it wrote metrics.json.

`--child` is the show process itself: `run.py live` with an optional stuck worker (`--stall NAME`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# -- the show process ---------------------------------------------------------------------------------------
def child(argv: list[str]) -> int:
    """`run.py live ARGS`, with `--stall NAME --stall-after S` making that worker stuck S seconds in."""
    import logging

    from installation.verbs import live as app

    p = argparse.ArgumentParser()
    p.add_argument("--stall")
    p.add_argument("--stall-after", type=float, default=3.0)
    own, rest = p.parse_known_args(argv)
    import run

    args = run.build_parser("live").parse_args(rest)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    show, cfg = app.build_show(args)
    if own.stall:

        def stall() -> None:
            while show.supervisor is None or own.stall not in show.supervisor.workers:
                time.sleep(0.05)
            time.sleep(own.stall_after)
            show.supervisor.stall(own.stall, 3600.0)
            print(f"stalled {own.stall}", flush=True)

        threading.Thread(target=stall, daemon=True).start()
    return app.serve(show, cfg, args.out)


# -- the service manager ------------------------------------------------------------------------------------
class Manager:
    def __init__(self, out: Path, watchdog_s: float, abstract: bool) -> None:
        self.out = out
        self.watchdog_s = watchdog_s
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.env_name = f"@live-installation-watchdog-{os.getpid()}"
            self.sock.bind("\0" + self.env_name[1:])
        else:
            path = out / "notify.sock"
            path.unlink(missing_ok=True)
            self.sock.bind(str(path))
            self.env_name = str(path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.proc: subprocess.Popen | None = None
        self.n = 0

    def start(self, *extra: str, stall: str = "", after: float = 0.0) -> subprocess.Popen:
        self.n += 1
        run_dir = self.out / f"run{self.n}"
        env = {**os.environ, "NOTIFY_SOCKET": self.env_name, "WATCHDOG_USEC": str(int(self.watchdog_s * 1e6))}
        env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONFAULTHANDLER="1")
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            *(["--stall", stall, "--stall-after", str(after)] if stall else []),
        ]
        cmd += ["--source", "replay", "--headless", "--out", str(run_dir), *_show_settings(run_dir), *extra]
        run_dir.mkdir(parents=True, exist_ok=True)
        log = (run_dir / "stderr.log").open("wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self.proc

    def receive(self, timeout: float) -> tuple[float, str] | None:
        """The next message from the current show process (others are ignored), or None after `timeout`."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except TimeoutError:
                return None
            t = time.monotonic()
            creds = [d for lv, ty, d in anc if (lv, ty) == (socket.SOL_SOCKET, socket.SCM_CREDENTIALS)]
            pid = struct.unpack("3i", creds[0][:12])[0] if creds else None  # (pid, uid, gid) of the sender
            if self.proc is not None and pid == self.proc.pid:
                return t, data.decode("utf-8", "replace")
        return None

    def wait_ready(self, timeout: float = 120.0) -> float | None:
        end = time.monotonic() + timeout
        while (got := self.receive(end - time.monotonic())) is not None:
            if "READY=1" in got[1].split("\n"):
                return got[0]
        return None

    def kill_like_systemd(self) -> str:
        """WatchdogSignal=SIGABRT (with SIGCONT so a stopped process can take it), SIGKILL after 5 s."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGABRT)
        self.proc.send_signal(signal.SIGCONT)
        try:
            self.proc.wait(5.0)
            return "SIGABRT"
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5.0)
            return "SIGKILL"


def _show_settings(run_dir: Path) -> list[str]:
    sets = [
        "display.width=640",
        "display.height=360",
        "display.fps=30",
        "osc.port=0",
        "osc.state_out=[]",
        "input.replay_speed=10",
        f"archive.root={json.dumps(str(run_dir / 'archive'))}",
        f"logging.file={json.dumps(str(run_dir / 'logs' / 'installation.jsonl'))}",
        f"paths.saved={json.dumps(str(run_dir / 'saved'))}",
    ]
    return [x for s in sets for x in ("--set", s)]


def cycle(m: Manager, run_s: float, restart_s: float) -> dict:
    """One freeze: run, SIGSTOP, detect the missing heartbeat, kill, restart, time the first frame."""
    assert m.proc is not None
    beats: list[float] = []
    end = time.monotonic() + run_s
    while time.monotonic() < end and (got := m.receive(end - time.monotonic())) is not None:
        if got[1] == "WATCHDOG=1":
            beats.append(got[0])
    m.proc.send_signal(signal.SIGSTOP)
    t_stop = time.monotonic()
    last = beats[-1] if beats else t_stop
    while (got := m.receive(last + m.watchdog_s - time.monotonic())) is not None:
        last = got[0] if got[1] == "WATCHDOG=1" else last  # one already queued before the stop
    t_detect = time.monotonic()
    killed_by = m.kill_like_systemd()
    time.sleep(restart_s)
    m.start()
    t_ready = m.wait_ready()
    gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
    return {
        "watchdogs_before_stop": len(beats),
        "max_watchdog_gap_s": round(max(gaps), 3) if gaps else None,
        "detected_after_stop_s": round(t_detect - t_stop, 3),
        "detected_after_last_watchdog_s": round(t_detect - last, 3),
        "killed_by": killed_by,
        "first_frame_after_detect_s": round(t_ready - t_detect, 3) if t_ready else None,
        "recovery_s": round(t_ready - t_stop, 3) if t_ready else None,  # frozen → first frame of the new show
    }


def sigterm_with_stuck_worker(m: Manager, run_s: float) -> dict:
    """A fresh show whose archive writer is stuck (not replaced): SIGTERM, then time to exit."""
    assert m.proc is not None
    m.proc.send_signal(signal.SIGTERM)  # the previous show ends normally first
    m.proc.wait(30)
    m.start("--set", "supervision.stall_after_s=600", "--set", "input.replay_speed=20", stall="archive", after=1.0)
    m.wait_ready()
    time.sleep(run_s)
    run_dir = m.out / f"run{m.n}"
    t0 = time.monotonic()
    m.proc.send_signal(signal.SIGTERM)
    stopping = None
    while stopping is None and (got := m.receive(10.0)) is not None:
        stopping = got[0] if got[1] == "STOPPING=1" else None
    try:
        rc = m.proc.wait(30)
    except subprocess.TimeoutExpired:
        m.proc.kill()
        rc = m.proc.wait(5)
    exit_s = time.monotonic() - t0
    metrics = json.loads((run_dir / "metrics.json").read_text()) if (run_dir / "metrics.json").is_file() else {}
    return {
        "exit_s": round(exit_s, 3),
        "stopping_after_s": round(stopping - t0, 3) if stopping else None,
        "returncode": rc,
        "metrics_written": bool(metrics),
        "archive_worker": metrics.get("workers", {}).get("archive"),
        "works_finished": metrics.get("works_finished"),
        "works_archived": metrics.get("works_archived"),
    }


def main() -> int:
    if "--child" in sys.argv[1:]:
        argv = sys.argv[1:]
        argv.remove("--child")
        return child(argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cycles", type=int, default=3, help="freezes and restarts")
    p.add_argument("--run-s", type=float, default=10.0, help="seconds the show runs before each freeze")
    p.add_argument("--watchdog-s", type=float, default=2.0, help="WatchdogSec of the imagined unit")
    p.add_argument("--restart-s", type=float, default=0.5, help="RestartSec")
    p.add_argument("--abstract", action="store_true", help="an abstract socket name (@...) instead of a path")
    p.add_argument("--out", type=Path, default=Path("out/watchdog"))
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    m = Manager(args.out.resolve(), args.watchdog_s, args.abstract)
    t0 = time.monotonic()
    m.start()
    t_ready = m.wait_ready()
    result: dict = {
        "watchdog_s": args.watchdog_s,
        "restart_s": args.restart_s,
        "notify_socket": "abstract" if args.abstract else "path",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "first_ready_s": round(t_ready - t0, 3) if t_ready else None,
        "cycles": [],
    }
    try:
        for _ in range(args.cycles):
            result["cycles"].append(cycle(m, args.run_s, args.restart_s))
            print(json.dumps(result["cycles"][-1]), flush=True)
        result["sigterm_stuck_archive"] = sigterm_with_stuck_worker(m, args.run_s)
    finally:
        if m.proc is not None and m.proc.poll() is None:
            m.proc.kill()
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    rec = [c["recovery_s"] for c in result["cycles"] if c["recovery_s"] is not None]
    result["recovery_s"] = {"max": max(rec), "mean": round(sum(rec) / len(rec), 3)} if rec else None
    result["ok"] = len(rec) == args.cycles and result["sigterm_stuck_archive"]["exit_s"] < 5.0
    text = json.dumps(result, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
