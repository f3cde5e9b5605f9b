import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from installation.adapters import window

ROOT = Path(__file__).resolve().parents[3]


def test_an_invisible_driver_is_warned_about_once(monkeypatch: pytest.MonkeyPatch, caplog) -> None:  # noqa: ANN001
    monkeypatch.setattr(window, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="installation.adapters.window"):
        assert window.warn_if_invisible("x11", "the show's window", "do this") is False
        assert window.warn_if_invisible("offscreen", "the show's window", "do this") is True
        assert window.warn_if_invisible("offscreen", "the show's window", "do this") is True
    [record] = caplog.records
    assert "runs invisibly on SDL's 'offscreen' video driver" in record.message
    assert "do this" in record.message and "DISPLAY" in record.message


def test_the_calibration_window_warns_when_nobody_can_see_it(monkeypatch: pytest.MonkeyPatch, caplog) -> None:  # noqa: ANN001
    from calibration.interactive import _window

    monkeypatch.setattr(window, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="installation.adapters.window"):
        _window((64, 48), "calibrate test")  # conftest: SDL's dummy driver, as without a screen
        _window((64, 48), "calibrate test")
    [record] = caplog.records
    assert "the calibration window runs invisibly" in record.message and "--images" in record.message


@pytest.mark.slow
def test_the_live_show_without_a_display_says_so_once_and_headless_does_not(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1")
    base = [sys.executable, str(ROOT / "run.py"), "demo", "--seconds", "1.5", "--set", "osc.enabled=false"]
    base += ["--set", f"archive.root={json.dumps(str(tmp_path / 'archive'))}"]  # never the show's own folders
    base += ["--set", f"logging.file={json.dumps(str(tmp_path / 'logs' / 'i.jsonl'))}"]
    r = subprocess.run([*base, "--windowed"], capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-1500:]
    warnings = [line for line in r.stderr.splitlines() if "no display:" in line]
    assert len(warnings) == 1 and "--headless" in warnings[0] and "DISPLAY" in warnings[0]
    headless = [*base, "--headless", "--out", str(tmp_path / "out")]
    r = subprocess.run(headless, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-1500:]
    assert "no display:" not in r.stderr
