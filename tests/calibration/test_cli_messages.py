import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from calibration.cli import _ask_corners
from installation.core.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


def _ask(stdin: str, profile: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "run.py"), "calibrate", "plotter", "--ask", "--profile", str(profile)]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120)


def test_input_ending_early_is_one_line_and_nothing_written(tmp_path: Path) -> None:
    profile = tmp_path / "venue.json"
    r = _ask("12,10\n222,11\n", profile)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and "input ended before the bottom-right reading" in r.stderr
    assert not profile.exists()


def test_a_malformed_reading_is_refused_at_its_own_prompt(tmp_path: Path) -> None:
    profile = tmp_path / "venue.json"
    r = _ask("12,10\n222;11\n221,307\n11,306\n", profile)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "top-right reading '222;11'" in r.stderr and "--corners" not in r.stderr
    assert r.stdout.count("plotter x,y in mm") == 2  # stopped there, not after all four prompts
    assert not profile.exists()


def test_four_good_readings_register_the_plotter(tmp_path: Path) -> None:
    profile = tmp_path / "venue.json"
    r = _ask("12,10\n222,11\n221,307\n11,306\n", profile)
    assert r.returncode == 0, r.stderr
    points = json.loads(profile.read_text())["plotter"]["points"]
    assert [p[2:] for p in points] == [[12, 10], [222, 11], [221, 307], [11, 306]]


def test_at_a_terminal_a_malformed_reading_is_asked_again(capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["1,2", "oops", "3,4", "5,6", "7,8"])
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    assert _ask_corners(ask, interactive=True) == [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert len(prompts) == 5 and "top-right" in prompts[1] and "top-right" in prompts[2]
    assert "'oops' must be 2 comma-separated finite numbers" in capsys.readouterr().err

    def ends(prompt: str) -> str:
        raise EOFError

    with pytest.raises(UserError, match="input ended before the top-left reading"):
        _ask_corners(ends, interactive=True)


@pytest.mark.parametrize(
    ("step", "source", "expected"),
    [
        ("camera", "97", "camera index 97 cannot be opened: check it is plugged in, or give --live another index"),
        ("paper", "no_such_video.mp4", "--live 'no_such_video.mp4' is neither a camera index nor an existing video"),
    ],
)
def test_live_camera_errors_name_the_live_option(tmp_path: Path, step: str, source: str, expected: str) -> None:
    cmd = [sys.executable, str(ROOT / "run.py"), "calibrate", step, "--live", source, "--profile", str(tmp_path / "v")]
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {expected}") and "input.camera" not in last


def test_grbl_bridge_error_names_the_serial_option(tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "run.py"), "bridge", "grbl", "--serial", str(tmp_path / "ttyNONE")]
    cmd += ["--port", "0", "--out", str(tmp_path / "robot")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot open serial port") and last.endswith("--serial") and "--port" not in last


def test_help_describes_every_calibration_step() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "run.py"), "--help"], capture_output=True, text=True, timeout=60)
    [line] = [ln for ln in r.stdout.splitlines() if ln.strip().startswith("calibrate ")]
    for step in ("camera", "paper", "tablet", "plotter", "marker", "accuracy"):
        assert step in line, (step, line)
