"""Duet mode end to end, headless: a recorded artist → the turn-taking machine → CLIP-steered strokes (real torch
CLIP) → a robot job on the in-process simulator (real UDP on 127.0.0.1) → the sheet following the robot's
acknowledgements → ONNX Runtime → archive; OSC cues and /state/duet/* over real sockets."""

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pythonosc.osc_packet import OscPacket

from installation.core.config import load_config
from installation.core.osc_protocol import build_message
from installation.runtime.duet import DuetOptions, DuetShow

ROOT = Path(__file__).resolve().parents[3]
SESSION = ROOT / "installation" / "assets" / "sessions" / "face_02.jsonl"
FAST = ["display.width=320", "display.height=200", "display.fullscreen=false", "duet.pause_s=1.0",
        "duet.think_s=1.0", "duet.replay_strokes=2", "duet.robot_speed_mm_s=400"]  # fmt: skip


def drawn_by_robot(tmp: Path) -> int:
    from installation.bridges.simulator import read_journal

    return sum(r["event"] == "drawn" for r in read_journal(tmp / "robot"))


@pytest.mark.slow
def test_a_duet_takes_turns_by_pause_and_by_cue_and_is_archived(
    tmp_path: Path, sandbox: list[str], free_udp_port: int
) -> None:
    listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listen.bind(("127.0.0.1", 0))
    listen.settimeout(0.2)
    port = free_udp_port
    osc = ["osc.enabled=true", f"osc.port={port}", f'osc.state_out=["127.0.0.1:{listen.getsockname()[1]}"]']
    cfg = load_config(None, [*sandbox, *FAST, *osc])
    opts = DuetOptions(headless=True, seconds=150.0, out_dir=tmp_path, session=SESSION, simulate=True, turns=2)
    show = DuetShow(cfg, opts)
    out: dict = {}
    runner = threading.Thread(target=lambda: out.update(show.run()))
    runner.start()
    seen: dict[str, set] = {}
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def pump(until, limit_s: float) -> None:  # noqa: ANN001 - read state bundles until `until()` or the bound
        deadline = time.monotonic() + limit_s  # a bound on waiting, not a timing assertion
        while not until() and time.monotonic() < deadline and runner.is_alive():
            try:
                data, _ = listen.recvfrom(65536)
            except TimeoutError:
                continue
            for m in OscPacket(data).messages:
                seen.setdefault(m.message.address, set()).add(m.message.params[0] if m.message.params else None)

    try:
        pump(lambda: "/state/duet/state" in seen, 60)
        sender.sendto(build_message("/duet/strokes", [3]), ("127.0.0.1", port))
        sender.sendto(build_message("/duet/skip"), ("127.0.0.1", port))  # the artist's turn: refused, said why
        pump(lambda: 3 in seen.get("/state/duet/strokes_per_turn", set()), 20)
        assert 3 in seen["/state/duet/strokes_per_turn"]
        pump(lambda: "drawing" in seen.get("/state/duet/state", set()), 90)  # turn 1: the replayed artist's pause
        sender.sendto(build_message("/duet/pause", [600.0]), ("127.0.0.1", port))  # no more turns by pause
        pump(lambda: show.machine.number == 1 and show.machine.state == "artist" and show.machine.new_strokes > 0, 60)
        sender.sendto(build_message("/duet/turn"), ("127.0.0.1", port))  # turn 2: the cue
        runner.join(timeout=90)
    finally:
        show.stop.set()
        runner.join(timeout=10)
        sender.close()
        listen.close()
    # "thinking" may last no frame at all when the draft answer is ready as the pause ends: not required to be seen
    assert {"artist", "drawing"} <= seen["/state/duet/state"] <= {"artist", "thinking", "drawing"}
    assert any("already the artist's turn" in str(e) for e in seen.get("/state/error", set()))
    t1, t2 = out["turns"]
    assert t1["reason"] == "pause" and t2["reason"] == "cue"
    for t in (t1, t2):
        assert t["outcome"] == "done" and 1 <= t["planned"] <= 3 and t["drawn"] == t["planned"]
        assert t["crossing"] <= 0.05 and t["pause_to_first_ai_stroke_s"] > 0
    assert out["ai_strokes"] == t1["drawn"] + t2["drawn"] == drawn_by_robot(tmp_path)  # the robot drew each once
    assert out["ai_crossing_final"] <= 0.05
    work = Path(cfg.duet.archive) / "works" / out["archived"]
    doc = json.loads((work / "duet.json").read_text())
    whos = [s["who"] for s in doc["strokes"]]
    assert whos.count("ai") == out["ai_strokes"] and whos.count("artist") == out["artist_strokes"] >= 2
    ai = [s for s in doc["strokes"] if s["who"] == "ai"]
    assert all(s["t_end"] >= s["t_start"] > 0 for s in ai) and {s["turn"] for s in ai} == {1, 2}
    assert {"duet.png", "sketch.png", "ai.png", "meta.json"} <= {p.name for p in work.iterdir()}
    sheet = tmp_path / "sheet.png"
    cmd = [sys.executable, str(ROOT / "run.py"), "archive", "sheet", "--root", cfg.duet.archive, "--out", str(sheet)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and sheet.is_file(), r.stderr[-800:]


def test_bad_duet_input_is_one_line_and_exit_2(tmp_path: Path, sandbox_argv: list[str]) -> None:
    base = [sys.executable, str(ROOT / "run.py"), "duet", *sandbox_argv]
    cases = [
        (["--headless", "--out", str(tmp_path)], "needs a recorded artist"),
        (["--session", str(tmp_path / "none.jsonl"), "--headless", "--out", str(tmp_path)], "does not exist"),
        (["--turns", "0", "--session", str(SESSION), "--headless", "--out", str(tmp_path)], "at least 1"),
        (["--set", "duet.strokes_per_turn=0"], "duet.strokes_per_turn"),
    ]
    for extra, words in cases:
        r = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=60)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and words in lines[-1] and "Traceback" not in r.stderr, (extra, r.stderr[-500:])


@pytest.mark.slow
def test_without_a_robot_the_turn_fails_and_goes_back_to_the_artist(
    tmp_path: Path, sandbox: list[str], free_udp_port: int
) -> None:
    cfg = load_config(None, [*sandbox, *FAST, "osc.enabled=false", f'plotter.robot="127.0.0.1:{free_udp_port}"'])
    opts = DuetOptions(headless=True, seconds=120.0, out_dir=tmp_path, session=SESSION, simulate=False, turns=1)
    show = DuetShow(cfg, opts)
    out = show.run()
    (t,) = out["turns"]
    assert t["outcome"].startswith("failed") and "does not answer" in t["outcome"] and t["drawn"] == 0
    assert show.machine.state == "artist" and out["ai_strokes"] == 0
