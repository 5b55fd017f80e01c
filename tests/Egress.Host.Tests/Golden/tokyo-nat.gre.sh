#!/bin/sh
# egress-host: tokyo-nat, gateway of stack egress-seed. Rendered by egress from the topology: edit that, not this.
# Usage: egress-host apply|check|down|status (docs/host.md)
# Environment: EGRESS_NETNS_ONLY=1 (a lab namespace), EGRESS_RUN_DIR (default /run/egress), EGRESS_LOCK_WAIT (seconds, default 30).
# Overlay gre: tunnel MTU 1476, TCP MSS 1436. Each step explained: docs/host.md.
# ---- data block: this host's values (lists call "$@" once per item); the library after it is fixed shell.
set -u
HOST_NAME=tokyo-nat
ROLE=gateway
OVERLAY=gre
VXLAN_PORT=4789
PRIVATE_IP=10.1.1.10
STEPS='require uplink tunnels firewall sysctls dns'
TOOLS='ip nft awk grep sed flock cksum dnsmasq'
NFT_PEERS=10.0.1.10
tunnels() {
  "$@" eg1 10.1.1.10 10.0.1.10 1 192.168.250.1/30 1476 sg-client
}
sysctls() {
  "$@" sysctl.ip_forward net/ipv4/ip_forward 1 ns ''
  "$@" sysctl.rp_filter net/ipv4/conf/all/rp_filter 0 ns ''
  "$@" sysctl.rp_filter net/ipv4/conf/default/rp_filter 0 ns ''
  "$@" sysctl.rp_filter 'net/ipv4/conf/{uplink}/rp_filter' 0 ns ''
  "$@" sysctl.rp_filter net/ipv4/conf/eg1/rp_filter 0 ns ''
  "$@" tcp.bbr net/ipv4/tcp_congestion_control bbr ns bbr
  "$@" qdisc.fq net/core/default_qdisc fq machine fq
  "$@" tcp.slow-start-after-idle net/ipv4/tcp_slow_start_after_idle 0 ns ''
  "$@" conntrack.max net/netfilter/nf_conntrack_max 131072 machine ''
}
clients() {
  "$@" eg1 192.168.250.2 sg-client
}
DNS_LISTEN=192.168.250.1
DNS_UPSTREAM=10.1.0.2
