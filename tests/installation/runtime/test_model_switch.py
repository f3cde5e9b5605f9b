"""`/model NAME` over OSC in a headless show: built beside the running model, swapped in, frames keep coming."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from installation.core.config import load_config
from installation.runtime.model_switch import ModelSwitcher
from installation.runtime.show import Show, ShowOptions

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "installation" / "assets" / "models"


def _msg(address: str, *args: object) -> bytes:
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def test_osc_model_switches_without_stopping_the_display(
    tmp_path: Path, free_udp_port: int, monkeypatch: pytest.MonkeyPatch, sandbox: list[str]
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(SHIPPED / "pix2pix_default.onnx", folder / "main.onnx")
    shutil.copy(SHIPPED / "pix2pix_default.fp16.onnx", folder / "half.onnx")
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    cfg = load_config(
        None,
        [
            *sandbox,
            "display.width=320",
            "display.height=200",
            'input.source="replay"',
            "input.replay_speed=4",
            f'model.path="{folder / "main.onnx"}"',
            f"osc.port={free_udp_port}",
            f'osc.state_out=["127.0.0.1:{rx.getsockname()[1]}"]',
            "archive.enabled=false",
            'logging.file=""',
            "clip.enabled=false",
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=60.0))
    frames_while_building: list[int] = []
    real_build = ModelSwitcher._build

    def slow_build(self: ModelSwitcher, name: str, path: Path) -> None:  # a slow disk or an engine build
        before = show.metrics.flips.total
        time.sleep(1.0)
        real_build(self, name, path)
        frames_while_building.append(show.metrics.flips.total - before)

    monkeypatch.setattr(ModelSwitcher, "_build", slow_build)
    seen: list[tuple[str, list]] = []
    repeated: list[bool] = []  # whether the repeated /param error was shown before the good /model

    def listen(until, seconds: float) -> None:  # noqa: ANN001
        end = time.monotonic() + seconds
        while time.monotonic() < end and not until():
            with contextlib.suppress(OSError):  # a quiet 0.2 s: look again
                seen.extend((m.message.address, m.message.params) for m in OscPacket(rx.recv(65536)).messages)

    def states(address: str) -> list[str]:
        return [str(p[0]) for a, p in seen if a == address and p]

    def rig() -> None:
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        listen(lambda: bool(states("/state/model")), 30)
        tx.sendto(_msg("/param", "display.nope", 1), ("127.0.0.1", free_udp_port))  # an older error, still held
        listen(lambda: any("not a live parameter" in e for e in states("/state/error")), 10)
        tx.sendto(_msg("/model", "nope"), ("127.0.0.1", free_udp_port))
        listen(lambda: any("no such model" in e for e in states("/state/error")), 10)
        after = len(seen)  # the same bad /param again, while the /model error is still held: shown again
        tx.sendto(_msg("/param", "display.nope", 1), ("127.0.0.1", free_udp_port))

        def param_error_again() -> bool:
            return any("not a live parameter" in str(p[0]) for a, p in seen[after:] if a == "/state/error" and p)

        listen(param_error_again, 10)
        repeated.append(param_error_again())
        tx.sendto(_msg("/model", "half"), ("127.0.0.1", free_udp_port))
        listen(lambda: any("fp16" in m for m in states("/state/model")), 30)
        listen(lambda: False, 0.5)
        show.stop.set()

    t = threading.Thread(target=rig, daemon=True)
    t.start()
    summary = show.run()
    t.join(timeout=5)
    models = states("/state/model")
    assert models and "fp16" not in models[0] and "fp16" in models[-1], models  # swapped, and reported
    assert any("not a live parameter" in e for e in states("/state/error"))
    assert repeated == [True]  # the same error made again is new, though its text is the same
    errors = [e for e in states("/state/error") if "no such model" in e]  # not hidden behind the /param error
    assert errors and "nope" in errors[0] and "half" in errors[0] and "main" in errors[0]  # names the choices
    assert frames_while_building and frames_while_building[0] >= 5  # the display went on while it was built
    assert show._model is not None and show._model.metadata["precision"] == "fp16"
    assert summary["model"] == show._model.name and summary["ai_updates"] > 0


def test_names_resolve_to_tiers_and_files(tmp_path: Path) -> None:
    from installation.core.errors import UserError

    (tmp_path / "a.onnx").write_bytes(b"x")
    (tmp_path / "b.onnx").write_bytes(b"x")
    sw = ModelSwitcher(lambda p: p, tmp_path, {"cpu": tmp_path / "a.onnx", "gpu": tmp_path / "none.onnx"})
    assert sw.resolve("cpu") == sw.resolve("a") == sw.resolve("a.onnx") == tmp_path / "a.onnx"
    assert sw.choices() == ["cpu", "a", "b"]  # the missing GPU tier is not offered
    for bad in ("gpu", "../a", "c"):
        with pytest.raises(UserError, match=f"/model {bad}: no such model in .*cpu, a, b"):
            sw.resolve(bad)
    sw.request("b")
    sw.join(5)
    assert sw.take() == tmp_path / "b.onnx" and sw.error == ""
