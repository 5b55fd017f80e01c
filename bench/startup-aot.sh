#!/usr/bin/env bash
# ReadyToRun vs Native AOT for the egress CLI (issue 23, item 2). Prints:
#   1. each publish's wall time from clean (no bin/ obj/) and the load average around it: the ReadyToRun publish that
#      ./egress runs (framework-dependent, artifacts/egress) and a Native AOT publish (artifacts/egress-aot), with the
#      size of each output (AOT: the binary alone; its .dbg symbols file is not needed to run);
#   2. start-up as whole processes, RUNS rounds after 3 warm-ups, every command once per round in turn (so a drift in
#      the machine's speed hits all of them alike): the floors (an empty program, framework-dependent ReadyToRun run
#      as `dotnet empty.dll`, and the same program Native AOT), then `egress --version` and `egress validate SEED` for
#      each build. Each row: wall median (min-max) and CPU (user+system) median in ms, and the median of the
#      per-round difference to the empty program of the same kind.
#   bench/startup-aot.sh [RUNS]   (default 20; needs clang for the AOT publish: apt-get install clang)
# Every src/ project builds clean under the trim/AOT analyzers (warnings as errors), so the AOT publish needs no flag;
# the ILC's own warnings, if any, are counted from the publish log it prints the path of. On a busy machine quote the CPU column and the
# differences, not absolute wall times; `uptime` is printed before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
repo=$PWD
command -v clang > /dev/null || { echo "Native AOT needs clang: apt-get install -y clang" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
TIMEFORMAT='%3R %3U %3S'
load() { cut -d' ' -f1-3 /proc/loadavg; }

# publish LABEL LOG ARGS...: a clean publish of src/Egress.Cli, its wall time and the load around it.
publish() {
  local label=$1 log=$2; shift 2
  rm -rf src/*/bin src/*/obj
  local before; before=$(load)
  local t
  t=$( { time dotnet publish src/Egress.Cli -c Release -r linux-x64 -nologo -v q --disable-build-servers "$@" > "$log" 2>&1; } 2>&1 ) \
    || { echo "$label publish failed, log: $log" >&2; tail -20 "$log" >&2; exit 1; }
  printf '%-34s wall %6.1f s   load %s -> %s\n' "$label" "${t%% *}" "$before" "$(load)"
}

echo "publish from clean ($(nproc) CPUs):"
publish "ReadyToRun (./egress's publish)" "$work/r2r.log" --self-contained false -p:PublishReadyToRun=true -o artifacts/egress
publish "Native AOT" "$work/aot.log" -p:PublishAot=true -o artifacts/egress-aot
cp "$work/aot.log" artifacts/egress-aot.publish.log
printf 'size: ReadyToRun folder %s MB (%s files); AOT binary %s MB\n' \
  "$(( $(du -sb artifacts/egress | cut -f1) / 1000000 ))" "$(find artifacts/egress -type f | wc -l)" \
  "$(( $(stat -c %s artifacts/egress-aot/egress) / 1000000 ))"
printf 'AOT trim/AOT warnings (unique, from the ILC): %s; log: artifacts/egress-aot.publish.log\n' \
  "$(grep -E 'analysis warning|warning IL(2104|3053)' artifacts/egress-aot.publish.log | sed 's/ \[.*//' | sort -u | wc -l)"

# The floors: an empty Main, both ways.
mkdir -p "$work/empty"
cat > "$work/empty/empty.csproj" <<'XML'
<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework>
<InvariantGlobalization>true</InvariantGlobalization><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
<ImportDirectoryBuildProps>false</ImportDirectoryBuildProps></PropertyGroup></Project>
XML
echo 'static class P { static void Main() { } }' > "$work/empty/Program.cs"
dotnet publish "$work/empty" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$work/empty-r2r" -nologo -v q > /dev/null
rm -rf "$work/empty/obj" "$work/empty/bin"
dotnet publish "$work/empty" -c Release -r linux-x64 -p:PublishAot=true -o "$work/empty-aot" -nologo -v q > /dev/null

seed=$repo/examples/seed.yaml
labels=("empty, ReadyToRun (dotnet empty.dll)" "empty, Native AOT"
  "R2R egress --version" "R2R egress validate seed" "AOT egress --version" "AOT egress validate seed")
floor=(0 1 0 0 1 1) # which empty program each row is compared with
cmds=("dotnet $work/empty-r2r/empty.dll" "$work/empty-aot/empty"
  "dotnet $repo/artifacts/egress/egress.dll --version" "dotnet $repo/artifacts/egress/egress.dll validate $seed"
  "$repo/artifacts/egress-aot/egress --version" "$repo/artifacts/egress-aot/egress validate $seed")
for i in "${!cmds[@]}"; do
  for _ in 1 2 3; do ${cmds[$i]} > /dev/null 2>&1 || true; done
  : > "$work/t$i"
done
echo "start-up, $runs rounds (load before: $(load)):"
for _ in $(seq "$runs"); do
  for i in "${!cmds[@]}"; do
    { time ${cmds[$i]} > /dev/null 2>&1; } 2>> "$work/t$i" || true
  done
done
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for i in "${!cmds[@]}"; do
  wall=$(awk '{ printf "%d\n", $1 * 1000 }' "$work/t$i")
  cpu=$(awk '{ printf "%d\n", ($2 + $3) * 1000 }' "$work/t$i")
  f=${floor[$i]}
  dwall=$(paste "$work/t$i" "$work/t$f" | awk '{ printf "%d\n", ($1 - $4) * 1000 }' | median)
  dcpu=$(paste "$work/t$i" "$work/t$f" | awk '{ printf "%d\n", ($2 + $3 - $5 - $6) * 1000 }' | median)
  printf '%-38s wall %4d ms (%d-%d)  cpu %4d ms   vs its empty: wall %+d ms, cpu %+d ms\n' "${labels[$i]}" \
    "$(echo "$wall" | median)" "$(echo "$wall" | sort -n | head -1)" "$(echo "$wall" | sort -n | tail -1)" \
    "$(echo "$cpu" | median)" "$dwall" "$dcpu"
done
echo "load after: $(load)"
