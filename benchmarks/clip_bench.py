"""CLIP encoder latency on this machine: the shipped ONNX encoders (live scoring) and the torch small CLIP
(what the steering generators differentiate through).

    python benchmarks/clip_bench.py --json benchmarks/clip-cpu-2core.json

ONNX Runtime CPU, `--threads` intra-op threads: image encoder at its native size (batch 1 and 8), text encoder
(batch 1, a new prompt each call: no cache), and ClipScorer.score on a 256² RGB image with a cached prompt
(resize + image encoder + dot product: the live score). Torch: encode_image forward + backward on a 224² batch
of 8 (the generators' augmented cut-outs), eval mode. Median and p95 over `--runs` calls after warm-up.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(fn, runs: int, warmup: int = 3) -> dict[str, float]:  # noqa: ANN001
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(float(np.median(ms)), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3), "runs": runs}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--json", type=Path, required=True)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()

    import torch

    from installation.runtime.clip_score import ASSETS, ClipScorer
    from installation.runtime.inference import RuntimeSettings
    from models.clip.api import load_clip

    torch.set_num_threads(args.threads)
    scorer = ClipScorer(ASSETS, RuntimeSettings(providers=("cpu",), intra_op_threads=args.threads, warmup_runs=0))
    s = scorer.image_size
    rng = np.random.default_rng(0)
    x1 = rng.random((1, 3, s, s), dtype=np.float32)
    x8 = rng.random((8, 3, s, s), dtype=np.float32)
    live = (rng.random((256, 256, 3)) * 255).astype(np.uint8)
    scorer.text_embeddings(["a drawing of a cat"])
    counter = iter(range(10**9))
    from installation.core.clip_tokens import tokenize

    out: dict = {
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "threads": args.threads,
        },  # fmt: skip
        "model": scorer.name,
        "image_size": s,
        "onnx_image_b1": timed(lambda: scorer._image.run(None, {"images": x1}), args.runs),
        "onnx_image_b8": timed(lambda: scorer._image.run(None, {"images": x8}), args.runs),
        "onnx_text_b1_uncached": timed(
            lambda: scorer._text.run(None, {"tokens": tokenize([f"a drawing of {next(counter)} cats"], 32)}), args.runs
        ),
        "live_score_256_cached_prompt": timed(lambda: scorer.score(live, ["a drawing of a cat"]), args.runs),
    }
    model = load_clip()
    txt = model.encode_text(["a drawing of a cat"]).detach()

    def fwd_bwd() -> None:
        img = torch.rand(8, 3, 224, 224, requires_grad=True)
        (model.encode_image(img) @ txt.T).sum().backward()

    out["torch_encode_image_224_b8_fwd_bwd"] = timed(fwd_bwd, max(10, args.runs // 5), warmup=2)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
