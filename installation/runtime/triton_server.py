"""Starting and stopping the PyTriton server (installation/serving/pytriton_server.py) in .venv-triton.

`triton_env()` finds the optional environment's interpreter (or says why there is none); `TritonServer`
starts it on given ports with LD_LIBRARY_PATH including the interpreter's own lib/ (PyTriton's Python-backend
stub loads libpython3.x.so from there; without it the stub fails), waits until the models are ready, and
kills or stops it. Used by `run.py serve`, the station benchmark and the tests.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from installation.core.errors import UserError
from installation.runtime.triton_client import HttpTransport, free_tcp_port, wait_ready

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
ENV = ROOT / ".venv-triton"
SETUP = ROOT / "scripts" / "setup_triton.sh"


def triton_env(env: Path = ENV) -> tuple[Path | None, str]:
    """(interpreter, "") when the environment is there and complete; (None, why not) otherwise."""
    py = env / "bin" / "python"
    if not py.is_file():
        return None, f"no {env.name} (make it with `bash scripts/setup_triton.sh`, about 2 minutes)"
    if not (env / ".requirements.sha256").is_file():
        return None, f"{env.name} is incomplete (re-run `bash scripts/setup_triton.sh`)"
    return py, ""


def lib_dir(py: Path) -> str:
    out = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_config_var('LIBDIR'))"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return out.stdout.strip()


@dataclass
class Ports:
    http: int
    grpc: int
    metrics: int

    @staticmethod
    def free() -> Ports:
        return Ports(free_tcp_port(), free_tcp_port(), free_tcp_port())


class TritonServer:
    def __init__(
        self,
        repo: Path,
        ports: Ports,
        models: list[str] | None = None,
        no_batch: bool = False,
        threads: int = 1,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
    ) -> None:
        self.repo, self.ports, self.models, self.no_batch = repo, ports, models or [], no_batch
        self.threads, self.host, self.log_file = threads, host, log_file
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self, py: Path) -> list[str]:
        cmd = [
            str(py), "-m", "installation.serving.pytriton_server", "--repo", str(self.repo), "--host", self.host,
            "--http-port", str(self.ports.http), "--grpc-port", str(self.ports.grpc),
            "--metrics-port", str(self.ports.metrics), "--threads", str(self.threads),
        ]  # fmt: skip
        if self.models:
            cmd += ["--models", ",".join(self.models)]
        return cmd + (["--no-batch"] if self.no_batch else [])

    def start(self, ready_model: str, wait_s: float = 120.0) -> None:
        py, why = triton_env()
        if py is None:
            raise UserError(f"the Triton server environment is missing: {why}")
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = ":".join(p for p in (lib_dir(py), env.get("LD_LIBRARY_PATH", "")) if p)
        env["PYTHONPATH"] = str(ROOT)
        out = open(self.log_file, "ab") if self.log_file is not None else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.command(py), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        probe = HttpTransport(self.host, self.ports.http, 1.0)
        t0 = time.monotonic()
        while time.monotonic() - t0 < wait_s:
            if self.proc.poll() is not None:
                raise UserError(f"the Triton server exited with status {self.proc.returncode} at start-up"
                                f"{f': see {self.log_file}' if self.log_file else ''}")  # fmt: skip
            if wait_ready(probe, ready_model, 0.5):
                log.info("Triton server ready in %.1f s on http %d, grpc %d", time.monotonic() - t0,
                         self.ports.http, self.ports.grpc)  # fmt: skip
                probe.close()
                return
        self.stop()
        raise UserError(f"the Triton server did not get {ready_model} ready within {wait_s:.0f} s")

    def kill(self) -> None:
        """SIGKILL the whole process group (the server, tritonserver and its backend stubs): a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()
