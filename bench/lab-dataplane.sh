#!/usr/bin/env bash
# Data plane of the seed lab: iperf3 TCP throughput and RTT over the overlay (internet -> Tokyo NAT ->
# tunnel -> Singapore client) against the direct path (internet -> Singapore IGW -> client), in the same
# run; and the peak memory of the lab's own processes. Targets: overlay >= 80% of direct; <= 300 MB.
# Usage: sudo bench/lab-dataplane.sh [SECONDS] [PAIRS]   (iperf3 seconds per run, default 3; alternating
# overlay/direct pairs, default 3; the medians are compared). EGRESS_BENCH_TOPOLOGY=FILE benches that
# topology instead of the seed (the full-kernel tier runs it for ipip, gre and vxlan). EGRESS_BENCH_RATE=R caps each
# iperf3 stream at R (iperf3's -b, e.g. 100M): the full-kernel tier sets it (see tests/kernel-tier/tier.sh).
source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"
secs=${1:-3}
rate=(); [ -n "${EGRESS_BENCH_RATE:-}" ] && rate=(-b "$EGRESS_BENCH_RATE")
pairs=${2:-3}
id="b$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
up_log=$(mktemp)
cleanup() {
  for p in "${srv1:-}" "${srv2:-}"; do
    if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi
  done
  "$EGRESS" lab down --id "$id" >/dev/null 2>&1 || true
  rm -f "$up_log" "$up_log.yaml" "$up_log.rss"
}
trap cleanup EXIT
# The lab emulates security groups as AWS has them: the direct path needs `access.ssh` from the lab's internet
# (192.0.2.1), and then only port 22 is open, so the direct-path server listens there.
topology="$up_log.yaml"
sed -E 's|^([[:space:]]*ssh:)[[:space:]]*none.*|\1 192.0.2.1/32|' "${EGRESS_BENCH_TOPOLOGY:-examples/seed.yaml}" > "$topology"
/usr/bin/time -f '%M' -o "$up_log.rss" "$EGRESS" lab up --id "$id" -f "$topology" >/dev/null 2>"$up_log" || { cat "$up_log" >&2; exit 1; }
client="egl-$id-host-sg-client"; internet="egl-$id-internet"
public=$("$EGRESS" lab status --id "$id" --output json | jq -r '.publicAddresses["sg-client"]')

# Overlay: the client downloads from a server on the internet (data flows internet -> Tokyo -> tunnel -> client).
ip netns exec "$internet" iperf3 -s -B 192.0.2.1 -p 5201 >/dev/null 2>&1 & srv1=$!
# Direct: the internet sends to the client's own public address (internet -> Singapore IGW -> client).
ip netns exec "$client" iperf3 -s -p 22 >/dev/null 2>&1 & srv2=$!
sleep 0.5
# Alternating pairs, so both paths see the same machine load; the medians are compared.
overlays=(); directs=()
for _ in $(seq 1 "$pairs"); do
  overlays+=("$(ip netns exec "$client" iperf3 -c 192.0.2.1 -p 5201 -R -t "$secs" "${rate[@]}" -J | jq '.end.sum_received.bits_per_second')")
  directs+=("$(ip netns exec "$internet" iperf3 -c "$public" -p 22 -t "$secs" "${rate[@]}" -J | jq '.end.sum_received.bits_per_second')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
overlay=$(median "${overlays[@]}"); direct=$(median "${directs[@]}")
rtt() { jq '[.report.hubs[] | select(.host != "???")] | last | .Avg'; }
overlay_rtt=$(ip netns exec "$client" mtr --json -n -c 20 -i 0.1 -G 1 192.0.2.1 | rtt)
direct_rtt=$(ip netns exec "$internet" mtr --json -n -c 20 -i 0.1 -G 1 "$public" | rtt)

pid=$(cat "/run/egress-lab/$id/services.pid")
services_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
up_kb=$(cat "$up_log.rss"); rm -f "$up_log.rss"
awk -v o="$overlay" -v d="$direct" -v orr="$overlay_rtt" -v dr="$direct_rtt" -v s="$services_kb" -v u="$up_kb" -v secs="$secs" -v pairs="$pairs" 'BEGIN {
  printf "overlay (tunnel via Tokyo)  : %8.0f Mbit/s   RTT %.3f ms\n", o/1e6, orr
  printf "direct  (Singapore IGW)     : %8.0f Mbit/s   RTT %.3f ms\n", d/1e6, dr
  printf "overlay / direct            : %8.1f %% (target >= 80%%: %s)   (medians of %d runs of %d s iperf3 TCP each)\n", 100*o/d, (o >= 0.8*d ? "met" : "MISSED"), pairs, secs
  printf "peak RSS services process   : %8.1f MB\n", s/1024
  printf "peak RSS egress lab up      : %8.1f MB\n", u/1024
  printf "lab own processes, sum      : %8.1f MB (target <= 300 MB: %s)\n", (s+u)/1024, ((s+u)/1024 <= 300 ? "met" : "MISSED")
}'
