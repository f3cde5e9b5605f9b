#!/usr/bin/env bash
# The exact training run of the shipped model, as executed on the lent GPU machine (torch preinstalled there).
# Expects the data pack at .devcarry/pack.npz and writes what comes back under $OUT.
set -euo pipefail
export PYTHONUNBUFFERED=1 TQDM_DISABLE=1
OUT=${OUT:-out/gpu}; mkdir -p "$OUT"
python3 -c "import torch, sys; print(sys.version.split()[0], torch.__version__, torch.cuda.get_device_name(0))" | tee "$OUT/train.log"
nproc | tee -a "$OUT/train.log"
python3 -m models.pix2pix.train --data .devcarry/pack.npz --out /tmp/run --ngf 16 --batch-size 32 --workers 14 \
  --amp --time-budget-min "${BUDGET_MIN:-7.5}" --sample-every-min 2 --val-items 64 --seed 0 2>&1 | tee -a "$OUT/train.log"
python3 - "$OUT" <<'PY'
import sys, torch
out = sys.argv[1]
s = torch.load("/tmp/run/best.pt", map_location="cpu", weights_only=True)
keep = {k: s[k] for k in ("format", "version", "config", "generator", "epoch", "step", "metrics", "seed", "wall_s", "history")}
torch.save(keep, f"{out}/best_g.pt")
PY
cp /tmp/run/summary.json /tmp/run/metrics.jsonl /tmp/run/losses.png "$OUT/"
cp "$(ls /tmp/run/samples/*.png | tail -1)" "$OUT/sample.png"
python3 benchmarks/gpu_bench.py --json "$OUT/gpu_bench.json" --checkpoint "$OUT/best_g.pt" > /dev/null
