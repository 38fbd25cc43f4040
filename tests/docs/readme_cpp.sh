#!/usr/bin/env bash
# The README's C++ example, as printed, compiles (syntax and types; it needs a Qlik tenant to run) with the
# public headers and C++17, warnings as errors.
#   readme_cpp.sh README CXX INCLUDE_DIRS(;-separated)
set -euo pipefail
readme=$1 cxx=$2 includes=$3
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$here/doc_block.sh" "$readme" "## A minimal C++ example" >"$tmp/readme.cpp"
args=()
IFS=';' read -ra dirs <<<"$includes"
for d in "${dirs[@]}"; do args+=("-I$d"); done
"$cxx" -std=c++17 -Wall -Wextra -Werror -fsyntax-only "${args[@]}" "$tmp/readme.cpp"
echo "readme_cpp: the README's C++ example compiles ($(wc -l <"$tmp/readme.cpp") lines)"
