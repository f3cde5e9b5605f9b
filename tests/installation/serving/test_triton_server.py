"""The show's Triton backend against a real Triton server (PyTriton) on loopback: equal answers, batching, faults."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from installation.core.config import load_config
from installation.runtime.inference import RuntimeSettings, open_model
from installation.runtime.remote_model import TritonModel
from installation.runtime.show import Show, ShowOptions
from installation.runtime.triton_client import HttpTransport
from installation.runtime.triton_repo import SHIPPED
from installation.runtime.triton_server import ROOT, TritonServer, triton_env

pytestmark = pytest.mark.slow  # the server takes 10-30 s to start on a small machine


def _sketch(seed: int) -> np.ndarray:
    x = np.full((256, 256), 255, np.uint8)
    rng = np.random.default_rng(seed)
    for _ in range(6):
        r, c = rng.integers(20, 230, 2)
        x[r : r + 30, c : c + 4] = 0
    return x


@pytest.fixture(scope="module")
def local():  # noqa: ANN201 - the runtime's Model
    return open_model(SHIPPED / "pix2pix_default.onnx", None, RuntimeSettings(providers=("cpu",), warmup_runs=1))


def test_answers_through_triton_equal_the_local_model(triton: TritonServer, local) -> None:  # noqa: ANN001
    http = HttpTransport("127.0.0.1", triton.ports.http, 10.0)
    x = (_sketch(1).astype(np.float32) / 127.5 - 1.0)[None, None]
    y = http.infer("pix2pix_default", "sketch", x, "image")  # the float model: the 1e-3 goal
    assert y.shape == (1, 3, 256, 256)
    assert np.abs(y - local.run_batch(x)).max() < 1e-3
    model = TritonModel(http, "pix2pix_default_u8", "here", local)
    for seed in (2, 3):
        image = model.run(_sketch(seed))
        assert model.remote and np.abs(image.astype(int) - local.run(_sketch(seed))).max() <= 1
    st = model.stats()
    assert st["remote_answers"] == 2 and st["local_answers"] == 0 and st["round_trip_ms_p50"] > 0


def test_grpc_transport_in_the_server_environment(triton: TritonServer, local, tmp_path: Path) -> None:  # noqa: ANN001
    """tritonclient lives in .venv-triton only (its protobuf pin): the project's GrpcTransport is run there."""
    py, _ = triton_env()
    np.save(tmp_path / "x.npy", _sketch(4)[None])
    script = (
        "import sys, numpy as np; from installation.runtime.triton_client import GrpcTransport;"
        f"t = GrpcTransport('127.0.0.1', {triton.ports.grpc}, 10.0); assert t.ready('pix2pix_default_u8');"
        f"np.save(sys.argv[2], t.infer('pix2pix_default_u8', 'sketch_u8', np.load(sys.argv[1]), 'image_u8'))"
    )
    out = tmp_path / "y.npy"
    done = subprocess.run(
        [str(py), "-c", script, str(tmp_path / "x.npy"), str(out)], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-1500:]
    y = np.load(out)
    assert y.shape == (1, 256, 256, 3) and np.abs(y[0].astype(int) - local.run(_sketch(4))).max() <= 1


def test_concurrent_stations_are_batched_by_the_server(triton: TritonServer) -> None:
    def station(i: int) -> None:
        t = HttpTransport("127.0.0.1", triton.ports.http, 30.0)
        for k in range(6):
            t.infer("pix2pix_default_u8", "sketch_u8", _sketch(10 * i + k)[None], "image_u8")

    threads = [threading.Thread(target=station, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stats = HttpTransport("127.0.0.1", triton.ports.http, 10.0).stats("pix2pix_default_u8")
    (ms,) = stats["model_stats"]
    sizes = {int(b["batch_size"]): int(b["compute_infer"]["count"]) for b in ms["batch_stats"]}
    assert sum(n * s for s, n in sizes.items()) >= 36
    assert max(sizes) > 1, sizes  # six stations at once: the dynamic batcher put several sketches in one run


def test_server_killed_mid_show_the_station_draws_on_and_returns(triton: TritonServer, sandbox: list[str]) -> None:
    cfg = load_config(
        None,
        [
            *sandbox,
            "display.width=320",
            "display.height=200",
            'input.source="replay"',
            "input.replay_speed=4",
            "archive.enabled=false",
            'logging.file=""',
            "clip.enabled=false",
            'model.providers=["cpu"]',
            'model.backend="triton"',
            f'model.url="127.0.0.1:{triton.ports.http}"',
            "model.retry_s=0.5",
        ],
    )
    show = Show(cfg, ShowOptions(headless=True, seconds=150.0))
    marks: dict[str, float] = {}
    failures: list[str] = []

    def wait(cond, seconds: float) -> bool:  # noqa: ANN001
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if cond():
                return True
            time.sleep(0.02)
        return False

    def rig() -> None:
        try:
            if not wait(lambda: isinstance(show._model, TritonModel) and show._model.remote_answers >= 3, 60):
                failures.append("no answers from the server at the start")
                return
            m: TritonModel = show._model  # type: ignore[assignment]
            marks["kill"] = time.monotonic()
            triton.kill()
            if not wait(lambda: not m.remote and m.local_answers >= 3, 20):
                failures.append("no local answers after the kill")
                return
            marks["local"] = time.monotonic()
            triton.start("pix2pix_default_u8")
            marks["ready"] = time.monotonic()
            before = m.remote_answers
            if not wait(lambda: m.remote and m.remote_answers > before, 10):
                failures.append("the station did not return to the server")
            marks["back"] = time.monotonic()
            wait(lambda: False, 0.5)
        finally:
            show.stop.set()

    t = threading.Thread(target=rig, daemon=True)
    t.start()
    summary = show.run()
    t.join(30)
    assert not failures, failures
    flips = np.asarray(show.metrics.flips)
    window = flips[(flips >= marks["kill"] - 0.5) & (flips <= marks["back"])]
    assert len(window) > 20
    assert np.diff(window).max() < 0.25, np.diff(window).max()  # the display never stalled on the fault
    assert marks["back"] - marks["ready"] < 5.0
    m = show._model
    assert isinstance(m, TritonModel) and m.fallbacks == 1 and m.returns == 1
    assert summary["ai_updates"] > 0
