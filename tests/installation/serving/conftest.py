"""A real Triton server (PyTriton in .venv-triton) on free loopback ports; tests skip when the env is absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.runtime.triton_repo import SHIPPED, write_repo
from installation.runtime.triton_server import Ports, TritonServer, triton_env


@pytest.fixture(scope="module")
def triton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    py, why = triton_env()
    if py is None:
        pytest.skip(f"Triton server tests need the optional environment: {why}")
    folder = tmp_path_factory.mktemp("triton")
    repo = folder / "repo"
    write_repo(repo, SHIPPED, "cpu", 8, 2000, 1)
    server = TritonServer(
        repo, Ports.free(), models=["pix2pix_default", "pix2pix_default_u8"], no_batch=True,
        log_file=folder / "server.log",
    )  # fmt: skip
    server.start("pix2pix_default_u8")
    yield server
    server.stop()


def log_tail(server: TritonServer) -> str:
    path: Path | None = server.log_file
    return path.read_text(errors="replace")[-2000:] if path is not None and path.is_file() else ""
