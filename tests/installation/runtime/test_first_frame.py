import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from installation.runtime import started
from installation.runtime.metrics import MetricsRecorder

ROOT = Path(__file__).resolve().parents[3]


def test_first_frame_counts_from_the_noted_interpreter_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(started, "_noted", time.time() - 2.5)
    m = MetricsRecorder()
    m.frame(0.0)
    assert m.summary(1.0)["first_frame_s"] == pytest.approx(2.5, abs=0.2)
    monkeypatch.setattr(started, "_noted", None)  # no note: the OS's process start time
    assert 0 < time.time() - started.interpreter_start() < 24 * 3600


@pytest.mark.slow
def test_a_setup_step_before_exec_is_not_counted(tmp_path: Path) -> None:
    # scripts/demo.sh runs scripts/setup.sh and then execs Python in the same process: that set-up time is
    # in the process's start time (it gave first_frame_s = 181 s) but not in the interpreter's
    out = tmp_path / "demo"
    demo = [sys.executable, str(ROOT / "run.py"), "demo", "--headless", "--seconds", "1", "--out", str(out)]
    demo += ["--set", "osc.enabled=false", "--set", f"archive.root={json.dumps(str(tmp_path / 'archive'))}"]
    demo += ["--set", f"logging.file={json.dumps(str(tmp_path / 'logs' / 'i.jsonl'))}"]
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    t0 = time.time()
    r = subprocess.run(
        ["bash", "-c", "sleep 12; exec " + shlex.join(demo)], capture_output=True, text=True, timeout=300, env=env
    )
    wall = time.time() - t0
    assert r.returncode == 0, r.stderr[-1500:]
    first = json.loads((out / "metrics.json").read_text())["first_frame_s"]
    # Python started at least 12 s after t0 and the first frame came before the end: counted from the process's
    # start, it would be at least 12 s and (with the 1 s run and the shut-down after it) above wall - 12
    assert 0 < first <= wall - 12
