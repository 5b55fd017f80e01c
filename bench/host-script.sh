#!/bin/sh
# Prints figures for the host renderer: rendered sizes (script, cloud-init vs EC2's 16384-byte limit) for the
# example topologies, and, when run as root, how long the seed's VXLAN scripts take to apply (first and second
# time), check and down in throw-away network namespaces (prefix eh<random>; nothing touches the root namespace).
#   bench/host-script.sh [ROUNDS]   (default 5)
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-5}
dotnet build src/Egress.Cli -c Release -nologo -v q -clp:NoSummary >/dev/null
egress=src/Egress.Cli/bin/Release/net10.0/egress
work=$(mktemp -d)
P=eh$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
cleanup() {
  for n in cl gw rt; do
    for p in $(ip netns pids "$P-$n" 2>/dev/null); do kill "$p" 2>/dev/null; done # the dns step's dnsmasq, if down did not run
    ip netns del "$P-$n" 2>/dev/null || true; rm -rf "/etc/netns/$P-$n"
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "rendered sizes (bytes; cloud-init limit 16384)"
for example in seed three-region failover; do
  for host in $(grep -o 'name: [a-z0-9-]*' "examples/$example.yaml" | cut -d' ' -f2 | grep -E 'client|nat'); do
    for mode in ipip gre vxlan; do
      s=$("$egress" render "$host" -f "examples/$example.yaml" --overlay "$mode" | wc -c)
      c=$("$egress" render "$host" -f "examples/$example.yaml" --overlay "$mode" --format cloud-init | wc -c)
      printf '  %-13s %-10s %-6s script %6d  cloud-init %6d (%d%% of limit)\n' "$example" "$host" "$mode" "$s" "$c" $((c * 100 / 16384))
    done
  done
done

[ "$(id -u)" = 0 ] || { echo "apply/check/down timings need root; skipped"; exit 0; }
"$egress" render sg-client -f examples/seed.yaml --overlay vxlan >"$work/cl.sh"
"$egress" render tokyo-nat -f examples/seed.yaml --overlay vxlan >"$work/gw.sh"
# Each namespace's own resolv.conf (bind-mounted by ip netns exec): the client's dns step rewrites that one, not the machine's.
for n in cl gw rt; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; mkdir -p "/etc/netns/$P-$n"; echo 'nameserver 127.0.0.1' >"/etc/netns/$P-$n/resolv.conf"; done
ip link add vpca netns "$P-rt" type veth peer name eth0 netns "$P-cl"
ip link add vpcb netns "$P-rt" type veth peer name eth0 netns "$P-gw"
ip -n "$P-rt" addr add 10.0.1.1/24 dev vpca; ip -n "$P-rt" addr add 10.1.1.1/24 dev vpcb
ip -n "$P-rt" link set vpca up; ip -n "$P-rt" link set vpcb up
ip netns exec "$P-rt" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
ip -n "$P-cl" addr add 10.0.1.10/24 dev eth0; ip -n "$P-cl" link set eth0 up; ip -n "$P-cl" route add default via 10.0.1.1
ip -n "$P-gw" addr add 10.1.1.10/24 dev eth0; ip -n "$P-gw" link set eth0 up; ip -n "$P-gw" route add default via 10.1.1.1
export EGRESS_NETNS_ONLY=1 EGRESS_RUN_DIR="$work/run" EGRESS_STATE_DIR="$work/state"
ms() { s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; echo $(( ($(date +%s%N) - s) / 1000000 )); }
echo "seed, vxlan, in namespaces: milliseconds per run over $rounds rounds (first apply / second apply / check / down)"
for role in cl gw; do
  a1= a2= ck= dn=
  i=0
  while [ "$i" -lt "$rounds" ]; do
    a1="$a1 $(ms ip netns exec "$P-$role" sh "$work/$role.sh" apply)"
    a2="$a2 $(ms ip netns exec "$P-$role" sh "$work/$role.sh" apply)"
    ck="$ck $(ms ip netns exec "$P-$role" sh "$work/$role.sh" check)"
    dn="$dn $(ms ip netns exec "$P-$role" sh "$work/$role.sh" down)"
    i=$((i + 1))
  done
  med() { printf '%s\n' $1 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
  printf '  %-8s apply %4s  re-apply %4s  check %4s  down %4s (medians)\n' "$([ "$role" = cl ] && echo client || echo gateway)" "$(med "$a1")" "$(med "$a2")" "$(med "$ck")" "$(med "$dn")"
done
