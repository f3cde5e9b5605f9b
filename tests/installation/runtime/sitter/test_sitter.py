"""Sitter mode end to end, headless: committed images → faces → sketcher → PlotStreamer → the robot simulator
(real UDP on 127.0.0.1) → canvas following the robot's acknowledgements → ONNX Runtime → archive."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.core.config import load_config
from installation.runtime.sitter.show import SitterOptions, SitterShow

ROOT = Path(__file__).resolve().parents[4]
FACES = ROOT / "tests" / "fixtures" / "faces"
FAST = ["display.width=320", "display.height=200", "display.fullscreen=false", "sitter.hold_s=1.0", "osc.enabled=false"]


def run(tmp: Path, image: Path, seconds: float, sets: list[str], **opts) -> tuple[SitterShow, dict]:
    cfg = load_config(None, [*FAST, f"sitter.archive={json.dumps(str(tmp / 'archive'))}", *sets])
    kw = dict(
        headless=True, seconds=seconds, out_dir=tmp, source=image, simulate=True, sim_speed=200.0, snapshot_every_s=0.5
    )
    kw.update(opts)
    show = SitterShow(cfg, SitterOptions(**kw))
    return show, show.run()


def drawn_by_robot(tmp: Path) -> int:
    from installation.bridges.simulator import read_journal

    return sum(r["event"] == "drawn" for r in read_journal(tmp / "robot"))


def test_a_face_is_drawn_completely_and_archived_without_camera_frames(tmp_path: Path) -> None:
    show, m = run(tmp_path, FACES / "face.jpg", 40.0, ['sitter.style="quick"'], until_done=True)
    (p,) = m["portraits"]
    c = p["counts"]
    assert p["outcome"] == "done"
    assert c["strokes_planned"] > 5
    assert c["strokes_drawn"] == c["strokes_planned"] == drawn_by_robot(tmp_path)
    assert len(show.canvas.strokes) == c["strokes_planned"]  # the screen shows every acknowledged path
    assert c["pen_up_mm"] > 0 and p["timings"]["face_to_first_stroke_s"] is not None
    # the morph follows acknowledgements: the canvas grows with the robot, never ahead of it
    log = m["morph_log"]
    assert all(canvas <= acked for canvas, acked in log)
    assert [a for a, _ in log] == sorted(a for a, _ in log) and log[-1][0] == c["strokes_planned"]
    assert m["inference_calls"] >= 2
    (work,) = (tmp_path / "archive" / "works").iterdir()
    assert sorted(f.name for f in work.iterdir()) == sorted(
        ["drawing.png", "drawing.svg", "portrait.png", "strokes.json", "meta.json"]
    )
    strokes = json.loads((work / "strokes.json").read_text())["paths"]
    assert len(strokes) == c["strokes_planned"]
    acks = [s["ack_s"] for s in strokes]
    assert acks == sorted(acks) and acks[0] > 0
    meta = json.loads((work / "meta.json").read_text())
    assert meta["settings"]["sitter"]["style"] == "quick" and meta["model"]
    # no camera frame anywhere under the output: no stills, and the preview panel is blank in written frames
    everything = [f.name.lower() for f in tmp_path.rglob("*") if f.is_file()]
    assert not any("camera" in n or n.endswith(".jpg") for n in everything)
    snapshots = sorted((tmp_path / "frames").glob("snapshot_*.png"))
    assert len(snapshots) >= 4  # countdown, sketching, drawing, result
    assert max(camera_pixels(show, f) for f in snapshots) < 0.15  # a camera image: > 0.3 (next test)


def camera_pixels(show: SitterShow, frame_file: Path) -> float:
    """Fraction of the sketch panel in a written frame that is mid-grey: the camera preview and the captured
    still are mostly mid-grey; paper, the yellow countdown digit and thin black robot lines mostly are not."""
    frame = cv2.imread(str(frame_file))
    x, y, w, h = show.renderer.panels.sketch
    red = frame[y : y + h, x : x + w, 2]
    return float(((red > 60) & (red < 200)).mean())


def test_with_storage_on_the_still_is_archived(tmp_path: Path) -> None:
    show, m = run(
        tmp_path, FACES / "face.jpg", 40.0, ['sitter.style="quick"', "sitter.store_camera_frames=true"], until_done=True
    )
    # the venue allows it: the preview is in the written frames
    assert camera_pixels(show, tmp_path / "frames" / "snapshot_0001.png") > 0.3
    assert m["portraits"][0]["outcome"] == "done"
    (work,) = (tmp_path / "archive" / "works").iterdir()
    still = cv2.imread(str(work / "camera.jpg"))
    assert still is not None and still.shape == cv2.imread(str(FACES / "face.jpg")).shape


def test_two_faces_draw_the_largest(tmp_path: Path) -> None:
    _, m = run(tmp_path, FACES / "two_faces.jpg", 40.0, ['sitter.style="quick"'], until_done=True)
    (p,) = m["portraits"]
    assert p["outcome"] == "done" and p["counts"]["faces_in_view"] == 2
    x, y, w, h = p["counts"]["face_box"]
    assert w > 70 and x < 200  # the near sitter on the left, not the far one on the right
    assert p["counts"]["strokes_drawn"] == p["counts"]["strokes_planned"] == drawn_by_robot(tmp_path)


def test_no_face_draws_nothing_and_says_why(tmp_path: Path) -> None:
    show, m = run(tmp_path, FACES / "no_face.jpg", 3.0, [])
    assert m["portraits"] == [] and m["frames_judged"] > 3
    assert drawn_by_robot(tmp_path) == 0 and not (tmp_path / "archive").exists()
    assert show.machine.state == "idle" and "Sit facing the camera" in show.machine.guidance(0.0)


def test_too_dark_gives_guidance_and_no_portrait(tmp_path: Path) -> None:
    dim = (cv2.imread(str(FACES / "face.jpg")).astype(np.float32) * 0.3).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "dim.png"), dim)
    show, m = run(tmp_path, tmp_path / "dim.png", 3.0, [])
    assert m["portraits"] == [] and drawn_by_robot(tmp_path) == 0
    assert "Too dark" in show.machine.guidance(0.0)


@pytest.mark.slow
def test_screen_follows_the_robot_not_the_plan_and_leaving_aborts(tmp_path: Path) -> None:
    # a robot so slow that it finishes only its first path; the sitter leaves after 4 s
    show, m = run(tmp_path, FACES / "face.jpg", 8.0, [], sim_speed=0.0005, present_s=4.0)
    (p,) = m["portraits"]
    assert p["outcome"] == "aborted" and "left" in p["reason"]
    planned, drawn = p["counts"]["strokes_planned"], p["counts"]["strokes_drawn"]
    assert planned > 10 and drawn == drawn_by_robot(tmp_path) <= 2
    assert all(canvas <= acked <= 2 for canvas, acked in m["morph_log"])
    assert not (tmp_path / "archive").exists()  # an aborted portrait is not archived


def test_bad_demo_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for extra in (["--image", str(tmp_path / "missing.jpg")], []):
        r = subprocess.run(
            [sys.executable, "run.py", "demo", "--mode", "sitter", "--headless", "--out", str(tmp_path), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2
        assert r.stderr.strip().splitlines()[-1].startswith("error: ") and "Traceback" not in r.stderr
        assert "--image" in r.stderr
    live = [sys.executable, "run.py", "sitter", "--camera", str(tmp_path / "gone.mp4"), "--headless", "--sim"]
    r = subprocess.run([*live, "--set", "osc.enabled=false"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == 2 and last.startswith("error: camera source") and "Traceback" not in r.stderr


@pytest.mark.slow
def test_osc_abort_mid_drawing_stops_the_robot_and_state_reports_it(tmp_path: Path, free_udp_port: int) -> None:
    import socket
    import threading
    import time

    from pythonosc.osc_packet import OscPacket

    from installation.core.osc_protocol import build_message

    listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listen.bind(("127.0.0.1", 0))
    listen.settimeout(0.2)
    port = free_udp_port
    sets = ["osc.enabled=true", f"osc.port={port}", f'osc.state_out=["127.0.0.1:{listen.getsockname()[1]}"]']
    cfg = load_config(None, [*FAST, *sets, f"sitter.archive={json.dumps(str(tmp_path / 'archive'))}"])
    opts = SitterOptions(
        headless=True, seconds=30.0, out_dir=tmp_path, source=FACES / "face.jpg", simulate=True, sim_speed=0.01
    )
    show = SitterShow(cfg, opts)
    out: dict = {}
    runner = threading.Thread(target=lambda: out.update(show.run()))
    runner.start()
    states: set[str] = set()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        deadline = time.monotonic() + 25.0  # a bound on waiting, not a timing assertion
        while "drawing" not in states and time.monotonic() < deadline:
            try:
                data, _ = listen.recvfrom(65536)
            except TimeoutError:
                continue
            for m in OscPacket(data).messages:
                if m.message.address == "/state/sitter/state":
                    states.add(m.message.params[0])
        assert "drawing" in states
        sender.sendto(build_message("/sitter/abort"), ("127.0.0.1", port))
        while show.machine.state == "drawing" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert show.machine.state == "aborted"
        drawn_at_abort = show.streamer.drawn if show.streamer is not None else len(show.portrait.ack_t)
    finally:
        show.stop.set()
        runner.join(timeout=10)
        sender.close()
        listen.close()
    (p,) = out["portraits"]
    assert p["outcome"] == "aborted" and "operator" in p["reason"]
    assert p["counts"]["strokes_drawn"] < p["counts"]["strokes_planned"]
    assert drawn_by_robot(tmp_path) <= drawn_at_abort + 1  # the robot stopped (its current path may finish)
