#!/usr/bin/env bash
# CTest capi.first_sample: docs/c-api.md's first program, as printed (only its URL literal pointed at a
# simulator started here), compiled as C99 with warnings as errors against this build's libqix and run.
# It listens for "changed" on a never-fetched hypercube, selects a value and waits for the event: without
# libqix's rule for such objects it would wait forever (the test's timeout fails it).
#   first_sample_c.sh DOC CC INCLUDE_DIRS(;-separated) LIBQIX_SO SIM
set -euo pipefail
doc=$1 cc=$2 includes=$3 libqix=$4 sim=$5
fail() { echo "first_sample_c.sh: $*" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/qix-first-c.XXXXXX")
sim_pid=""
cleanup() {
  status=$?
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  if [ "$status" -eq 0 ]; then rm -rf "$scratch"; else echo "first_sample_c.sh: kept $scratch" >&2; fi
}
trap cleanup EXIT

"$(dirname "$0")/doc_block.sh" "$doc" "first-sample: c" > "$scratch/first.c"
grep -q 'ws://localhost:9076/app/demo' "$scratch/first.c" || fail "the sample no longer uses ws://localhost:9076"

coproc SIMPROC { exec "$sim" --host 127.0.0.1 --port 0 2>"$scratch/sim.err"; }
sim_pid=$SIMPROC_PID
line=""
read -r line <&"${SIMPROC[0]}" || true
[[ "$line" == "listening on ws://"* ]] || { cat "$scratch/sim.err" >&2; fail "the simulator did not start"; }
url=${line#listening on }
sed -i "s|ws://localhost:9076|$url|" "$scratch/first.c"

flags=()
IFS=';' read -r -a dirs <<<"$includes"
for d in "${dirs[@]}"; do flags+=("-I$d"); done
"$cc" -std=c99 -Wall -Wextra -pedantic -Werror "${flags[@]}" -o "$scratch/first" "$scratch/first.c" \
  "$libqix" -Wl,-rpath,"$(dirname "$libqix")"
"$scratch/first" | tee "$scratch/out"
grep -q '^changed; the layout now: {' "$scratch/out" || fail "the program did not print the fresh layout"
echo "first sample (C): ok"
