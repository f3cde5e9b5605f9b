#!/usr/bin/env bash
# Command 2: set up if needed, then lint, type-check the core and run the test suite except the slow tests.
# `bash scripts/test.sh --slow` runs only the slow ones (marked @pytest.mark.slow: soak, training, steering runs,
# whole-show subprocesses); CI runs both (.ci/run). Other arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy PYGAME_HIDE_SUPPORT_PROMPT=1
if [ "${1:-}" = "--slow" ]; then
  shift
  exec .venv/bin/python -m pytest -m slow "$@"
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest -m "not slow" "$@"
