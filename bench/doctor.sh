#!/usr/bin/env bash
# Times `egress doctor --lab` on a healthy seed lab: wall time of each of RUNS runs and their median (the issue's
# target: under 5 s on a healthy lab). Root; brings its own lab up and down.
#   sudo bench/doctor.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[ "$(id -u)" -eq 0 ] || { echo "bench/doctor.sh: run as root (it builds a lab)" >&2; exit 2; }
dotnet build src/Egress.Cli -c Release -nologo -v q -clp:NoSummary > /dev/null
egress=(dotnet "$PWD/src/Egress.Cli/bin/Release/net10.0/egress.dll")
id="bd$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')"
trap '"${egress[@]}" lab down --id "$id" > /dev/null 2>&1 || true' EXIT
"${egress[@]}" lab up --id "$id" > /dev/null 2>&1
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  "${egress[@]}" doctor --lab "$id" > /dev/null || { echo "doctor found a problem on a healthy lab:"; "${egress[@]}" doctor --lab "$id" | grep -E 'FAIL|expected|fix'; exit 1; }
  times+=($(( ($(date +%s%N) - start) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "egress doctor --lab on a healthy seed lab, $runs runs ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)):"
echo "  wall ms: $(echo "$sorted" | tr '\n' ' ')"
echo "  median : $(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p") ms (target < 5000 ms)"
