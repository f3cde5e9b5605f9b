"""The spine end to end: embedded sessions → canvas → ONNX Runtime → renderer, headless on a dummy SDL surface."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from installation.core.config import load_config
from installation.core.session import PenEvent, Session
from installation.runtime.show import Replay, default_sessions
from installation.verbs.demo import run_headless

ROOT = Path(__file__).resolve().parents[4]
SESSIONS = default_sessions()


def test_headless_demo_produces_frames_ai_updates_and_sane_latency(tmp_path: Path, sandbox: list[str]) -> None:
    cfg = load_config(
        None, [*sandbox, "display.width=640", "display.height=360", "input.replay_speed=4", 'input.source="replay"']
    )
    m = run_headless(cfg, 6.0, tmp_path)
    assert m["frames"] > 30
    assert m["ai_updates"] > 5
    assert m["inference_calls"] >= m["ai_updates"]
    lat = m["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["max"] < 5000
    assert m["provider"] == "CPUExecutionProvider"
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["frames"] == m["frames"]
    assert (tmp_path / "frames" / "last.png").stat().st_size > 1000
    assert (tmp_path / "frames" / "frames.mp4").stat().st_size > 1000


def test_idle_canvas_costs_no_inference(tmp_path: Path, sandbox: list[str]) -> None:
    # a session that draws one stroke at once and then nothing: inference runs a few times, then stops
    events = (PenEvent("down", 0.0, 100, 100, 1), PenEvent("move", 0.01, 400, 400, 1), PenEvent("up", 0.02))
    path = tmp_path / "one.jsonl"
    from installation.core.session import write_session

    write_session(path, Session(1024, events))
    cfg = load_config(
        None,
        [*sandbox, 'input.source="replay"', "input.replay_loop=false", "display.width=320", "display.height=200"],
    )
    m = run_headless(cfg, 2.0, None, sessions=[path])
    assert m["frames"] > 20
    assert 1 <= m["inference_calls"] <= 3


def test_replay_clears_between_sessions() -> None:
    a = Session(1024, (PenEvent("down", 0.0, 1, 1, 1), PenEvent("up", 0.1)))
    r = Replay([a, a], speed=1.0, loop=False)
    r.start(0.0)
    assert [e.kind for e in r.due(0.5)] == ["down", "up"]
    assert r.due(1.0) == []  # holding the finished drawing
    assert [e.kind for e in r.due(3.0)] == ["clear"]
    assert [e.kind for e in r.due(3.5)] == ["down", "up"]


def test_embedded_sessions_are_shipped() -> None:
    assert len(default_sessions()) >= 3


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["demo", "--headless", "--seconds", "1"], "--headless needs --out"),
        (["demo", "--headless", "--seconds", "1", "--out", "{tmp}", "--model", "{tmp}/nope.onnx"], "nope.onnx"),
        (["demo", "--headless", "--out", "{tmp}", "--session", "{tmp}/bad.jsonl"], "not JSON"),
        (["demo", "--headless", "--out", "{tmp}", "--set", "display.wat=1"], "unknown config key 'display.wat'"),
        (["live", "--headless", "--out", "{tmp}", "--source", "camera", "--camera", "93"], "camera index 93"),
        (["nonsense"], "unknown verb"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], fragment: str, sandbox_argv: list[str]
) -> None:
    (tmp_path / "bad.jsonl").write_text('{"format": "studio-session", "version": 1, "canvas": 1024}\n{oops\n')
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if argv[0] in ("demo", "live"):
        argv += sandbox_argv
    r = subprocess.run([sys.executable, str(ROOT / "run.py"), *argv], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and fragment in lines[0], r.stderr


def test_mouse_drawing_is_recorded_and_answered(tmp_path: Path, sandbox: list[str]) -> None:
    """Real pygame events (posted as SDL would deliver them) drive the canvas, the model and the recorder."""
    import threading
    import time as _time

    import pygame

    from installation.core.session import read_session
    from installation.runtime.show import Show, ShowOptions

    cfg = load_config(None, [*sandbox, "display.width=640", "display.height=360", "display.attract_after_s=0"])
    rec = tmp_path / "rec.jsonl"
    show = Show(cfg, ShowOptions(headless=True, seconds=4.0, record_to=rec))

    def draw() -> None:
        t_end = _time.monotonic() + 60.0  # start-up (model, int8 timing) may be slow on a loaded machine
        while show.renderer is None and _time.monotonic() < t_end:
            _time.sleep(0.05)
        _time.sleep(0.5)
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(100, 150), button=1))
        for i in range(30):
            pygame.event.post(
                pygame.event.Event(pygame.MOUSEMOTION, pos=(100 + 5 * i, 150 + 2 * i), rel=(5, 2), buttons=(1, 0, 0))
            )
            _time.sleep(0.01)
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(250, 210), button=1))

    threading.Thread(target=draw, daemon=True).start()
    m = show.run()
    s = read_session(rec)
    kinds = [e.kind for e in s.events]
    assert kinds[0] == "down" and kinds[-1] == "up" and kinds.count("move") >= 20
    assert all(0 <= e.x <= 1024 and 0 <= e.y <= 1024 for e in s.events if e.kind != "up")
    assert m["ai_updates"] >= 1 and m["pen_events"] >= 20


def test_display_that_cannot_open_is_one_clear_line(sandbox_argv: list[str]) -> None:
    import os

    env = {**os.environ, "SDL_VIDEODRIVER": "no-such-driver"}
    r = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "demo", "--windowed", "--seconds", "1", *sandbox_argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "error: cannot open display" in r.stderr and "--headless" in r.stderr


def test_attract_mode_replays_past_sessions_when_idle(sandbox: list[str]) -> None:
    cfg = load_config(
        None,
        [*sandbox, "display.width=320", "display.height=200", "display.attract_after_s=0.5", "input.replay_speed=4"],
    )
    from installation.runtime.show import Show, ShowOptions

    m = Show(cfg, ShowOptions(headless=True, seconds=3.0)).run()
    assert m["pen_events"] > 50 and m["ai_updates"] >= 3  # nobody drew: the attract replay did


def test_keys_save_clear_and_cycle_layout(tmp_path: Path, sandbox: list[str]) -> None:
    """Draw with the mouse, then S (save), L (layout), H (HUD), C (clear): each key's effect is checked."""
    import threading
    import time as _time

    import cv2
    import numpy as np
    import pygame

    from installation.core.config import LAYOUTS
    from installation.core.session import read_session
    from installation.runtime.show import Show, ShowOptions

    cfg = load_config(
        None,
        [
            *sandbox,
            "display.width=640",
            "display.height=360",
            "display.attract_after_s=0",
            "osc.enabled=false",
            "archive.enabled=false",
            'logging.file=""',
            f'paths.saved="{tmp_path / "saved"}"',
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=30.0))  # the visitor ends it with Q
    after_save: dict[str, object] = {}

    def key(k: int) -> None:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode="", scancode=0))

    def wait_for(cond) -> None:  # noqa: ANN001
        end = _time.monotonic() + 20
        while not cond() and _time.monotonic() < end:
            _time.sleep(0.05)

    def visitor() -> None:
        wait_for(lambda: show.renderer is not None)
        _time.sleep(0.5)
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(100, 150), button=1))
        for i in range(30):
            pygame.event.post(
                pygame.event.Event(pygame.MOUSEMOTION, pos=(100 + 5 * i, 150 + 2 * i), rel=(5, 2), buttons=(1, 0, 0))
            )
            _time.sleep(0.01)
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(250, 210), button=1))
        wait_for(lambda: (a := show.answers.peek()) is not None and a.seq == show.canvas.version)
        key(pygame.K_s)
        _time.sleep(0.4)
        after_save["strokes"] = len(show.canvas.all_strokes())
        key(pygame.K_l)
        key(pygame.K_h)
        _time.sleep(0.4)
        key(pygame.K_c)
        _time.sleep(0.4)
        key(pygame.K_q)

    threading.Thread(target=visitor, daemon=True).start()
    show.run()
    saved = sorted((tmp_path / "saved").iterdir())
    stamps = {p.name.split("-sketch")[0].split("-ai")[0].removesuffix(".jsonl") for p in saved}
    assert len(stamps) == 1, saved  # one save: sketch, AI image and strokes under one stamp
    stamp = stamps.pop()
    sketch = cv2.imread(str(tmp_path / "saved" / f"{stamp}-sketch.png"), cv2.IMREAD_GRAYSCALE)
    ai = cv2.imread(str(tmp_path / "saved" / f"{stamp}-ai.png"), cv2.IMREAD_COLOR)
    assert sketch is not None and ai is not None
    assert (sketch < 128).sum() > 100  # the stroke is in the saved sketch
    # the saved AI image is the model's answer to the saved sketch (RGB written as BGR)
    assert show._model is not None
    answer = show._model.run(sketch)
    assert ai.shape == answer.shape and np.abs(ai[:, :, ::-1].astype(int) - answer.astype(int)).max() <= 2
    events = read_session(tmp_path / "saved" / f"{stamp}.jsonl").events
    assert [e.kind for e in events].count("down") == after_save["strokes"] == 1
    assert show.renderer is not None
    assert show.renderer.layout == LAYOUTS[(LAYOUTS.index(cfg.display.layout) + 1) % len(LAYOUTS)]  # L
    assert show.renderer.hud is (not cfg.display.hud)  # H
    assert show.canvas.all_strokes() == [] and (show.canvas.raster() > 250).all()  # C emptied the canvas


def test_osc_commands_reach_the_show_and_state_comes_back(free_udp_port: int, sandbox: list[str]) -> None:
    import socket
    import threading
    import time as _time

    from pythonosc.osc_message_builder import OscMessageBuilder
    from pythonosc.osc_packet import OscPacket

    from installation.runtime.show import Show, ShowOptions

    port = free_udp_port
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    cfg = load_config(
        None,
        [
            *sandbox,
            "display.width=320",
            "display.height=200",
            f"osc.port={port}",
            f'osc.state_out=["127.0.0.1:{rx.getsockname()[1]}"]',
            "display.attract_after_s=0",
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=3.0))
    seen: dict[str, list] = {}

    def rig() -> None:
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        while show.supervisor is None or "osc" not in show.supervisor.workers:  # bound: datagrams now wait for it
            _time.sleep(0.02)
        _time.sleep(0.3)
        for address, args in (("/layout", ["overlay"]), ("/prompt", ["a face"]), ("/ping", [])):
            b = OscMessageBuilder(address=address)
            for a in args:
                b.add_arg(a)
            tx.sendto(b.build().dgram, ("127.0.0.1", port))
        end = _time.monotonic() + 1.5
        while _time.monotonic() < end:
            try:
                for m in OscPacket(rx.recv(65536)).messages:
                    seen.setdefault(m.message.address, []).append(m.message.params)
            except OSError:
                pass

    t = threading.Thread(target=rig, daemon=True)
    t.start()
    show.run()
    t.join(timeout=3)
    assert ["overlay"] in seen.get("/state/layout", [])
    assert ["a face"] in seen.get("/state/prompt", [])
    assert "/pong" in seen


def test_plotter_start_streams_the_drawing_to_the_simulator(
    tmp_path: Path, free_udp_port: int, sandbox: list[str]
) -> None:
    import socket
    import threading
    import time as _time

    from pythonosc.osc_message_builder import OscMessageBuilder

    from installation.bridges.simulator import Simulator
    from installation.runtime.show import Show, ShowOptions

    sim = Simulator("127.0.0.1", 0, tmp_path / "robot", (210.0, 297.0), speed_mm_s=0.0)
    threading.Thread(target=sim.serve, args=(8.0,), daemon=True).start()
    port = free_udp_port
    cfg = load_config(
        None,
        [
            *sandbox,
            'input.source="replay"',
            "input.replay_speed=20",
            "input.replay_loop=false",
            "display.width=320",
            "display.height=200",
            f"osc.port={port}",
            f'plotter.robot="127.0.0.1:{sim.port}"',
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=5.0, sessions=[SESSIONS[-1]]))

    def rig() -> None:
        while show.supervisor is None or "osc" not in show.supervisor.workers:  # the show is up
            _time.sleep(0.02)
        _time.sleep(1.5)  # the 19 s smiley is drawn by then at 20x
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.sendto(OscMessageBuilder(address="/plotter/start").build().dgram, ("127.0.0.1", port))

    threading.Thread(target=rig, daemon=True).start()
    show.run()
    assert show.streamer is not None and show.streamer.sender.done
    from installation.bridges.simulator import read_journal

    drawn = [r["seq"] for r in read_journal(tmp_path / "robot") if r["event"] == "drawn"]
    assert drawn == list(range(show.streamer.sender.total)) and len(drawn) >= 3
