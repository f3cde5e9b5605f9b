#!/usr/bin/env bash
# The stronger embedded CLIP pair (issue 16): default + independent judge, on a lent GPU machine (torch there).
#   DATA=.devcarry/clip/clip.npz   a pack from `run.py build-data clip --resolution 128` (built here if missing and
#                                  /usr/share/openclipart/svg exists)
#   STROKES=.devcarry/clip/clip_strokes.npz   renders as the strokes generator draws (made here if missing)
#   MIN=12                         minutes of training for each of the two models
#   TOY=1                          an end-to-end smoke run on a CPU: tiny configs, seconds of training
# The judge differs from the default in seed, data order and width (config medium-judge); it is never used to
# select or tune anything. What comes back goes to $OUT: both checkpoints (fp16), metrics, held-out retrieval.
set -euo pipefail
export PYTHONUNBUFFERED=1 TQDM_DISABLE=1
OUT=${OUT:-out/gpu_clip}; mkdir -p "$OUT"
DATA=${DATA:-.devcarry/clip/clip.npz}
STROKES=${STROKES:-.devcarry/clip/clip_strokes.npz}
WORK=${WORK:-/tmp/gpu_clip}; mkdir -p "$WORK"
WORKERS=${WORKERS:-$(( $(nproc) > 2 ? $(nproc) - 2 : 1 ))}
PY=${PY:-python3}
if [ "${TOY:-0}" = 1 ]; then
  DEVICE=cpu; CFG=tiny; CFG_J=tiny; MIN=${MIN:-0.4}; BATCH=${BATCH:-32}; EVAL=${EVAL:-20}; THREADS=1
else
  DEVICE=cuda; CFG=medium; CFG_J=medium-judge; MIN=${MIN:-12}; BATCH=${BATCH:-256}; EVAL=${EVAL:-300}; THREADS=4
fi
$PY -c "import torch, sys; print(sys.version.split()[0], torch.__version__,
torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')" | tee "$OUT/clip.log"
if [ ! -f "$DATA" ]; then
  [ -d /usr/share/openclipart/svg ] || { echo "no pack at $DATA and no /usr/share/openclipart/svg to build one" >&2; exit 2; }
  DATA=$WORK/data/clip.npz
  $PY run.py build-data clip --source /usr/share/openclipart/svg --out "$WORK/data" --resolution 128 \
    --workers "$WORKERS" ${LIMIT:+--limit "$LIMIT"} 2>&1 | tail -n 3 | tee -a "$OUT/clip.log"
fi
if [ ! -f "$STROKES" ]; then
  STROKES=$WORK/clip_strokes.npz
  $PY -m models.clip.stroke_views --data "$DATA" --out "$STROKES" --workers "$WORKERS" 2>&1 | tee -a "$OUT/clip.log"
fi
train() {  # name config seed order-seed
  $PY run.py train-clip --data "$DATA" --out "$WORK/$1" --config "$2" --seed "$3" --order-seed "$4" \
    --stroke-views "$STROKES" --stroke-p 0.3 --enrich-p 0.5 --device "$DEVICE" --batch "$BATCH" \
    --time-budget-min "$MIN" --eval-every "$EVAL" --threads "$THREADS" 2>&1 | tee -a "$OUT/$1.log"
  cp "$WORK/$1/best.pt" "$OUT/$1.pt"
  cp "$WORK/$1/metrics.jsonl" "$OUT/$1_metrics.jsonl"; cp "$WORK/$1/summary.json" "$OUT/$1_summary.json"
  $PY run.py clip-eval --data "$DATA" --clip "$OUT/$1.pt" --json "$OUT/$1_heldout.json" --threads "$THREADS" \
    2>&1 | tail -n 2 | tee -a "$OUT/$1.log"
}
train clip_default "$CFG" 0 0
train clip_judge "$CFG_J" 1 7
ls -l "$OUT" | tee -a "$OUT/clip.log"
