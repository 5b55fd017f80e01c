#!/usr/bin/env bash
# DNS from the egress vantage in the lab (issue 16), two figures:
# 1. DNS outage at failover: examples/failover.yaml; the client asks its stub a name never asked before
#    (pN.cdn.lab.example, which no cache holds) every 20 ms, each query given 100 ms; `lab fail tokyo-nat` cuts the
#    primary. Outage = the cut (the end of `lab fail`) to the first answer after the first unanswered query. Median of
#    RUNS (default 3).
# 2. A slow resolver: the seed with `lab up --resolver-delay ap-southeast-1=MS` (default 300); the client's cold lookup
#    of a new name under cdn.lab.example with dns.resolveVia local (asks Singapore's delayed resolver) and gateway
#    (Tokyo's forwarder and resolver). Median of 5 lookups each.
# Usage: sudo bench/lab-dns.sh [RUNS] [MS]
source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"
runs=${1:-3}
delay=${2:-300}
work=$(mktemp -d)
ids=()
cleanup() {
  if [ -n "${probe-}" ]; then kill "$probe" 2>/dev/null || true; fi
  for id in "${ids[@]}"; do "$EGRESS" lab down --id "$id" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
up() { # up ID ARGS...: lab up, remembered for the clean-up
  ids+=("$1")
  "$EGRESS" lab up --id "$@" >/dev/null 2>"$work/up.log" || { cat "$work/up.log" >&2; exit 1; }
}

# The probe (eng/lab/dns-probe.py, shared with the root test): one line per query, "WALL_MS ok|timeout|rcodeN".
probe_script=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/eng/lab/dns-probe.py

id="b$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
up "$id" -f examples/failover.yaml
servers="/run/egress-lab/$id/hosts/sg-client.run/sg-client/dns.servers"
wait_primary() { i=0; until grep -qx 'server=192.168.250.1' "$servers" 2>/dev/null; do i=$((i + 1)); [ "$i" -lt 400 ] || { echo "the stub never pointed at tokyo-nat" >&2; exit 1; }; sleep 0.05; done; }
echo "DNS outage at failover, examples/failover.yaml (probe 200 ms, down after 3): $runs runs, a new name every 20 ms"
outages=()
for run in $(seq 1 "$runs"); do
  wait_primary
  # ip netns exec execs python3 itself, so the kill below ends the probe (lab exec would leave it running).
  ip netns exec "egl-$id-host-sg-client" python3 -u "$probe_script" cdn.lab.example >"$work/samples" 2>/dev/null &
  probe=$!
  sleep 1
  # The cut is the end of `lab fail` (its last step adds the drop table), not its start: .NET's start is no outage.
  "$EGRESS" lab fail --id "$id" tokyo-nat >/dev/null 2>&1
  cut=$(ms)
  sleep 3
  kill "$probe" 2>/dev/null || true; wait "$probe" 2>/dev/null || true; probe=
  o=$(awk -v cut="$cut" '$1 > cut && $2 != "ok" && !failed { failed = 1 } $1 > cut && $2 == "ok" && failed && !back { back = $1 } END { print back ? back - cut : "none" }' "$work/samples")
  [ "$o" != none ] || { echo "run $run: DNS did not answer again within 3 s" >&2; cat "$work/samples" >&2; exit 1; }
  printf '  run %d: DNS answered again %4d ms after the cut (server now %s)\n' "$run" "$o" "$(grep -v '^server=/' "$servers")"
  outages+=("$o")
  "$EGRESS" lab heal --id "$id" tokyo-nat >/dev/null 2>&1
done
m=$(median "${outages[@]}")
echo "median DNS outage: $m ms (the same watcher moves egress: bench/failover.sh, target <= 1000 ms)"
"$EGRESS" lab down --id "$id" >/dev/null 2>&1

echo "cold lookup of a new name under cdn.lab.example from sg-client, Singapore's resolver slowed by $delay ms:"
for via in local gateway; do
  id="b$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  cp examples/seed.yaml "$work/seed-$via.yaml"
  printf '\ndns:\n  resolveVia: %s\n' "$via" >>"$work/seed-$via.yaml"
  up "$id" -f "$work/seed-$via.yaml" --resolver-delay "ap-southeast-1=$delay"
  # shellcheck disable=SC2016
  times=$("$EGRESS" lab exec --id "$id" sg-client -- sh -c 'for i in 1 2 3 4 5; do s=$(date +%s%N); getent ahostsv4 "c$$x$i.cdn.lab.example" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); done')
  # shellcheck disable=SC2086
  printf '  resolveVia %-7s %4d ms (median of 5: %s)\n' "$via" "$(median $times)" "${times//$'\n'/ }"
  "$EGRESS" lab down --id "$id" >/dev/null 2>&1
done
