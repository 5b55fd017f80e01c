#!/usr/bin/env bash
# Prints how long `egress validate` on the seed takes as a whole process (wall and CPU), for the ReadyToRun build
# that ./egress runs and for the plain IL build (`dotnet build`), and the floor: an empty .NET program on the same
# machine at the same moment. The ./egress wrapper (its staleness check, then exec) is measured apart from the
# binary. Each figure: median, min and max of RUNS runs after 3 warm-ups. Last, one run's in-process marks
# (EGRESS_STARTUP_TRACE=1): where the time goes after the .NET host has started Main, and how many methods the JIT
# has compiled by then (code ReadyToRun could not precompile; EGRESS_STARTUP_TRACE=3 names them).
#   bench/startup.sh [RUNS]   (default 20)
# The target is 100 ms wall for the ReadyToRun build on an idle machine. On a busy one compare the ratio to the
# floor and the CPU time (about the wall time when idle), not absolute wall times.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
repo=$PWD
TIMEFORMAT='%3R %3U %3S' # bash's own timing, to the millisecond: wall, user, system
./egress --version > /dev/null # builds artifacts/egress (ReadyToRun) when sources changed
dotnet build src/Egress.Cli -c Release -nologo -v q -clp:NoSummary > /dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp examples/seed.yaml "$work/egress.yaml"

# The floor: what the .NET host and runtime cost before any of egress's code runs.
mkdir -p "$work/empty"
cat > "$work/empty/empty.csproj" <<'XML'
<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework>
<ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally><ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>
</PropertyGroup></Project>
XML
echo 'return 0;' > "$work/empty/Program.cs"
dotnet build "$work/empty" -c Release -o "$work/empty/out" -nologo -v q -clp:NoSummary > /dev/null

# measure LABEL COMMAND...: runs it, prints "LABEL  wall median (min-max) ms  cpu median ms".
measure() {
  local label=$1; shift
  for _ in 1 2 3; do (cd "$work" && "$@" > /dev/null 2>&1) || true; done
  : > "$work/times"
  for _ in $(seq "$runs"); do
    (cd "$work" && { time "$@" > /dev/null 2>&1; } 2>> "$work/times") || true
  done
  local wall cpu
  wall=$(awk '{ printf "%d\n", $1 * 1000 }' "$work/times" | sort -n)
  cpu=$(awk '{ printf "%d\n", ($2 + $3) * 1000 }' "$work/times" | sort -n)
  printf '%-42s wall %4d ms (min %d, max %d)   cpu %4d ms\n' "$label" \
    "$(echo "$wall" | sed -n "$(( (runs + 1) / 2 ))p")" "$(echo "$wall" | head -1)" "$(echo "$wall" | tail -1)" \
    "$(echo "$cpu" | sed -n "$(( (runs + 1) / 2 ))p")"
}

echo "egress validate on the seed, $runs runs each ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)):"
measure "empty .NET program (floor)" dotnet "$work/empty/out/empty.dll"
measure "egress validate, ReadyToRun" dotnet "$repo/artifacts/egress/egress.dll" validate egress.yaml
measure "egress validate, IL (dotnet build)" dotnet "$repo/src/Egress.Cli/bin/Release/net10.0/egress.dll" validate egress.yaml
measure "./egress validate (wrapper + ReadyToRun)" "$repo/egress" validate egress.yaml
echo "one ReadyToRun run's marks, ms since Main began:"
(cd "$work" && EGRESS_STARTUP_TRACE=1 dotnet "$repo/artifacts/egress/egress.dll" validate egress.yaml 2>&1 > /dev/null | sed -n 's/^startup-trace /  /p')
