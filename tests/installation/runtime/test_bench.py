import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_bench_writes_the_agreed_json(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    cmd = [sys.executable, str(ROOT / "run.py"), "bench", "--json", str(out), "--seconds", "0.3", "--min-calls", "5",
           "--e2e-seconds", "2"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    data = json.loads(out.read_text())
    assert {"cpu", "cores", "onnxruntime"} <= set(data["machine"])
    backends = {(row["backend"], row["provider"]) for row in data["results"]}
    assert ("onnxruntime", "CPUExecutionProvider") in backends and any(b == "torch" for b, _ in backends)
    for row in data["results"]:
        assert row["resolution"] == 256 and 0 < row["p50_ms"] <= row["p95_ms"] and row["calls_per_s"] > 0
        assert row["peak_mb"] > 0
    e = data["end_to_end"]
    assert 0 < e["frame_ms_p50"] <= e["frame_ms_p95"]
    assert "| model |" in r.stdout
