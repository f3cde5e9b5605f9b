import errno
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

# Real pygame surfaces without a screen: set before any test imports pygame.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# Shows under test never notify a real service manager (a suite run inside a Type=notify unit would otherwise
# tell it READY/STOPPING); the notify tests set their own socket.
for _var in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
    os.environ.pop(_var, None)

ROOT = Path(__file__).resolve().parents[1]
SHOW_FOLDERS = ("archive", "logs", "saved")  # where a real show writes; the suite must never write there
DEFAULT_PORTS = (9000, 9100)  # the show's OSC control port and the robot bridge's: held for the whole run


@pytest.fixture
def free_udp_port() -> int:
    """A loopback UDP port that is free now (bound to 0, read and released) for a server under test."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def sandbox(tmp_path: Path) -> list[str]:
    """Config overrides that keep a show under test inside tmp_path and off the default ports: put them first,
    so a test's own settings (a free osc.port, a state listener) still win."""
    box = tmp_path / "sandbox"
    return [
        "osc.port=0",
        "osc.state_out=[]",
        f"archive.root={json.dumps(str(box / 'archive'))}",
        f"logging.file={json.dumps(str(box / 'logs' / 'installation.jsonl'))}",
        f"paths.saved={json.dumps(str(box / 'saved'))}",
        f"paths.recordings={json.dumps(str(box / 'recordings'))}",
        f"sitter.archive={json.dumps(str(box / 'sitter-archive'))}",
        f"duet.archive={json.dumps(str(box / 'duet-archive'))}",
    ]


@pytest.fixture
def sandbox_argv(sandbox: list[str]) -> list[str]:
    """The same overrides as `--set` arguments for a `run.py` child process."""
    return [arg for item in sandbox for arg in ("--set", item)]


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    if not folder.exists():
        return {}
    out = {}
    for p in folder.rglob("*"):
        try:
            st = p.lstat()
        except OSError:
            continue
        out[str(p.relative_to(ROOT))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="session", autouse=True)
def stays_in_its_sandbox() -> Iterator[None]:
    """The suite never writes into the repository's archive/, logs/ or saved/, and never binds the default
    ports: it holds 9000 and 9100 itself for the whole run (when a real show holds them, so much the better), so a
    test that starts a show or a bridge on a default port fails at once instead of passing by luck."""
    held = []
    for port in DEFAULT_PORTS:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            held.append(s)
        except OSError as e:
            s.close()
            if e.errno != errno.EADDRINUSE:
                raise
    before = {name: _tree(ROOT / name) for name in SHOW_FOLDERS}
    yield
    for s in held:
        s.close()
    changed = []
    for name in SHOW_FOLDERS:
        after = _tree(ROOT / name)
        changed += sorted(p for p in after.keys() | before[name].keys() if after.get(p) != before[name].get(p))
    assert not changed, f"the tests wrote into the show's own folders: {', '.join(changed[:10])}"
