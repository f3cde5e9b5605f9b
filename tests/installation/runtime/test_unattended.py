"""The show unattended: workers fail and come back while frames keep coming, every finished work is archived,
an unwritable archive never stops the show, logs rotate within their bound, and a short soak passes."""

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from installation.core.config import load_config
from installation.core.session import PenEvent, Session, write_session
from installation.runtime.archive import Archive
from installation.runtime.show import Show, ShowOptions

ROOT = Path(__file__).resolve().parents[3]


def _sessions(tmp: Path, n: int = 3) -> list[Path]:
    """Short drawings (0.6 s each): at replay speed 4 a work finishes every ~0.3 s."""
    out = []
    for k in range(n):
        ev = [PenEvent("down", 0.0, 200 + 50 * k, 200, 0.8)]
        ev += [PenEvent("move", 0.02 * i, 200 + 50 * k + 15 * i, 200 + 9 * i * (k + 1), 0.8) for i in range(1, 30)]
        ev.append(PenEvent("up", 0.6))
        path = tmp / f"s{k}.jsonl"
        write_session(path, Session(1024, tuple(ev), f"s{k}"))
        out.append(path)
    return out


def _cfg(tmp: Path, *extra: str):  # noqa: ANN202
    return load_config(
        None,
        [
            'input.source="replay"',
            "input.replay_speed=4",
            "display.fullscreen=false",
            "display.width=320",
            "display.height=200",
            "display.fps=30",
            "osc.port=0",
            "osc.state_out=[]",
            "supervision.initial_backoff_s=0.05",
            f"archive.root={json.dumps(str(tmp / 'archive'))}",
            f"logging.file={json.dumps(str(tmp / 'logs' / 'i.jsonl'))}",
            *extra,
        ],
    )


def test_workers_fail_and_recover_while_frames_keep_coming_and_every_work_is_archived(tmp_path: Path, caplog) -> None:  # noqa: ANN001
    show = Show(
        _cfg(tmp_path, "supervision.health_every_s=1"),
        ShowOptions(headless=True, seconds=7.0, sessions=_sessions(tmp_path)),
    )
    marks: dict[str, float] = {}

    def faults() -> None:
        while show.supervisor is None or "archive" not in show.supervisor.workers:
            time.sleep(0.02)
        sup = show.supervisor
        time.sleep(1.5)
        marks["inference"] = time.monotonic()
        sup.inject("inference", RuntimeError("injected into inference"))
        time.sleep(1.0)
        sup.workers["osc"].body.__self__.close_socket()  # the control server's real socket closed under it
        time.sleep(1.0)
        sup.inject("archive", OSError("injected into the archive writer"))

    threading.Thread(target=faults, daemon=True).start()
    with caplog.at_level(logging.INFO):
        m = show.run()
    assert m["restarts"] >= 3 and all(w["restarts"] >= 1 for w in m["workers"].values())
    flips = np.asarray(show.metrics.flips)
    assert (flips > marks["inference"] + 2.0).sum() > 20  # the display never stopped
    assert show.metrics.ai_frames > 0 and m["inference_calls"] > 5
    assert any("the portrait is resting" in r.getMessage() for r in caplog.records)  # the gentle status line
    assert m["works_finished"] >= 5 and m["works_archived"] == m["works_finished"]
    archive = Archive(tmp_path / "archive")
    works = archive.list()
    assert len(works) == m["works_finished"]
    meta = archive.meta(works[-1]["id"])
    assert meta is not None and meta["model"]["sha256"] and len(meta["config_hash"]) == 64
    assert {"sketch.png", "ai.png", "strokes.jsonl", "paths.svg", "meta.json"} <= {
        p.name for p in archive.path(works[-1]["id"]).iterdir()
    }
    health = [json.loads(x) for x in (tmp_path / "logs" / "i.jsonl").read_text().splitlines()]
    health = [h["health"] for h in health if "health" in h]
    assert len(health) >= 3 and {"fps", "latency_ms", "rss_mb", "queues", "restarts", "workers"} <= health[-1].keys()


def test_unwritable_archive_keeps_the_show_running_and_reports_it(tmp_path: Path) -> None:
    blocker = tmp_path / "archive"
    blocker.write_text("a file where the archive folder should be")  # like a full or read-only disk: OSError
    show = Show(_cfg(tmp_path), ShowOptions(headless=True, seconds=3.0, sessions=_sessions(tmp_path)))
    m = show.run()
    assert m["frames"] > 30 and m["works_finished"] >= 2
    assert m["works_archived"] == 0 and m["works_failed"] == m["works_finished"]
    assert "archive" in show._state_error(None)  # what /state/error tells the rig


def test_logs_rotate_within_their_bound(tmp_path: Path) -> None:
    from installation.core.config import LoggingConfig
    from installation.runtime import logs

    handler = logs.attach(LoggingConfig(str(tmp_path / "l" / "x.jsonl"), 4000, 2, "INFO"), Path)
    assert handler is not None
    handler.removeFilter(logs.REPEATS)  # 500 lines of one kind would be rate-limited: rotation is tested here
    try:
        lg = logging.getLogger("installation.test")
        for i in range(500):
            lg.info("line %d with some padding to fill the file", i, extra={"fields": {"i": i}})
    finally:
        logs.detach(handler)
    files = sorted((tmp_path / "l").iterdir())
    assert [f.name for f in files] == ["x.jsonl", "x.jsonl.1", "x.jsonl.2"]
    assert all(f.stat().st_size <= 4200 for f in files)
    last = json.loads((tmp_path / "l" / "x.jsonl").read_text().splitlines()[-1])
    assert last["i"] == 499 and last["level"] == "INFO" and last["logger"] == "installation.test"


@pytest.mark.slow
def test_short_soak_with_injected_faults(tmp_path: Path) -> None:
    from installation.verbs.soak import run_soak

    r = run_soak(14.0, 4.0, tmp_path, fps=30, inject_every_s=3.0, overrides=["display.width=320", "display.height=200"])
    assert r["crashes"] == 0 and len(r["faults_injected"]) >= 3 and r["worker_restarts"] >= 3
    assert r["works"]["finished"] >= 1
    assert r["works"]["finished"] == r["works"]["archived"] == r["works"]["on_disk"] == r["works"]["verified_complete"]
    assert r["rss_mb"]["warm"] > 0 and r["frames"] > 100


def test_archive_verb_lists_verifies_and_makes_a_contact_sheet(tmp_path: Path) -> None:
    a = Archive(tmp_path / "arch")
    import cv2

    ok, png = cv2.imencode(".png", np.full((64, 64, 3), 90, np.uint8))
    for _ in range(3):
        a.save("drawing", {"sketch.png": png.tobytes(), "ai.png": png.tobytes()}, {"reason": "clear"})

    def run(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, str(ROOT / "run.py"), "archive", *args, "--root", str(tmp_path / "arch")]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    r = run("list")
    assert r.returncode == 0 and "3 works in" in r.stdout
    assert run("verify").stdout.startswith("3 of 3 works complete")
    r = run("sheet", "--out", str(tmp_path / "sheet.png"), "--cols", "2")
    assert r.returncode == 0 and cv2.imread(str(tmp_path / "sheet.png")).shape[1] > 300
    r = run("show", "../../etc")
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr


@pytest.mark.slow
def test_a_drawing_left_alone_is_finished_by_idle_and_attract_replays_are_not_works(tmp_path: Path) -> None:
    import pygame

    cfg = _cfg(tmp_path, 'input.source="tablet"', "display.attract_after_s=0", "archive.finish_idle_s=0.5")
    show = Show(cfg, ShowOptions(headless=True, seconds=4.0))

    def draw() -> None:
        while show.supervisor is None or "archive" not in show.supervisor.workers:  # the display is open
            time.sleep(0.02)
        time.sleep(0.5)
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(40, 60), button=1))
        for i in range(20):
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(40 + 4 * i, 60 + 2 * i), rel=(4, 2)))
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(120, 100), button=1))

    threading.Thread(target=draw, daemon=True).start()
    m = show.run()
    assert m["works_finished"] == 1 and m["works_archived"] == 1
    [work] = Archive(tmp_path / "archive").list()
    assert work["reason"] == "idle" and work["source"] == "tablet"

    cfg = _cfg(tmp_path / "b", 'input.source="tablet"', "display.attract_after_s=0.5", "input.replay_speed=4")
    m = Show(cfg, ShowOptions(headless=True, seconds=3.5, sessions=_sessions(tmp_path))).run()
    assert m["pen_events"] > 50 and m["works_finished"] == 0  # attract mode drew, nobody's work was archived
