#!/usr/bin/env bash
# Conformance run: installs the pinned npm packages (enigma.js 2.15.0, qsocks 3.2.1, ws) and runs run.js
# against the simulator. Usage: tests/conformance/run.sh [path/to/qix-engine-sim]
# Default simulator path: build/tools/engine-sim/qix-engine-sim (then build-sim/...).
set -euo pipefail
cd "$(dirname "$0")"
exe="${1:-${QIX_ENGINE_SIM:-}}"
if [[ -z "$exe" ]]; then
  for c in ../../build/tools/engine-sim/qix-engine-sim ../../build-sim/tools/engine-sim/qix-engine-sim; do
    if [[ -x "$c" ]]; then exe="$c"; break; fi
  done
fi
[[ -x "$exe" ]] || { echo "conformance: qix-engine-sim not found (build it, or pass its path)" >&2; exit 1; }
if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund >/dev/null; else npm install --no-audit --no-fund >/dev/null; fi
node run.js "$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"
