#!/usr/bin/env bash
# Teacher → GPU tier → distilled CPU tier, on a lent GPU machine (torch preinstalled there, nothing installed).
# The data pack travels in parts of ≤ 60 MB (python -m models.data.pack split data/clipart_all/pack.npz
# .devcarry/parts), one device call each; this script reads the folder of parts. What comes back goes to $OUT.
#   STAGE=teacher  trains the ngf-64 teacher (TEACHER_MIN minutes) and exports the fp16 GPU tier
#   STAGE=student  distils .devcarry/teacher.pt (or /tmp/teacher/best.pt) into the ngf-16 CPU tier (STUDENT_MIN)
#   DOWNSAMPLE=blur  anti-aliased down-sampling for both (default stride: the blur is not yet measured on a GPU run)
set -euo pipefail
export PYTHONUNBUFFERED=1 TQDM_DISABLE=1
OUT=${OUT:-out/gpu}; mkdir -p "$OUT"
DATA=${DATA:-.devcarry/parts}
STAGE=${STAGE:-teacher}
DOWNSAMPLE=${DOWNSAMPLE:-stride}
WORKERS=${WORKERS:-$(( $(nproc) - 2 ))}
python3 -c "import torch, sys; print(sys.version.split()[0], torch.__version__, torch.cuda.get_device_name(0))" \
  | tee "$OUT/$STAGE.log"
keep_g() {  # the generator and its config only: small enough to come back
  python3 - "$1" "$2" <<'PY'
import sys, torch
s = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
keep = ("format", "version", "config", "generator", "epoch", "step", "metrics", "seed", "wall_s", "history")
torch.save({k: s[k] for k in keep if k in s}, sys.argv[2])
PY
}
if [ "$STAGE" = teacher ]; then
  python3 run.py train --data "$DATA" --out /tmp/teacher --ngf 64 --ndf 64 --num-d 3 --batch-size 32 --downsample "$DOWNSAMPLE" \
    --workers "$WORKERS" --amp --time-budget-min "${TEACHER_MIN:-8}" --sample-every-min 2 --val-items 64 --seed 0 \
    --epoch-items 8000 2>&1 | tee -a "$OUT/teacher.log"
  keep_g /tmp/teacher/best.pt "$OUT/teacher.pt"
  python3 run.py export --checkpoint "$OUT/teacher.pt" --out "$OUT/pix2pix_gpu.onnx" --fp16 --parity-data "$DATA" \
    2>&1 | tee -a "$OUT/teacher.log" || true
  cp /tmp/teacher/summary.json "$OUT/teacher_summary.json"; cp /tmp/teacher/metrics.jsonl "$OUT/teacher_metrics.jsonl"
  python3 benchmarks/gpu_bench.py --json "$OUT/gpu_bench_teacher.json" --checkpoint "$OUT/teacher.pt" > /dev/null || true
else
  TEACHER=${TEACHER:-.devcarry/teacher.pt}; [ -f "$TEACHER" ] || TEACHER=/tmp/teacher/best.pt
  python3 run.py train --data "$DATA" --out /tmp/student --ngf 16 --ndf 64 --num-d 3 --batch-size 32 --downsample "$DOWNSAMPLE" \
    --workers "$WORKERS" --amp --time-budget-min "${STUDENT_MIN:-5}" --sample-every-min 2 --val-items 64 --seed 0 \
    --epoch-items 8000 --teacher "$TEACHER" 2>&1 | tee -a "$OUT/student.log"
  keep_g /tmp/student/best.pt "$OUT/student.pt"
  cp /tmp/student/summary.json "$OUT/student_summary.json"; cp /tmp/student/metrics.jsonl "$OUT/student_metrics.jsonl"
fi
