"""How much batching can win on this machine's ONNX Runtime CPU provider (issue 17's "why").

The shipped pix2pix CPU tier, exported with a free batch dimension, run at batch 1, 2, 4 and 8 with 1 and 2
intra-op threads: milliseconds per sketch at each batch (median of repeated calls). The ratio batch-1 / batch-8
per sketch is the most any dynamic batcher in front of this provider can gain, whatever the server.

    python benchmarks/batch_ceiling.py --json benchmarks/batch-ceiling-cpu-2core.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHECKPOINT = ROOT / "models" / "pix2pix" / "trained" / "cpu_tier" / "pix2pix_cpu.pt"


def per_sketch_ms(model: Path, threads: int, batches: tuple[int, ...], calls: int) -> dict[int, float]:
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads, o.inter_op_num_threads = threads, 1
    s = ort.InferenceSession(str(model), o, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    out = {}
    for b in batches:
        x = np.random.default_rng(0).random((b, 1, 256, 256), dtype=np.float32) * 2 - 1  # (B, 1, 256, 256)
        s.run(None, {name: x})
        ts = []
        for _ in range(max(4, calls // b)):
            t = time.perf_counter()
            s.run(None, {name: x})
            ts.append(time.perf_counter() - t)
        out[b] = round(float(np.median(ts)) / b * 1000.0, 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--calls", type=int, default=32, help="sketches per batch size and thread count")
    args = ap.parse_args()
    from installation.verbs.bench import machine

    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "p2p_dynamic.onnx"
        cmd = [sys.executable, str(ROOT / "run.py"), "export", "--checkpoint", str(CHECKPOINT), "--out", str(model)]
        subprocess.run([*cmd, "--dynamic-batch"], check=True, capture_output=True)
        rows = []
        for threads in (1, 2):
            ms = per_sketch_ms(model, threads, (1, 2, 4, 8), args.calls)
            rows.append({"threads": threads, "ms_per_sketch": ms, "batch8_gain": round(ms[1] / ms[8], 3)})
    report = {
        "model": "pix2pix CPU tier (models/pix2pix/trained/cpu_tier/pix2pix_cpu.pt), dynamic batch",
        "provider": "CPUExecutionProvider",
        "rows": rows,
        "machine": {**machine(), "load": list(os.getloadavg())},  # the block every bench record has
    }
    args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
