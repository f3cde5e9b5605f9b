#!/usr/bin/env bash
# Creates .venv-triton (the optional Triton server environment, requirements-triton.txt) if missing or stale.
# `run.py serve` calls this on first use; tests that need the server skip when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv-triton/bin/python ]; then
  echo "setup_triton: creating .venv-triton with $($PY --version) (PyTriton needs numpy < 2: its own environment)"
  $PY -m venv .venv-triton
fi
stamp=.venv-triton/.requirements.sha256
want=$(sha256sum requirements-triton.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup_triton: installing requirements-triton.txt (about 440 MB, a few minutes the first time)"
  .venv-triton/bin/python -m pip install -q --disable-pip-version-check -r requirements-triton.txt
  echo "$want" > "$stamp"
fi
