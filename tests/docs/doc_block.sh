#!/usr/bin/env bash
# Prints the fenced code block that follows the first line of DOC containing MARKER (the block's lines
# only, without the ``` fences). Fails when there is none. Used by the tests that run docs' samples as printed.
#   doc_block.sh DOC MARKER
set -euo pipefail
doc=$1 marker=$2
block=$(awk -v marker="$marker" '
  !marked && index($0, marker) { marked = 1; next }
  marked && !inside && /^```/ { inside = 1; next }
  inside && /^```$/ { exit }
  inside { print }
' "$doc")
if [ -z "$block" ]; then
  echo "doc_block.sh: no block after \"$marker\" in $doc" >&2
  exit 1
fi
printf '%s\n' "$block"
