#!/usr/bin/env bash
# Test driver: starts the engine simulator (SIM, any free port), runs COMMAND... with the simulator's URL
# (ws://127.0.0.1:PORT) appended as the last argument, stops the simulator, and exits with COMMAND's status.
# Usage: run_with_sim.sh SIM -- COMMAND...
set -euo pipefail
sim=$1
shift
if [ "${1:-}" = "--" ]; then shift; fi
coproc SIMPROC { exec "$sim" --port 0; }
sim_pid=$SIMPROC_PID
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
if ! read -r -t 30 line <&"${SIMPROC[0]}"; then
  echo "run_with_sim: the simulator did not start" >&2
  exit 1
fi
url=${line#listening on }
status=0
"$@" "$url" || status=$?
exit "$status"
