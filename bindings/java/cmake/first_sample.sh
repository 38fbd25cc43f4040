#!/usr/bin/env bash
# Runs docs/java.md's first sample as printed (test java.first_sample), the way a newcomer would: the ```java
# block after the marker "<!-- first-sample: java" saved under its class's name in a scratch folder outside the
# tree, next to the jar (linked there under its own name), then the first ```sh block after it (javac, java -cp)
# run there with bash -e. The one thing replaced is the URL literal ws://localhost:9076/app/demo, which becomes
# the simulator's (URL, appended by run_with_sim.sh). Nothing of the caller's CLASSPATH or LD_LIBRARY_PATH is
# passed on. The marked block must be the doc's first code block.
#
# Checks: the program exits 0 and prints a line "changed", then a line "layout: {..." with the hypercube.
#
#   run_with_sim.sh SIM -- first_sample.sh --doc docs/java.md --jar libqix-X.jar --javac EXE --java EXE \
#                          --source DIR --build DIR
set -euo pipefail

doc="" jar="" javac="" java="" source="" build=""
while [ $# -gt 1 ]; do
  case "$1" in
    --doc) doc=$(realpath "$2"); shift 2 ;;
    --jar) jar=$(realpath "$2"); shift 2 ;;
    --javac) javac=$(realpath "$2"); shift 2 ;;
    --java) java=$(realpath "$2"); shift 2 ;;
    --source) source=$(realpath "$2"); shift 2 ;;
    --build) build=$(realpath "$2"); shift 2 ;;
    *) echo "first_sample: unknown argument $1" >&2; exit 2 ;;
  esac
done
url=${1:-}
if [ -z "$doc" ] || [ -z "$jar" ] || [ -z "$javac" ] || [ -z "$java" ] || [ -z "$source" ] || [ -z "$build" ] ||
   [ -z "$url" ]; then
  echo "usage: first_sample.sh --doc FILE --jar JAR --javac EXE --java EXE --source DIR --build DIR URL" >&2
  exit 2
fi
say() { echo "first_sample: $*"; }
fail() { echo "first_sample: FAILED: $*" >&2; exit 1; }
case "$url" in ws://*) ;; *) fail "not a simulator URL: $url" ;; esac

# ------------------------------------------------------------------------------------ the blocks, as printed
marker='<!-- first-sample: java '
test "$(grep -c -F -- "$marker" "$doc")" = 1 || fail "the marker '$marker' must occur exactly once in $doc"
marker_line=$(grep -n -F -- "$marker" "$doc" | cut -d: -f1)
first_fence=$(grep -n -m 1 '^```' "$doc" | cut -d: -f1)
test "$first_fence" -gt "$marker_line" ||
  fail "the first sample is not the first code block of $doc (line $first_fence)"
sample=$(awk -v m="$marker" '
  index($0, m) == 1           { marked = 1; next }
  marked && !inside && /^```java$/ { inside = 1; next }
  inside && /^```$/           { exit }
  inside                      { print }' "$doc")
run=$(awk -v m="$marker" '
  index($0, m) == 1           { marked = 1; next }
  marked && !java && /^```java$/ { java = 1; next }
  java && !done && /^```$/    { done = 1; next }
  done && !inside && /^```sh$/ { inside = 1; next }
  inside && /^```$/           { exit }
  inside                      { print }' "$doc")
test -n "$sample" || fail "no \`\`\`java block after the marker in $doc"
test -n "$run" || fail "no \`\`\`sh block after the first sample in $doc"
literal='ws://localhost:9076/app/demo'
test "$(grep -c -F -- "$literal" <<<"$sample")" = 1 || fail "the sample must name $literal exactly once"
class=$(sed -n 's/^public \(final \)\{0,1\}class \([A-Za-z_][A-Za-z0-9_]*\).*/\2/p' <<<"$sample")
test "$(wc -w <<<"$class")" = 1 || fail "the sample must declare exactly one public class (found '$class')"
jar_name=$(basename "$jar")
grep -q -F -- "$jar_name" <<<"$run" || fail "the run block does not name the jar the build makes ($jar_name)"
grep -q -F -- "$class.java" <<<"$run" || fail "the run block does not compile $class.java"

# -------------------------------------------------------------------------------------- a scratch folder
scratch=$(mktemp -d "${TMPDIR:-/tmp}/qix-java-first-sample.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
for tree in "$source" "$build"; do
  case "$scratch/" in "$tree"/*) fail "the scratch folder $scratch is inside $tree" ;; esac
done
ln -s "$jar" "$scratch/$jar_name"
printf '%s\n' "${sample//"$literal"/"$url/app/demo"}" >"$scratch/$class.java"
printf '%s\n' "$run" >"$scratch/run.sh"
say "in $scratch: $class.java as docs/java.md prints it (the URL adapted to $url/app/demo), then:"
sed 's/^/  | /' "$scratch/run.sh"

# ---------------------------------------------------------------------------------------------------- run
status=0
(cd "$scratch" &&
  env -u CLASSPATH -u LD_LIBRARY_PATH -u JAVA_TOOL_OPTIONS -u JDK_JAVA_OPTIONS -u _JAVA_OPTIONS \
    PATH="$(dirname "$javac"):$(dirname "$java"):$PATH" bash -e run.sh) >"$scratch/out.log" 2>&1 || status=$?
cut -c 1-200 "$scratch/out.log" | sed 's/^/  > /'
test "$status" = 0 || fail "the sample exited with status $status"
changed_at=$(grep -n -m 1 -x 'changed' "$scratch/out.log" | cut -d: -f1 || true)
test -n "$changed_at" || fail "the sample printed no 'changed' line"
layout=$(tail -n +"$changed_at" "$scratch/out.log" | grep -m 1 '^layout: {' || true)
test -n "$layout" || fail "the sample printed no 'layout: {...' line after 'changed'"
grep -q '"qHyperCube"' <<<"$layout" || fail "the printed layout has no qHyperCube"
grep -q '"qMatrix"' <<<"$layout" || fail "the printed layout has no data page (qMatrix)"
say "ok"
