#!/usr/bin/env bash
# CTest build.default_configure: the tree the README's first command builds (scripts/demo → scripts/build,
# default options: QIX_WERROR off) configures, and none of its build commands carries an empty argument.
# An option-dependent generator expression such as `$<$<BOOL:${QIX_WERROR}>:-Werror>` in a custom command
# becomes "" when the option is off, and a tool given "" fails (SWIG: "Unrecognized option"); CI builds with
# QIX_WERROR on, so only this check sees the default tree's commands. Nothing is built: ninja lists them.
#   default_configure.sh SOURCE_DIR CMAKE NINJA
set -euo pipefail
src=$1 cmake=$2 ninja=$3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/qix-default-configure.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
if ! "$cmake" -S "$src" -B "$scratch" -G Ninja -DCMAKE_MAKE_PROGRAM="$ninja" > "$scratch.log" 2>&1; then
  cat "$scratch.log" >&2; rm -f "$scratch.log"
  echo "default_configure.sh: configuring with default options failed" >&2
  exit 1
fi
rm -f "$scratch.log"
bad=$("$ninja" -C "$scratch" -t commands | grep -E '(^| )""( |$)' || true)
if [ -n "$bad" ]; then
  echo "default_configure.sh: build commands with an empty argument (\"\"):" >&2
  echo "$bad" | cut -c1-400 >&2
  exit 1
fi
echo "default_configure.sh: $("$ninja" -C "$scratch" -t commands | wc -l) build commands, none with an empty argument"
