#!/bin/sh
# egress-host: sg-client, client of stack egress-seed. Rendered by egress from the topology: edit that, not this.
# Usage: egress-host apply|check|down|status|watch|decide (docs/host.md)
# Environment: EGRESS_NETNS_ONLY=1 (a lab namespace), EGRESS_RUN_DIR (default /run/egress), EGRESS_LOCK_WAIT (seconds, default 30).
# Overlay ipip: tunnel MTU 1480, TCP MSS 1440. Each step explained: docs/host.md.
# ---- data block: this host's values (lists call "$@" once per item); the library after it is fixed shell.
set -u
HOST_NAME=sg-client
ROLE=client
OVERLAY=ipip
VXLAN_PORT=4789
PRIVATE_IP=10.0.1.10
STEPS='require uplink tunnels sysctls reply killswitch ipv6 pins defaults watch dns'
TOOLS='ip nft awk grep sed flock cksum dnsmasq'
NFT_PEERS=10.1.1.10
tunnels() {
  "$@" eg1 10.0.1.10 10.1.1.10 1 192.168.250.2/30 1480 tokyo-nat
}
sysctls() {
  "$@" sysctl.rp_filter net/ipv4/conf/all/rp_filter 0 ns ''
  "$@" sysctl.rp_filter net/ipv4/conf/default/rp_filter 0 ns ''
  "$@" sysctl.rp_filter 'net/ipv4/conf/{uplink}/rp_filter' 0 ns ''
  "$@" sysctl.rp_filter net/ipv4/conf/eg1/rp_filter 0 ns ''
  "$@" tcp.bbr net/ipv4/tcp_congestion_control bbr ns bbr
  "$@" qdisc.fq net/core/default_qdisc fq machine fq
  "$@" mgmt.mark-replies net/ipv4/tcp_fwmark_accept 1 ns ''
  "$@" mgmt.mark-replies net/ipv4/fwmark_reflect 1 ns ''
  "$@" tcp.slow-start-after-idle net/ipv4/tcp_slow_start_after_idle 0 ns ''
}
VPC_ROUTER=10.0.1.1
MARK=0x1
MGMT_TABLE=1010
MGMT_PRIORITY=1010
KS_TABLE=1011
KS_PRIORITY=1011
REALM=201
NFT_TUNNEL_ADDRESSES=192.168.250.2
V6_ALLOW='fe80::/10, ff02::/16, fd00:ec2::254, fd00:ec2::253, fd00:ec2::123'
pins() {
  "$@" route.pin.gateway-underlay 10.1.1.10/32 10.1.1.10
  "$@" route.pin.vpc 10.0.0.0/16 10.0.0.1
  "$@" route.pin.vpc 10.1.0.0/16 10.1.0.1
  "$@" route.pin.imds 169.254.169.254/32 169.254.169.254
  "$@" route.pin.imds 169.254.169.253/32 169.254.169.253
  "$@" route.pin.imds 169.254.169.123/32 169.254.169.123
}
DEFAULT_DEV=eg1
DEFAULT_VIA=192.168.250.1
DEFAULT_GATEWAY=tokyo-nat
gateways() {
  "$@" tokyo-nat eg1 192.168.250.1
}
POLICY=fail-closed
FAILBACK=1
HOLD_MS=5000
DOWN_AFTER=3
UP_AFTER=5
PROBE_MS=200
PROBE_S=0.2
DNS_VPC=10.0.0.2
DNS_LOCAL='internal amazonaws.com'
