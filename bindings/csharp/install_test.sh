#!/usr/bin/env bash
# CTest csharp.package_install: docs/csharp.md's "Installing" recipe, as printed, offline. In a scratch folder
# outside the tree (also the HOME, so `~/QixHello` lands there, with its own NuGet packages folder), it runs the
# doc's block that follows the marker "csharp.package_install runs the next block" (`dotnet new console`,
# the nuget.config naming only the package folder, `dotnet add package Qix`) with QIX_NUPKG set as the doc's
# first step sets it, checks that Qix was the only package restored, puts the doc's first sample (marker
# "first-sample: csharp") into Program.cs as printed, its URL pointed at a simulator started here, and
# `dotnet run`s it: the sample waits for "changed" after a selection on a never-fetched hypercube, so without
# libqix's rule for such objects it would wait until the test's timeout. Every HTTP(S) request goes to a proxy
# address where nothing listens: a package or targeting pack that is missing from the folder fails the
# restore instead of coming from a feed.
set -euo pipefail

while [ $# -gt 0 ]; do
  case "$1" in
    --dotnet) dotnet=$2; shift 2 ;;
    --sim) sim=$2; shift 2 ;;
    --nupkg-dir) nupkg_dir=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --doc) doc=$2; shift 2 ;;
    *) echo "install_test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

fail() { echo "install_test.sh: $*" >&2; exit 1; }

[ -f "$nupkg_dir/Qix.$version.nupkg" ] ||
  fail "$nupkg_dir/Qix.$version.nupkg is missing (build the target qix_csharp_pack)"

# The doc's block: the fenced sh block right after the marker comment.
recipe=$(awk '
  /csharp\.package_install runs the next block/ { marked = 1; next }
  marked && !inside && /^```sh$/ { inside = 1; next }
  inside && /^```$/ { exit }
  inside { print }
' "$doc")
[ -n "$recipe" ] || fail "no install recipe found in $doc (the marker, then a \`\`\`sh block)"
grep -q 'dotnet add package Qix' <<<"$recipe" || fail "the recipe in $doc does not add the package"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/qix-csharp-install.XXXXXX")
sim_pid=""
cleanup() {
  status=$?
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  if [ "$status" -eq 0 ]; then rm -rf "$scratch"; else echo "install_test.sh: kept $scratch" >&2; fi
}
trap cleanup EXIT

# A user's shell, with a home and a NuGet packages folder of its own and no way to the network.
export HOME="$scratch/home" NUGET_PACKAGES="$scratch/home/.nuget/packages"
mkdir -p "$HOME"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=1 DOTNET_GENERATE_ASPNET_CERTIFICATE=false
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9
export HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
unset no_proxy NO_PROXY
# No MSBuild or compiler server outlives the test.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false
export PATH="$(dirname "$dotnet"):$PATH"

# The doc's first step, `QIX_NUPKG=$PWD/build/bindings/csharp/nupkg` in the checkout, for this build.
export QIX_NUPKG="$nupkg_dir"
echo "--- the recipe of $doc"
printf '%s\n' "$recipe"
echo "---"
(cd "$scratch" && bash -euo pipefail -c "$recipe")

project="$HOME/QixHello"
[ -f "$project/QixHello.csproj" ] || fail "the recipe did not create ~/QixHello/QixHello.csproj"
grep -q "<PackageReference Include=\"Qix\" Version=\"$version\" />" "$project/QixHello.csproj" ||
  fail "QixHello.csproj does not reference Qix $version"
# net8.0 and later: Qix has no dependencies, so it is the only package restored.
restored=$(ls "$NUGET_PACKAGES")
[ "$restored" = "qix" ] || fail "packages restored besides qix: $(echo $restored)"

# The doc's first sample, as printed; its URL literal is pointed at the simulator below.
first=$(awk '
  /first-sample: csharp/ { marked = 1; next }
  marked && !inside && /^```csharp$/ { inside = 1; next }
  inside && /^```$/ { exit }
  inside { print }
' "$doc")
grep -q 'ws://localhost:9076/app/demo' <<<"$first" || fail "no first sample (marker 'first-sample: csharp') in $doc"
printf '%s\n' "$first" >"$project/Program.cs"

# The simulator on a free port: its first line names the URL (read blocks until it is printed).
coproc SIMPROC { exec "$sim" --host 127.0.0.1 --port 0 2>"$scratch/sim.err"; }
sim_pid=$SIMPROC_PID
line=""
read -r line <&"${SIMPROC[0]}" || true
[[ "$line" == "listening on ws://"* ]] || { cat "$scratch/sim.err" >&2; fail "the simulator did not start"; }
url=${line#listening on }

sed -i "s|ws://localhost:9076|$url|" "$project/Program.cs"
(cd "$project" && dotnet run) | tee "$scratch/run.out"
# The rows fetched after "changed": Region and Sum(Sales) in the selection (Category = Bikes).
grep -Eq '^[A-Za-z ]+: [0-9]+' "$scratch/run.out" || fail "no rows printed after the changed event"

# The program ran on the package's net8.0 Qix.dll and native libraries.
out="$project/bin/Debug/net10.0"
pkg="$NUGET_PACKAGES/qix/$version"
cmp -s "$out/Qix.dll" "$pkg/lib/net8.0/Qix.dll" || fail "bin/Debug/net10.0/Qix.dll is not the package's lib/net8.0 one"
for lib in libqixcsharp.so libqix.so.1; do
  cmp -s "$out/runtimes/linux-x64/native/$lib" "$pkg/runtimes/linux-x64/native/$lib" ||
    fail "$lib does not come from the package"
done
echo "package install: ok"
