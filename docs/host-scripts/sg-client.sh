#!/bin/sh
# egress-host: sg-client, client of stack egress-seed. Rendered by egress from the topology: edit that, not this.
# Usage: egress-host apply|check|down|status
#   apply   tunnel, routes, nftables, sysctls; idempotent; changes kernel state only (systemd re-runs it at boot)
#   check   the invariants as JSON on stdout; exit 1 if any fails
#   down    remove exactly what apply added
#   status  what egress configured, then check
# EGRESS_NETNS_ONLY=1 skips machine-wide sysctls (the lab); EGRESS_RUN_DIR (default /run/egress) holds saved sysctls.
# Overlay ipip: tunnel MTU 1480, TCP MSS 1440. Each step explained: docs/host.md.
set -u
HOST_NAME='sg-client'
PRIVATE_IP='10.0.1.10'
VPC_ROUTER='10.0.1.1'
PROTO=201
TOOLS='ip nft awk grep sed'
RUN_DIR="${EGRESS_RUN_DIR:-/run/egress}/$HOST_NAME"
NETNS_ONLY="${EGRESS_NETNS_ONLY:-0}"
UPLINK=
ITEMS=
WARNS=
OK=true
log() { printf 'egress-host[%s]: %s\n' "$HOST_NAME" "$*" >&2; }
json() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr '\t\r\n' '   '; }
warn() { log "warning: $*"; WARNS="${WARNS:+$WARNS,}\"$(json "$*")\""; }
die() { log "error: $*"; exit 1; }
abort() { log "error: $*"; log "rolling back: removing everything egress configured here"; do_down; exit 1; }
run() { "$@" || abort "'$*' failed"; }
require() {
  for t in $TOOLS; do
    command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed (ip: iproute2, nft: nftables); nothing was changed"
  done
}
find_uplink() {
  UPLINK=$(ip -o -4 addr show | awk -v ip="$PRIVATE_IP" '{ split($4, a, "/"); if (a[1] == ip) { sub(/@.*/, "", $2); print $2; exit } }')
}
# sysctl_set PATH VALUE [SCOPE [FEATURE]]: PATH is under /proc/sys; the value it replaces is saved once for down.
sysctl_set() {
  f=/proc/sys/$1 s=${3:-ns} ft=${4:-}
  if [ "$s" = machine ] && [ "$NETNS_ONLY" = 1 ]; then warn "skipped $1 (machine-wide; EGRESS_NETNS_ONLY=1)"; return 0; fi
  if [ ! -e "$f" ]; then
    [ -n "$ft" ] || abort "$f does not exist"
    warn "$ft not available: this kernel has no $1"; return 0
  fi
  v=$(cat "$f")
  [ "$v" = "$2" ] && return 0
  mkdir -p "$RUN_DIR" || abort "cannot create $RUN_DIR"
  grep -q "^$1 " "$RUN_DIR/sysctl" 2>/dev/null || printf '%s %s\n' "$1" "$v" >>"$RUN_DIR/sysctl"
  if printf '%s\n' "$2" 2>/dev/null >"$f"; then log "sysctl $1: $v -> $2"; else
    [ -n "$ft" ] || abort "cannot set $1=$2"
    warn "$ft not available: cannot set $1=$2"
  fi
}
sysctl_restore() {
  [ -f "$RUN_DIR/sysctl" ] || return 0
  while read -r p v; do
    [ -e "/proc/sys/$p" ] && printf '%s\n' "$v" >"/proc/sys/$p" 2>/dev/null
  done <"$RUN_DIR/sysctl"
  rm -f "$RUN_DIR/sysctl"
  rmdir "$RUN_DIR" 2>/dev/null
  return 0
}
# check helpers: begin NAME, then facts, then end.
begin() { I_NAME=$1; I_OK=true; I_DETAIL=; }
fact() { [ "$1" = true ] || I_OK=false; I_DETAIL="${I_DETAIL:+$I_DETAIL; }$2"; }
end() {
  [ "$I_OK" = true ] || OK=false
  ITEMS="${ITEMS:+$ITEMS,}{\"name\":\"$I_NAME\",\"ok\":$I_OK,\"detail\":\"$(json "$I_DETAIL")\"}"
}
c_tunnel() {
  l=$(ip -d -o link show dev "$1" 2>/dev/null) || { fact false "$1 does not exist"; return; }
  case "$l" in *" remote $3 local $2 "*) ;; *) fact false "$1 is not $2 -> $3"; return ;; esac
  case "$l" in *[\<,]UP[,\>]*) ;; *) fact false "$1 is down"; return ;; esac
  ip -o -4 addr show dev "$1" | grep -qF " $4 " || { fact false "$1 lacks $4"; return; }
  fact true "$1 up, $2 -> $3, $4"
}
c_mtu() {
  m=$(ip -o link show dev "$1" 2>/dev/null | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
  if [ "$m" = "$2" ]; then fact true "$1 mtu $m"; else fact false "$1 mtu ${m:-missing}, want $2"; fi
}
c_sysctl() {
  f=/proc/sys/$1 s=${3:-ns} ft=${4:-}
  if [ "$s" = machine ] && [ "$NETNS_ONLY" = 1 ]; then fact true "skipped $1 (machine-wide; EGRESS_NETNS_ONLY=1)"; warn "skipped $1 (machine-wide)"; return; fi
  if [ -n "$ft" ] && [ ! -e "$f" ]; then fact true "not available: no $1"; warn "$ft not available: no $1"; return; fi
  if [ "$ft" = bbr ] && ! grep -qw bbr /proc/sys/net/ipv4/tcp_available_congestion_control; then
    fact true "not available: kernel lacks bbr"; warn "bbr not available"; return
  fi
  v=$(cat "$f" 2>/dev/null)
  if [ "$v" = "$2" ]; then fact true "$1=$v"; else fact false "$1=${v:-missing}, want $2"; fi
}
# route_set DEST VIA DEV [TABLE]: adds or updates egress's own route; a foreign route to DEST is kept.
route_set() {
  t=${4:-main}
  if [ -n "$(ip route show table "$t" exact "$1" proto "$PROTO" 2>/dev/null)" ]; then
    run ip route replace "$1" via "$2" dev "$3" table "$t" proto "$PROTO"
  elif ! ip route add "$1" via "$2" dev "$3" table "$t" proto "$PROTO" 2>/dev/null; then
    warn "kept the existing route to $1 in table $t: $(ip route show table "$t" exact "$1")"
  fi
}
# c_route DEST WANT [TABLE]: the exact route exists and reads WANT.
c_route() {
  r=$(ip route show table "${3:-main}" exact "$1" 2>/dev/null)
  case "$r" in *"$2"*) fact true "$1 $2" ;; *) fact false "$1: ${r:-no route}; want $2" ;; esac
}
# c_pin DEST ADDRESS: egress's pin for DEST exists and the lookup for ADDRESS in it leaves by the uplink.
c_pin() { c_route "$1" "via $VPC_ROUTER dev $UPLINK "; c_get "$2" "dev $UPLINK "; }
# c_get ADDRESS WANT [MARK]: the kernel's route lookup for ADDRESS reads WANT.
c_get() {
  r=$(ip -o route get "$1" ${3:+mark "$3"} 2>&1 | sed 's/ *\\.*//')
  case "$r" in *"$2"*) fact true "get $1${3:+ mark $3}: $r" ;; *) fact false "get $1${3:+ mark $3}: $r; want $2" ;; esac
}
# tunnel NAME LOCAL REMOTE KEY ADDRESS/30 MTU: created once; recreated only if its endpoints changed.
tunnel() {
  if ip link show dev "$1" >/dev/null 2>&1; then
    case "$(ip -d -o link show dev "$1")" in *"ipip"*" remote $3 local $2 "*) ;; *) log "$1 has other endpoints: recreating it"; run ip link del dev "$1" ;; esac
  fi
  if ! ip link show dev "$1" >/dev/null 2>&1; then
    ip link add "$1" type ipip local "$2" remote "$3" ttl 64 dev "$UPLINK" || abort "cannot create $1: does this kernel have ipip? (ip link add ... type ipip failed; choose another overlay mode)"
  fi
  run ip link set dev "$1" mtu "$6"
  if [ "$(ip -o -4 addr show dev "$1" | awk '{ print $4 }')" != "$5" ]; then
    run ip addr flush dev "$1"
    run ip addr add "$5" dev "$1"
  fi
  run ip link set dev "$1" up
}
NFT_ID='4bf90b6a0e00'
nft_id() { printf 'egress-host %s %s uplink %s' "$HOST_NAME" "$NFT_ID" "$UPLINK"; }
# nft_apply: replaces table ip egress atomically with the definition on stdin, unless it is already current.
nft_apply() {
  if nft list table ip egress 2>/dev/null | grep -qF "comment \"$(nft_id)\""; then cat >/dev/null; return 0; fi
  { printf 'table ip egress {}\ndelete table ip egress\n'; cat; } | nft -f - || abort "nft rejected table ip egress"
  log "table ip egress replaced"
}
# c_nft A B: a line of table ip egress contains A and B.
c_nft() {
  if printf '%s\n' "$NFT" | grep -F -- "$1" | grep -qF -- "$2"; then fact true "$1 .. $2"; else fact false "no rule: $1 .. $2"; fi
}
do_apply() {
  require
  find_uplink
  [ -n "$UPLINK" ] || die "no interface holds $PRIVATE_IP (is this host $HOST_NAME?); nothing was changed"
  log 'tunnel eg1 (ipip) to tokyo-nat 10.1.1.10, 192.168.250.2/30, mtu 1480'
  tunnel eg1 10.0.1.10 10.1.1.10 1 192.168.250.2/30 1480
  log 'sysctls (a changed value is saved for down)'
  sysctl_set net/ipv4/conf/all/rp_filter 0
  sysctl_set net/ipv4/conf/default/rp_filter 0
  sysctl_set net/ipv4/conf/"$UPLINK"/rp_filter 0
  sysctl_set net/ipv4/conf/eg1/rp_filter 0
  sysctl_set net/ipv4/tcp_congestion_control bbr ns bbr
  sysctl_set net/core/default_qdisc fq machine fq
  sysctl_set net/ipv4/tcp_slow_start_after_idle 0
  log 'answer connections that arrive on the uplink via the uplink (fwmark 0x1 -> table 1010)'
  nft_apply <<EOF
table ip egress {
  comment "$(nft_id)"
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    iifname "$UPLINK" ct state new ct mark set 0x00000001 comment "arrived on the uplink"
  }
  chain output {
    type route hook output priority mangle; policy accept;
    ct mark 0x00000001 meta mark set ct mark comment "reply via the uplink"
  }
}
EOF
  route_set default "$VPC_ROUTER" "$UPLINK" 1010
  ip rule show | grep -q "fwmark 0x1 lookup 1010" || run ip rule add priority 1010 fwmark 0x1 lookup 1010
  log 'pin the underlay, the VPCs and the AWS link-local services via the VPC router on the uplink'
  route_set 10.1.1.10/32 "$VPC_ROUTER" "$UPLINK"
  route_set 10.0.0.0/16 "$VPC_ROUTER" "$UPLINK"
  route_set 10.1.0.0/16 "$VPC_ROUTER" "$UPLINK"
  route_set 169.254.169.254/32 "$VPC_ROUTER" "$UPLINK"
  route_set 169.254.169.253/32 "$VPC_ROUTER" "$UPLINK"
  route_set 169.254.169.123/32 "$VPC_ROUTER" "$UPLINK"
  log 'default egress via eg1 (192.168.250.1, tokyo-nat); the original default route stays'
  route_set 0.0.0.0/1 192.168.250.1 eg1
  route_set 128.0.0.0/1 192.168.250.1 eg1
  log "applied: $HOST_NAME egresses via its tunnel; run check to verify"
}

do_down() {
  ip route del 0.0.0.0/1 via 192.168.250.1 dev eg1 proto "$PROTO" 2>/dev/null
  ip route del 128.0.0.0/1 via 192.168.250.1 dev eg1 proto "$PROTO" 2>/dev/null
  ip route flush proto "$PROTO" 2>/dev/null
  while ip rule del priority 1010 fwmark 0x1 lookup 1010 2>/dev/null; do :; done
  ip route flush table 1010 proto "$PROTO" 2>/dev/null
  sysctl_restore
  if nft list table ip egress >/dev/null 2>&1; then nft delete table ip egress || log "error: cannot delete table ip egress"; fi
  if ip link show dev eg1 >/dev/null 2>&1; then ip link del dev eg1; fi
  log 'down: removed what egress configured'
}

do_check() {
  require
  find_uplink
  begin uplink.found
  if [ -n "$UPLINK" ]; then fact true "$PRIVATE_IP on $UPLINK"; else fact false "no interface holds $PRIVATE_IP"; fi
  end
  NFT=$(nft list table ip egress 2>/dev/null)
  begin tunnel.up
  c_tunnel eg1 10.0.1.10 10.1.1.10 192.168.250.2/30
  end
  begin tunnel.mtu
  c_mtu eg1 1480
  end
  begin route.default-via-tunnel
  c_route 0.0.0.0/1 "via 192.168.250.1 dev eg1 "
  c_route 128.0.0.0/1 "via 192.168.250.1 dev eg1 "
  c_get 192.0.2.1 "dev eg1 "
  end
  begin route.pin.gateway-underlay
  c_pin 10.1.1.10/32 10.1.1.10
  end
  begin route.pin.vpc
  c_pin 10.0.0.0/16 10.0.0.1
  c_pin 10.1.0.0/16 10.1.0.1
  end
  begin route.pin.imds
  c_pin 169.254.169.254/32 169.254.169.254
  c_pin 169.254.169.253/32 169.254.169.253
  c_pin 169.254.169.123/32 169.254.169.123
  end
  begin mgmt.reply-via-uplink
  c_nft "comment \"$(nft_id)\"" ''
  c_nft "iifname \"$UPLINK\" ct state new" 'ct mark set 0x00000001'
  c_nft 'ct mark 0x00000001' 'meta mark set ct mark'
  c_nft 'type route hook output' ''
  if ip rule show | grep -q "fwmark 0x1 lookup 1010"; then fact true 'rule fwmark 0x1 lookup 1010'; else fact false 'no rule fwmark 0x1 lookup 1010'; fi
  c_route default "via $VPC_ROUTER dev $UPLINK " 1010
  c_get 192.0.2.1 "dev $UPLINK " 0x1
  end
  begin sysctl.rp_filter
  c_sysctl net/ipv4/conf/all/rp_filter 0
  c_sysctl net/ipv4/conf/default/rp_filter 0
  c_sysctl net/ipv4/conf/"$UPLINK"/rp_filter 0
  c_sysctl net/ipv4/conf/eg1/rp_filter 0
  end
  begin tcp.bbr
  c_sysctl net/ipv4/tcp_congestion_control bbr ns bbr
  end
  begin qdisc.fq
  c_sysctl net/core/default_qdisc fq machine fq
  end
  begin tcp.slow-start-after-idle
  c_sysctl net/ipv4/tcp_slow_start_after_idle 0
  end
  printf '{"host":"%s","ok":%s,"invariants":[%s],"warnings":[%s]}\n' "$HOST_NAME" "$OK" "$ITEMS" "$WARNS"
  [ "$OK" = true ]
}

do_status() {
  find_uplink
  echo "egress-host $HOST_NAME (client), uplink ${UPLINK:-not found}, overlay ipip"
  ip -d addr show dev eg1 2>&1
  echo "routes egress added (proto $PROTO):"
  ip route show table all proto "$PROTO"
  ip rule show
  nft list table ip egress 2>&1
  do_check
}

case "${1:-}" in
  apply) do_apply ;;
  check) do_check ;;
  down) require; find_uplink; do_down ;;
  status) do_status ;;
  *) echo "usage: $0 apply|check|down|status" >&2; exit 2 ;;
esac
