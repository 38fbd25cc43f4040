#!/usr/bin/env bash
# CTest csharp.package_example: the NuGet package as a user gets it. Copies examples/csharp into a fresh
# folder, restores Qix from the freshly packed .nupkg (a NuGet.config naming the pack output, and a
# NUGET_PACKAGES folder of its own, so no earlier copy of the package can be used), builds it, checks that
# the native libraries came from the package's runtimes/linux-x64/native/, and runs it against the simulator.
set -euo pipefail

while [ $# -gt 0 ]; do
  case "$1" in
    --dotnet) dotnet=$2; shift 2 ;;
    --sim) sim=$2; shift 2 ;;
    --nupkg-dir) nupkg_dir=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --example) example=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "pack_test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export NUGET_PACKAGES="$work/nuget-packages"

nupkg="$nupkg_dir/Qix.$version.nupkg"
[ -f "$nupkg" ] || { echo "pack_test.sh: $nupkg is missing (build the target qix_csharp_pack)" >&2; exit 1; }

# The package's layout.
listing=$(unzip -Z1 "$nupkg")  # unzip: Debian package unzip
for entry in lib/netstandard2.0/Qix.dll lib/net8.0/Qix.dll runtimes/linux-x64/native/libqixcsharp.so runtimes/linux-x64/native/libqix.so.1 README.md; do
  grep -qx "$entry" <<<"$listing" || { echo "pack_test.sh: $entry is not in the package" >&2; exit 1; }
done

rm -rf "$work"
mkdir -p "$work/src"
cp "$example/QixDemo.csproj" "$example/Program.cs" "$work/src/"
cat > "$work/src/NuGet.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="qix-under-test" value="$nupkg_dir" />
  </packageSources>
</configuration>
CONFIG

"$dotnet" build "$work/src/QixDemo.csproj" -c Release --nologo -v:minimal -p:QixVersion="$version" \
  -o "$work/out"
# The native libraries of the (portable) program are the package's, found through its deps.json.
for lib in libqixcsharp.so libqix.so.1; do
  cmp -s "$work/out/runtimes/linux-x64/native/$lib" "$NUGET_PACKAGES/qix/$version/runtimes/linux-x64/native/$lib" ||
    { echo "pack_test.sh: $lib does not come from the package" >&2; exit 1; }
done

# The simulator on a free port; its first line names the URL.
"$sim" --host 127.0.0.1 --port 0 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 100); do
  line=$(head -n 1 "$work/sim.out" 2>/dev/null || true)
  if [[ "$line" == "listening on "* ]]; then url=${line#listening on }; break; fi
  sleep 0.1
done
[ -n "$url" ] || { echo "pack_test.sh: the simulator did not start" >&2; cat "$work/sim.err" >&2; exit 1; }

"$dotnet" "$work/out/QixDemo.dll" "$url" | tee "$work/demo.out"
grep -q "^changed$" "$work/demo.out"
grep -q "^updated layout:" "$work/demo.out"
grep -q "engine error 1003 LOCERR_APP_NOT_FOUND" "$work/demo.out"
grep -q "^ok$" "$work/demo.out"
echo "package example: ok"
