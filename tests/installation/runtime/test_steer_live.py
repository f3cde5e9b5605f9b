"""Steered generators in the live show: a worker thread feeds frames; OSC retargets it; the display keeps going."""

import socket
import threading
import time
from pathlib import Path

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from installation.core.config import load_config
from installation.runtime.show import Show, ShowOptions


def _tiny_clip_file(tmp_path: Path) -> Path:
    from models.clip.api import tiny_clip
    from models.clip.checkpoint import save_checkpoint

    path = tmp_path / "tiny_clip.pt"
    save_checkpoint(path, tiny_clip(0))
    return path


@pytest.mark.slow
def test_osc_prompt_retargets_the_running_steerer_and_frames_reach_the_display(
    tmp_path: Path, free_udp_port: int
) -> None:
    port = free_udp_port
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    cfg = load_config(
        None,
        [
            "display.width=320",
            "display.height=200",
            'input.source="replay"',
            "input.replay_speed=8",
            f"osc.port={port}",
            f'osc.state_out=["127.0.0.1:{rx.getsockname()[1]}"]',
            'steer.generator="strokes"',
            f'steer.clip="{_tiny_clip_file(tmp_path)}"',
            "steer.size=64",
            "steer.strokes=12",
            "steer.cutouts=2",
            "steer.every=2",
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=60.0))
    seen: dict[str, list] = {}
    retargeted = threading.Event()

    def rig() -> None:
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

        def send(address: str, arg: str) -> None:
            tx.sendto(_msg(address, arg), ("127.0.0.1", port))

        deadline = time.monotonic() + 50
        while time.monotonic() < deadline and (show.steer_worker is None or show.steer_worker.steps < 4):
            time.sleep(0.05)
        send("/prompt", "a bird:1 | | x")  # malformed: refused, the old prompt stays
        send("/prompt", "a drawing of a bird:1 | scribble:-0.5")
        while time.monotonic() < deadline and not (show.steer_worker and show.steer_worker.retargets >= 1):
            time.sleep(0.05)
        retargeted.set()
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            try:
                for m in OscPacket(rx.recv(65536)).messages:
                    seen.setdefault(m.message.address, []).append(m.message.params)
            except OSError:
                pass
        show.stop.set()

    t = threading.Thread(target=rig, daemon=True)
    t.start()
    summary = show.run()
    t.join(timeout=5)
    assert retargeted.is_set()
    assert summary["steer_retargets"] >= 1 and summary["steer_frames"] >= 2 and summary["frames"] > 0
    assert ["a drawing of a bird:1 | scribble:-0.5"] in seen.get("/state/prompt", [])
    assert show.generator == "strokes"


def _msg(address: str, arg: str) -> bytes:
    b = OscMessageBuilder(address=address)
    b.add_arg(arg)
    return b.build().dgram


def test_bad_clip_file_falls_back_to_pix2pix_and_says_why(tmp_path: Path) -> None:
    cfg = load_config(
        None,
        [
            "display.width=320",
            "display.height=200",
            'input.source="replay"',
            "osc.enabled=false",
            'steer.generator="pixels"',
            f'steer.clip="{tmp_path / "missing.pt"}"',
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=3.0))
    summary = show.run()
    assert show.generator == "pix2pix" and "missing.pt" in show.last_error
    assert summary["ai_updates"] > 0  # pix2pix answered after the fall-back
