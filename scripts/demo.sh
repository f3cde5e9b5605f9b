#!/usr/bin/env bash
# Command 1: set up if needed, then run the installation on its embedded default (replayed sessions).
# With a screen: a window. Without one (no DISPLAY/WAYLAND_DISPLAY): headless for 20 s into out/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" = "Darwin" ]; then
  exec .venv/bin/python run.py demo --windowed --hud "$@"
fi
echo "demo: no screen found; running headless: frames and metrics.json go to out/demo"
exec .venv/bin/python run.py demo --headless --seconds 20 --out out/demo "$@"
