#!/bin/sh
# Failover outage (root): examples/failover.yaml (VXLAN) in throw-away network namespaces (prefix ef<random>; nothing
# touches the root namespace): the client, its primary (tokyo-nat) and standby (tokyo-nat-c) gateway, a router and an
# internet namespace with an echo server that answers with the caller's address. The client's watcher
# (`egress-host watch`) runs with the example's settings (probe every 200 ms, down after 3 misses). The client sends a
# request every 20 ms (each gives up after 100 ms: the in-namespace round trip is under 1 ms); the primary is cut (its
# VPC link goes down at the router). Outage = the last answer via the primary to the first answer via the standby;
# "switch" = the cut to the watcher's route change (from its log). Median of RUNS runs (default 5); target <= 1000 ms.
#   sudo bench/failover.sh [RUNS]
set -eu
cd "$(dirname "$0")/.."
runs=${1:-5}
[ "$(id -u)" = 0 ] || { echo "bench/failover.sh needs root (network namespaces)" >&2; exit 2; }
for t in ip nft curl python3 ping; do command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 2; }; done
dotnet build src/Egress.Cli -c Release -nologo -v q -clp:NoSummary >/dev/null
egress=src/Egress.Cli/bin/Release/net10.0/egress
work=$(mktemp -d)
P=ef$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
pids=
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for n in cl g1 g2 rt in; do
    for p in $(ip netns pids "$P-$n" 2>/dev/null); do kill "$p" 2>/dev/null; done # the dns step's dnsmasq, if down did not run
    ip netns del "$P-$n" 2>/dev/null || true; rm -rf "/etc/netns/$P-$n"
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

for h in sg-client tokyo-nat tokyo-nat-c; do "$egress" render "$h" -f examples/failover.yaml --overlay vxlan >"$work/$h.sh"; done
# Each namespace's own resolv.conf (bind-mounted by ip netns exec): the client's dns step rewrites that one, not the machine's.
for n in cl g1 g2 rt in; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; mkdir -p "/etc/netns/$P-$n"; echo 'nameserver 127.0.0.1' >"/etc/netns/$P-$n/resolv.conf"; done
ip link add vpca netns "$P-rt" type veth peer name eth0 netns "$P-cl"
ip link add vpcb netns "$P-rt" type veth peer name eth0 netns "$P-g1"
ip link add vpcc netns "$P-rt" type veth peer name eth0 netns "$P-g2"
ip link add wan0 netns "$P-rt" type veth peer name eth0 netns "$P-in"
ip -n "$P-rt" addr add 10.0.1.1/24 dev vpca
ip -n "$P-rt" addr add 10.1.1.1/24 dev vpcb
ip -n "$P-rt" addr add 10.1.3.1/24 dev vpcc
ip -n "$P-rt" addr add 203.0.113.1/24 dev wan0
for l in vpca vpcb vpcc wan0; do ip -n "$P-rt" link set "$l" up; done
ip netns exec "$P-rt" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
host() { ip -n "$P-$1" addr add "$2/24" dev eth0; ip -n "$P-$1" link set eth0 up; ip -n "$P-$1" route add default via "$3"; }
host cl 10.0.1.10 10.0.1.1
host g1 10.1.1.10 10.1.1.1
host g2 10.1.3.10 10.1.3.1
ip -n "$P-in" addr add 203.0.113.10/24 dev eth0
ip -n "$P-in" link set eth0 up
ip -n "$P-in" route add 10.1.1.0/24 via 203.0.113.1
ip -n "$P-in" route add 10.1.3.0/24 via 203.0.113.1
sleep 1

ip netns exec "$P-in" python3 -u -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("203.0.113.10", 8080)); s.listen(64)
while True:
    c, a = s.accept(); c.settimeout(2)
    try:
        c.recv(4096); b = a[0].encode(); c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
    except OSError:
        pass
    c.close()
' >/dev/null 2>&1 &
pids="$pids $!"

export EGRESS_NETNS_ONLY=1 EGRESS_RUN_DIR="$work/run" EGRESS_STATE_DIR="$work/state"
for pair in g1:tokyo-nat g2:tokyo-nat-c cl:sg-client; do
  ip netns exec "$P-${pair%%:*}" sh "$work/${pair#*:}.sh" apply 2>/dev/null
done
ip netns exec "$P-cl" sh "$work/sg-client.sh" watch 2>"$work/watch.log" &
pids="$pids $!"

url=http://203.0.113.10:8080/
# sample SECONDS: a request every 20 ms from the client; prints "ANSWERED_AT_MS ADDRESS|fail".
sample() {
  # shellcheck disable=SC2016
  ip netns exec "$P-cl" sh -c '
    end=$(( $(date +%s%3N) + $1 * 1000 ))
    while [ "$(date +%s%3N)" -lt "$end" ]; do
      b=$(curl -s --max-time 0.1 "$2"); echo "$(date +%s%3N) ${b:-fail}"; sleep 0.02
    done' sh "$1" "$url"
}
wait_for() { i=0; until [ "$(ip netns exec "$P-cl" curl -s --max-time 0.3 "$url")" = "$1" ]; do i=$((i + 1)); [ "$i" -lt 600 ] || { echo "never reached $1" >&2; cat "$work/watch.log" >&2; exit 1; }; sleep 0.05; done; }

echo "failover outage, examples/failover.yaml (vxlan, probe 200 ms, down after 3): $runs runs, a request every 20 ms"
outages=
run=1
while [ "$run" -le "$runs" ]; do
  wait_for 10.1.1.10
  sample 3 >"$work/samples" &
  sp=$!
  sleep 0.5
  cut=$(date +%s%3N)
  ip -n "$P-rt" link set vpcb down
  wait "$sp"
  o=$(awk -v cut="$cut" '$2 == "10.1.1.10" { last = $1 } $2 == "10.1.3.10" && !first { first = $1 }
    $2 == "fail" { f++ } END { if (!first || !last) print "none"; else printf "%d %d %d\n", first - last, first - cut, f }' "$work/samples")
  [ "$o" != none ] || { echo "run $run: no switch to the standby seen" >&2; cat "$work/watch.log" >&2; exit 1; }
  # shellcheck disable=SC2086
  set -- $o
  sw=$(grep 'egress via tokyo-nat-c' "$work/watch.log" | tail -1 | awk '{ print $2 }')
  sw=$(( $(date -d "$sw" +%s%3N) - cut ))
  printf '  run %d: outage %4d ms (switch %4d ms after the cut, first answer via the standby %4d ms after it, %d requests failed)\n' "$run" "$1" "$sw" "$2" "$3"
  outages="$outages $1"
  ip -n "$P-rt" link set vpcb up
  run=$((run + 1))
done
# shellcheck disable=SC2086
med=$(printf '%s\n' $outages | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "median outage: $med ms (target <= 1000 ms)"
echo "watcher log (last run):"
grep -E 'down|egress via' "$work/watch.log" | tail -3 | sed 's/^/  /'
