#!/usr/bin/env bash
# The full-kernel test tier (issue 8). Runs INSIDE the VM (eng/vm/vm.sh run -- tests/kernel-tier/tier.sh),
# whose Debian kernel has ipip, gre, netem, fq and bbr: the lab with overlay ipip and gre for the seed
# and three-region topologies, with the topology's link delays emulated, judged by the verify suite;
# the tunnel MTU proven on the wire; the direct path measured in the same run; the naive design still
# failing; the data-plane bench for ipip, gre and vxlan. Ends with "kernel tier: N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
[ "${EGRESS_IN_VM-}" = 1 ] || { echo "kernel tier: run me inside the VM: eng/vm/vm.sh run -- $0" >&2; exit 2; }
egress=$PWD/src/Egress.Cli/bin/Release/net10.0/egress
[ -x "$egress" ] || { echo "kernel tier: build first on the host (dotnet build -c Release)"; echo "kernel tier: 0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
# judge NAME CONDITION-EXIT-STATUS DETAIL
judge() { if [ "$2" -eq 0 ]; then pass "$1 ($3)"; else fail "$1" "$3"; fi; }
# variant EXAMPLE MODE: the example with its overlay mode replaced.
variant() {
  sed "s/^  mode: ipip /  mode: $2 /" "examples/$1.yaml" > "$work/$1-$2.yaml"
  grep -q "^  mode: $2 " "$work/$1-$2.yaml" || { echo "kernel tier: cannot make $1 with $2" >&2; exit 1; }
  echo "$work/$1-$2.yaml"
}
# lab_run NAME FILE [ARGS]: egress lab run, JSON report into $work/NAME.json, exit code returned.
lab_run() {
  local name=$1 file=$2; shift 2
  "$egress" lab run -f "$file" --id "$name" -o json "$@" > "$work/$name.json" 2> "$work/$name.log"
}
q() { jq -r "$1" "$work/$2.json"; }

# 1. Seed over IP-in-IP, delays emulated: the suite passes with the latency budget judged.
seed_ipip=$(variant seed ipip)
lab_run kseedip "$seed_ipip" --rounds 2 --cold 5 --keepalive 20; rc=$?
judge "seed ipip: verify passes (2 rounds, budget judged)" $(( rc != 0 )) "exit $rc; $(q '[.failures[] | .id + ": " + .detail] | join("; ") | if . == "" then "no failures" else . end' kseedip)"
judge "seed ipip: latency emulated" "$([ "$(q .latencyEmulated kseedip)" = true ]; echo $?)" "latencyEmulated=$(q .latencyEmulated kseedip), budget judged=$(q .coldLatencyBudget.judged kseedip)"
judge "seed ipip: egress from the Tokyo public address" "$([ "$(q '.egress[0].observed.ip' kseedip)" = "$(q '.egress[0].expected.ip' kseedip)" ] && [ "$(q '.egress[0].observed.city' kseedip)" = Tokyo ]; echo $?)" \
  "echo saw $(q '.egress[0].observed.ip' kseedip) $(q '.egress[0].observed.city' kseedip), expected $(q '.egress[0].expected.ip' kseedip)"
judge "seed ipip: path via 192.168.250.1" "$([ "$(q '.paths[0].hops[0].address' kseedip)" = 192.168.250.1 ]; echo $?)" "first hop $(q '.paths[0].hops[0].address' kseedip)"
rtt=$(( 70 + 2 )) # examples/seed.yaml: Singapore-Tokyo 70 ms + Tokyo-internet 2 ms
ka=$(q '.latency[0].keepAlive.phases.total.p50' kseedip)
cold=$(q '.latency[0].cold.phases.total.p50' kseedip)
judge "seed ipip: keep-alive p50 within 10% of the emulated round trip" "$(awk -v k="$ka" -v r="$rtt" 'BEGIN { exit !(k >= 0.9 * r && k <= 1.1 * r) }'; echo $?)" "p50 $ka ms vs $rtt ms"
# A cold request adds the TCP handshake and the TLS handshake (TLS 1.3: one round trip) to the request itself.
judge "seed ipip: cold adds the TCP and TLS handshakes" "$(awk -v c="$cold" -v k="$ka" -v r="$rtt" 'BEGIN { exit !(c - k >= 1.8 * r) }'; echo $?)" "cold p50 $cold ms - keep-alive p50 $ka ms >= 2 x $rtt ms x 0.9"

# 2. MTU 1480 on the wire, and the direct path in the same run (the seed's side-by-side table).
if "$egress" lab up -f "$seed_ipip" --id kmtu > "$work/kmtu.log" 2>&1; then
  out=$("$egress" lab exec sg-client --id kmtu -- ping -M "do" -s 1452 -c 1 -W 3 192.0.2.10 2>&1); rc=$?
  judge "seed ipip: a 1480-byte don't-fragment packet passes the tunnel" "$rc" "$(echo "$out" | grep -m1 -E 'bytes from|loss' || echo "$out" | tail -n 1)"
  out=$("$egress" lab exec sg-client --id kmtu -- ping -M "do" -s 1453 -c 1 -W 3 192.0.2.10 2>&1); rc=$?
  judge "seed ipip: a 1481-byte one is refused with fragmentation needed (mtu 1480)" "$([ "$rc" -ne 0 ] && echo "$out" | grep -q 'mtu=1480'; echo $?)" "$(echo "$out" | grep -m1 -i 'mtu' || echo "$out" | tail -n 1)"
  measure() { # keep-alive total times of 20 requests on one connection, ms
    # shellcheck disable=SC2016 # expanded by the shell inside the client namespace
    "$egress" lab exec sg-client --id kmtu -- sh -c 'for i in $(seq 20); do printf -- "--output /dev/null https://api.binance.com/api/v3/time "; done | xargs curl -s -w "%{time_total}\n"' \
      | awk 'NR > 1 { print $1 * 1000 }' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
  }
  via=$(measure)
  "$egress" lab exec sg-client --id kmtu -- sh -c 'ip route del 0.0.0.0/1; ip route del 128.0.0.0/1' # fail-open: the own IGW
  direct=$(measure)
  echo "side by side (keep-alive p50, emulated): via Tokyo $via ms (emulated 72), direct from Singapore $direct ms (emulated 70)"
  judge "direct path measured in the same run" "$(awk -v d="$direct" 'BEGIN { exit !(d >= 63 && d <= 77) }'; echo $?)" "direct keep-alive p50 $direct ms (emulated 70 ms), via Tokyo $via ms"
  "$egress" lab down --id kmtu > /dev/null 2>&1
else
  fail "seed ipip: lab up for the MTU test" "$(tail -n 3 "$work/kmtu.log")"
fi

# 3. GRE, and the three-region example over both, one round each.
for t in seed:gre three-region:ipip three-region:gre; do
  example=${t%:*} mode=${t#*:}
  name="k$(echo "$example$mode" | tr -dc 'a-z0-9' | cut -c1-10)"
  lab_run "$name" "$(variant "$example" "$mode")" --rounds 1 --cold 3 --keepalive 10; rc=$?
  judge "$example $mode: verify passes" $(( rc != 0 )) "exit $rc; $(q '[.failures[] | .id + ": " + .detail] | join("; ") | if . == "" then "no failures" else . end' "$name")"
done

# 4. The naive design (0.0.0.0/0 -> peering) still fails, for the counted reason.
lab_run knaive "$seed_ipip" --naive --rounds 1 --cold 1 --keepalive 2; rc=$?
judge "naive design fails, peering drops counted" "$([ "$rc" -eq 1 ] && jq -e '[.failures[].id] | index("lab.peering.edge-to-edge-drops")' "$work/knaive.json" > /dev/null; echo $?)" \
  "exit $rc; $(q '[.failures[] | select(.id == "lab.peering.edge-to-edge-drops") | .detail][0]' knaive)"

# 5. Data plane: each overlay against the direct path, same run.
for mode in ipip gre vxlan; do
  echo "--- bench/lab-dataplane.sh, overlay $mode"
  EGRESS_BENCH_TOPOLOGY=$(variant seed "$mode") bash bench/lab-dataplane.sh 2 1 2>&1 | tee "$work/bench-$mode.log"
  judge "bench $mode ran" "$(grep -q 'overlay / direct' "$work/bench-$mode.log"; echo $?)" "$(grep 'overlay / direct' "$work/bench-$mode.log" | tr -s ' ')"
done

"$egress" lab down --all > /dev/null 2>&1
rm -rf "$work"
echo "kernel tier: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
