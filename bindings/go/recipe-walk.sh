#!/usr/bin/env bash
# Walks docs/go.md's "Using the module" recipe as printed, from a scratch folder outside the tree, the way a
# newcomer would: a fresh module (go mod init), the replace directive to the clone's bindings/go, go mod
# tidy, go run of the example against a simulator. Run by the test go_module_recipe (a build tree) and by
# scripts/package-check (libqix-dev installed with dpkg -i).
#
#   recipe-walk.sh --doc docs/go.md --clone DIR --engine-sim EXE --expect-lib FILE
#                  (--build-tree DIR | --installed) [--go EXE] [--move CMAKE] [--first-sample]
#
# The recipe is the ```sh block after the marker "<!-- recipe: using the module -->" in the doc. Three
# things in it are the reader's to adapt and only these are replaced: the line "LIBQIX=..." (-> --clone),
# the line "export PKG_CONFIG_PATH=..." (-> <build tree>/pkgconfig, or removed with --installed, as the
# doc says) and the URL ws://127.0.0.1:9076 (-> the simulator started here on a free port). Everything
# else runs as printed, with bash -e, in an environment with nothing of the caller's pkg-config, cgo, Go
# or loader settings: GOCACHE and GOPATH in the scratch folder, GOPROXY=off (no network), GOENV=off.
#
# Then: a `go build` of the same module must link the libqix given by --expect-lib (ldd, no
# LD_LIBRARY_PATH). With --move CMAKE (build tree only), libqix moves: `CMAKE --install <build tree>
# --prefix <scratch>/moved` (components runtime and dev) and PKG_CONFIG_PATH names the moved libqix.pc.
# A plain `go build` then reuses the package compiled for the build tree (Go does not key its cache on
# pkg-config: docs/go.md, "When libqix changes"); that is reported, not asserted. After the documented
# `go clean -cache`, the program must carry no rpath, link the moved libqix and run against it.
#
# With --first-sample (the test go_first_sample), the program is the doc's first sample instead of the
# example, as the doc says to use it: the ```go block after the marker "<!-- first-sample: go" (which must be
# the doc's first code block) becomes main.go in place of the line "cp $LIBQIX/examples/go/main.go .", and
# `go run . ws://127.0.0.1:9076` becomes `go run .` (the sample takes no argument). In the sample only the
# URL literal ws://localhost:9076/app/demo is replaced (-> the simulator's). It must print a line "changed",
# then a line "layout: {...}" with the hypercube.
set -euo pipefail

doc="" clone="" sim="" expect_lib="" build_tree="" installed=0 go_exe="" move_cmake="" first_sample=0
while [ $# -gt 0 ]; do
  case "$1" in
    --doc) doc=$(realpath "$2"); shift 2 ;;
    --clone) clone=$(realpath "$2"); shift 2 ;;
    --engine-sim) sim=$(realpath "$2"); shift 2 ;;
    --expect-lib) expect_lib=$(realpath "$2"); shift 2 ;;
    --build-tree) build_tree=$(realpath "$2"); shift 2 ;;
    --installed) installed=1; shift ;;
    --go) go_exe=$2; shift 2 ;;
    --move) move_cmake=$2; shift 2 ;;
    --first-sample) first_sample=1; shift ;;
    *) echo "recipe-walk: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$doc" ] || [ -z "$clone" ] || [ -z "$sim" ] || [ -z "$expect_lib" ] ||
   { [ -z "$build_tree" ] && [ "$installed" = 0 ]; } || { [ -n "$build_tree" ] && [ "$installed" = 1 ]; }; then
  echo "usage: recipe-walk.sh --doc FILE --clone DIR --engine-sim EXE --expect-lib FILE" \
    "(--build-tree DIR | --installed) [--go EXE] [--move CMAKE] [--first-sample]" >&2
  exit 2
fi
if [ -n "$move_cmake" ] && [ -z "$build_tree" ]; then echo "recipe-walk: --move needs --build-tree" >&2; exit 2; fi
if [ -n "$go_exe" ]; then PATH="$(dirname "$(realpath "$go_exe")"):$PATH"; fi
command -v go >/dev/null || { echo "recipe-walk: no go command" >&2; exit 1; }

say() { echo "recipe-walk: $*"; }
fail() { echo "recipe-walk: FAILED: $*" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/qix-go-recipe.XXXXXX")
case "$scratch/" in "$clone"/*) fail "the scratch folder $scratch is inside the clone" ;; esac
if [ -n "$build_tree" ]; then
  case "$scratch/" in "$build_tree"/*) fail "the scratch folder $scratch is inside the build tree" ;; esac
fi
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  chmod -R u+w "$scratch" 2>/dev/null || true  # the go command makes its module cache read-only
  rm -rf "$scratch"
}
trap cleanup EXIT

# --------------------------------------------------------------------------- the recipe, as printed
recipe=$(awk '
  /<!-- recipe: using the module -->/ { marked = 1; next }
  marked && !inside && /^```sh$/      { inside = 1; next }
  inside && /^```$/                    { exit }
  inside                               { print }' "$doc")
test -n "$recipe" || fail "no \`\`\`sh block after '<!-- recipe: using the module -->' in $doc"
count() { grep -c -- "$1" <<<"$recipe" || true; }
test "$(count '^LIBQIX=')" = 1 || fail "the recipe must set LIBQIX= on exactly one line"
test "$(count '^export PKG_CONFIG_PATH=')" = 1 || fail "the recipe must export PKG_CONFIG_PATH on exactly one line"
test "$(count 'ws://127\.0\.0\.1:9076')" = 1 || fail "the recipe must name ws://127.0.0.1:9076 exactly once"
test "$(count '^mkdir hello-qix && cd hello-qix$')" = 1 || fail "the recipe must create and enter hello-qix"

# The doc's first sample (--first-sample), as printed but for the URL literal.
copy_line='cp $LIBQIX/examples/go/main.go .'
run_line='go run . ws://127.0.0.1:9076'
if [ "$first_sample" = 1 ]; then
  test "$(grep -c -x -F -- "$copy_line" <<<"$recipe" || true)" = 1 || fail "the recipe must have the line: $copy_line"
  test "$(grep -c -x -F -- "$run_line" <<<"$recipe" || true)" = 1 || fail "the recipe must have the line: $run_line"
  marker='<!-- first-sample: go '
  test "$(grep -c -F -- "$marker" "$doc" || true)" = 1 || fail "the marker '$marker' must occur exactly once in $doc"
  marker_at=$(grep -n -F -- "$marker" "$doc" | cut -d: -f1)
  first_fence=$(grep -n -m 1 '^```' "$doc" | cut -d: -f1)
  test "$first_fence" -gt "$marker_at" ||
    fail "the first sample is not the first code block of $doc (line $first_fence)"
  sample=$(awk -v m="$marker" '
    index($0, m) == 1                { marked = 1; next }
    marked && !inside && /^```go$/   { inside = 1; next }
    inside && /^```$/                { exit }
    inside                           { print }' "$doc")
  test -n "$sample" || fail "no \`\`\`go block after '$marker' in $doc"
  grep -q '^package main$' <<<"$sample" || fail "the first sample is not a package main"
  literal='ws://localhost:9076/app/demo'
  test "$(grep -c -F -- "$literal" <<<"$sample" || true)" = 1 || fail "the first sample must name $literal exactly once"
fi

# A clean environment: nothing of the caller's pkg-config, cgo, Go or loader settings.
unset PKG_CONFIG PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_DISABLE_UNINSTALLED \
  CGO_CPPFLAGS CGO_CFLAGS CGO_CXXFLAGS CGO_LDFLAGS CC CXX GOFLAGS GOROOT GOBIN GOMODCACHE GOWORK \
  LD_LIBRARY_PATH LIBRARY_PATH CPATH
export GOCACHE="$scratch/go-cache" GOPATH="$scratch/go-path" GOPROXY=off GOENV=off CGO_ENABLED=1

# The simulator on a free port: its first line says where (read as it is written; no polling).
coproc SIM { exec "$sim" --port 0 2>"$scratch/sim.err"; }
sim_pid=$SIM_PID
read -r first_line <&"${SIM[0]}" || fail "the simulator ended before listening: $(cat "$scratch/sim.err")"
sim_url=${first_line#listening on }
case "$sim_url" in ws://*) ;; *) fail "unexpected first line from the simulator: $first_line" ;; esac
exec {sim_out}<&"${SIM[0]}"        # (a coproc's own descriptors are not passed on to children)
cat <&"$sim_out" >/dev/null &      # keep reading whatever else it prints

if [ -n "$build_tree" ]; then
  pc_line="export PKG_CONFIG_PATH=$build_tree/pkgconfig"
else
  pc_line=""  # "leave it out with libqix-dev installed"
fi
walked=$(awk -v clone="LIBQIX=$clone" -v pc="$pc_line" -v url="$sim_url" '
  /^LIBQIX=/                  { print clone; next }
  /^export PKG_CONFIG_PATH=/  { if (pc != "") print pc; next }
  { gsub("ws://127\\.0\\.0\\.1:9076", url); print }' <<<"$recipe")
if [ "$first_sample" = 1 ]; then
  printf '%s\n' "${sample//"$literal"/"$sim_url/app/demo"}" >"$scratch/first-sample.go"
  walked=$(awk -v cp="$copy_line" -v run="$run_line" -v sample="$scratch/first-sample.go" '
    $0 == cp  { print "cp " sample " main.go"; next }
    $0 == run { print "go run ."; next }
    { print }' <<<"$walked")
  say "the program: docs/go.md's first sample as printed, the URL adapted to $sim_url/app/demo:"
  sed 's/^/  | /' "$scratch/first-sample.go"
fi
say "in $scratch, as docs/go.md prints it (LIBQIX, PKG_CONFIG_PATH and the URL adapted):"
sed 's/^/  | /' <<<"$walked"
printf '%s\n' "$walked" >"$scratch/recipe.sh"
(cd "$scratch" && bash -e recipe.sh) 2>&1 | tee "$scratch/recipe.log" | cut -c 1-200 | sed 's/^/  > /'
if [ "$first_sample" = 1 ]; then
  changed_at=$(grep -n -m 1 -x 'changed' "$scratch/recipe.log" | cut -d: -f1 || true)
  test -n "$changed_at" || fail "the first sample printed no 'changed' line"
  layout=$(tail -n +"$changed_at" "$scratch/recipe.log" | grep -m 1 '^layout: {' || true)
  test -n "$layout" || fail "the first sample printed no 'layout: {...' line after 'changed'"
  grep -q '"qHyperCube"' <<<"$layout" || fail "the printed layout has no qHyperCube"
  grep -q '"qMatrix"' <<<"$layout" || fail "the printed layout has no data page (qMatrix)"
else
  grep -q '^updated layout:' "$scratch/recipe.log" || fail "the example printed no refreshed layout"
  test "$(tail -n 1 "$scratch/recipe.log")" = ok || fail "the example did not finish with ok"
fi
grep -q '^require github.com/libqix/libqix/bindings/go ' "$scratch/hello-qix/go.mod" ||
  fail "go mod tidy added no requirement on the module"

# ------------------------------------------------------------------------ which libqix it was built with
cd "$scratch/hello-qix"
if [ -n "$build_tree" ]; then export PKG_CONFIG_PATH="$build_tree/pkgconfig"; fi
loaded_lib() {  # $1 program: the file libqix.so.1 resolves to
  local path
  path=$(ldd "$1" | awk '$1 == "libqix.so.1" { print $3 }')
  test -n "$path" && test "$path" != "not" || fail "$1 does not find libqix.so.1: $(ldd "$1")"
  realpath "$path"
}
runpath() { readelf -d "$1" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]$/\2/p'; }
go build -o hello-qix .
got=$(loaded_lib hello-qix)
test "$got" = "$expect_lib" || fail "hello-qix loads $got, not $expect_lib"
say "hello-qix loads $got (rpath: '$(runpath hello-qix)')"
if [ "$installed" = 1 ] && [ -n "$(runpath hello-qix)" ]; then fail "built against the installed libqix, hello-qix has an rpath"; fi

# ------------------------------------------------------------------------------------- libqix moves
if [ -n "$move_cmake" ]; then
  moved="$scratch/moved"
  for component in runtime dev; do
    "$move_cmake" --install "$build_tree" --prefix "$moved" --component "$component" >/dev/null
  done
  moved_pc=$(dirname "$(find "$moved" -name libqix.pc | head -n 1)")
  moved_lib=$(dirname "$moved_pc")
  test -f "$moved_lib/libqix.so.1" || fail "no libqix.so.1 in $moved_lib"
  export PKG_CONFIG_PATH="$moved_pc"
  say "libqix moved to $moved; PKG_CONFIG_PATH=$PKG_CONFIG_PATH ($(pkg-config --libs libqix))"
  go build -o hello-moved .
  stale=$(runpath hello-moved)
  if [ -n "$stale" ]; then
    say "NOTE: without go clean -cache, Go reused the package compiled for the build tree (rpath '$stale'):" \
      "its cache does not key on pkg-config's answer (golang/go#24544), as docs/go.md says"
  else
    say "NOTE: Go rebuilt the package for the moved libqix by itself: docs/go.md's" \
      "\"When libqix changes\" may no longer be needed with $(go env GOVERSION)"
  fi
  go clean -cache  # docs/go.md, "When libqix changes"
  go build -o hello-moved .
  test -z "$(runpath hello-moved)" || fail "after go clean -cache, hello-moved still has an rpath: $(runpath hello-moved)"
  export LD_LIBRARY_PATH="$moved_lib"
  got=$(loaded_lib hello-moved)
  test "$got" = "$(realpath "$moved_lib/libqix.so.1")" || fail "after go clean -cache, hello-moved loads $got"
  ./hello-moved "$sim_url" >"$scratch/moved.log" 2>&1 || { cat "$scratch/moved.log" >&2; fail "hello-moved failed"; }
  test "$(tail -n 1 "$scratch/moved.log")" = ok || { cat "$scratch/moved.log" >&2; fail "hello-moved did not finish with ok"; }
  say "after go clean -cache: hello-moved loads $got and runs"
  unset LD_LIBRARY_PATH
fi
say "ok"
