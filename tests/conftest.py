import os
import socket

import pytest

# Real pygame surfaces without a screen: set before any test imports pygame.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# Shows under test never notify a real service manager (a suite run inside a Type=notify unit would otherwise
# tell it READY/STOPPING); the notify tests set their own socket.
for _var in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
    os.environ.pop(_var, None)


@pytest.fixture
def free_udp_port() -> int:
    """A loopback UDP port that is free now (bound to 0, read and released) for a server under test."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
