"""The bench command on a tiny model (end-to-end part skipped); the GPU script without CUDA."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from installation.core.errors import UserError
from installation.runtime.inference import gpu_present
from installation.verbs import bench
from models.pix2pix.checkpoint import save_checkpoint
from models.pix2pix.config import Pix2PixConfig
from models.pix2pix.export import export
from models.pix2pix.networks import UnetGenerator

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cfg = Pix2PixConfig(ngf=4, resolution=128)
    d = tmp_path_factory.mktemp("bench")
    save_checkpoint(d / "g.pt", UnetGenerator(cfg), cfg)
    export(d / "g.pt", d / "g.onnx", parity_count=1)
    return d / "g.pt", d / "g.onnx"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    bench.add_arguments(p)
    return p.parse_args(argv)


def test_bench_writes_the_agreed_json(
    tiny: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt, model = tiny
    out = tmp_path / "b.json"
    argv = ["--json", str(out), "--model", str(model), "--checkpoint", str(ckpt), "--skip-e2e"]
    assert bench.main(parse([*argv, "--seconds", "0", "--calls", "5", "--warmup", "1", "--threads", "1"])) == 0
    data = json.loads(out.read_text())
    assert {"cpu", "cores", "ram_gb", "gpu", "os", "python", "torch", "onnxruntime"} <= set(data["machine"])
    rows = data["results"]
    assert {(r["backend"], r["provider"]) for r in rows} >= {
        ("torch", "cpu-eager"),
        ("onnxruntime", "CPUExecutionProvider"),
    }
    for r in rows:
        assert r["model"] == "pix2pix-ngf4-128" and r["resolution"] == 128 and r["threads"] == 1
        assert r["calls"] == 5 and 0 < r["p50_ms"] <= r["p95_ms"] and r["calls_per_s"] > 0
        assert r["peak_mb_kind"] in ("rss_hwm_rise", "rss_sampled_rise")
    assert next(r for r in rows if r["backend"] == "torch")["weights"] == "checkpoint g.pt"
    assert data["settings"]["threads"] == 1 and "end_to_end" not in data
    if not gpu_present():
        assert {s["provider"] for s in data["skipped"]} == {"tensorrt", "cuda"}
    assert "| pix2pix-ngf4-128 | 128 | onnxruntime | CPUExecutionProvider |" in capsys.readouterr().out


def test_peak_memory_sees_an_allocation_made_during_the_case() -> None:
    import numpy as np

    mem = bench.PeakMemory()
    block = np.ones(64 * 2**20 // 8)  # 64 MB, touched
    mem.sample()
    seen = mem.peak_mb()
    del block
    assert 56 <= seen <= 200, seen
    assert bench.PeakMemory().peak_mb() < 16  # a fresh case starts from the memory in use now


def test_without_checkpoint_torch_uses_random_weights(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    _, model = tiny
    out = tmp_path / "b.json"
    argv = ["--json", str(out), "--model", str(model), "--skip-e2e", "--providers", "cpu"]
    bench.main(parse([*argv, "--seconds", "0", "--calls", "3", "--warmup", "0"]))
    torch_row = next(r for r in json.loads(out.read_text())["results"] if r["backend"] == "torch")
    assert torch_row["weights"].startswith("same architecture, random weights")


def test_missing_model_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nope\.onnx does not exist"):
        bench.main(parse(["--json", str(tmp_path / "b.json"), "--model", str(tmp_path / "nope.onnx"), "--skip-e2e"]))


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA path")
def test_gpu_bench_without_cuda_says_so() -> None:
    script = str(ROOT / "benchmarks" / "gpu_bench.py")
    assert (
        "--compile-timeout" in subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True).stdout
    )
    r = subprocess.run([sys.executable, script, "--json", "/nonexistent/x.json"], capture_output=True, text=True)
    assert r.returncode == 2 and "no CUDA device" in r.stderr and "Traceback" not in r.stderr
