#!/bin/sh
# egress-host: tokyo-nat, gateway of stack egress-seed. Rendered by egress from the topology: edit that, not this.
# Usage: egress-host apply|check|down|status
#   apply   tunnel, routes, nftables, sysctls; idempotent; changes kernel state only (systemd re-runs it at boot)
#   check   the invariants as JSON on stdout; exit 1 if any fails
#   down    remove exactly what apply added
#   status  what egress configured, then check
# EGRESS_NETNS_ONLY=1 skips machine-wide sysctls (the lab); EGRESS_RUN_DIR (default /run/egress) holds saved sysctls and the lock;
# EGRESS_LOCK_WAIT (seconds, default 30) bounds the wait for another apply, down or watcher route move.
# Overlay gre: tunnel MTU 1476, TCP MSS 1436. Each step explained: docs/host.md.
set -u
HOST_NAME='tokyo-nat'
PRIVATE_IP='10.1.1.10'
PROTO=201
TOOLS='ip nft awk grep sed flock'
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
    command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed (ip: iproute2, nft: nftables, flock: util-linux); nothing was changed"
  done
}
# lock WHAT [SINCE]: one apply, down or watcher route move at a time on this host (flock on fd 9; the file names the
# holder). Waits up to EGRESS_LOCK_WAIT seconds; returns 1 (HOLDER set) if the lock stays taken. Closing fd 9
# (exec 9>&-) releases it. Cheap on the watcher's path: one fork when the lock is free.
LOCK="${EGRESS_RUN_DIR:-/run/egress}/$HOST_NAME.lock" LOCK_WAIT="${EGRESS_LOCK_WAIT:-30}"
lock() {
  [ -d "${LOCK%/*}" ] || mkdir -p "${LOCK%/*}" || return 1
  exec 9<>"$LOCK"
  if ! flock -n 9; then
    HOLDER=$(cat "$LOCK" 2>/dev/null)
    log "waiting up to ${LOCK_WAIT}s for $LOCK, held by: ${HOLDER:-unknown}"
    flock -w "$LOCK_WAIT" 9 || { exec 9>&-; return 1; }
  fi
  printf '%s, pid %s, since %s\n' "$1" "$$" "${2:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}" >"$LOCK"
}
locked() { lock "$1" || die "another egress-host run still holds $LOCK after ${LOCK_WAIT}s: ${HOLDER:-unknown}; nothing was changed"; }
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
# c_tunnel NAME LOCAL REMOTE KEY ADDRESS/30
c_tunnel() {
  l=$(ip -d -o link show dev "$1" 2>/dev/null) || { fact false "$1 does not exist"; return; }
  tunnel_is "$1" "$2" "$3" "$4" || { fact false "$1 is not $2 -> $3 as rendered (key, vxlan nolearning)"; return; }
  case "$l" in *[\<,]UP[,\>]*) ;; *) fact false "$1 is down"; return ;; esac
  ip -o -4 addr show dev "$1" | grep -qF " $5 " || { fact false "$1 lacks $5"; return; }
  fact true "$1 up, $2 -> $3, $5"
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
# tunnel_is NAME LOCAL REMOTE KEY: the link exists with exactly these endpoints and settings.
tunnel_is() { case "$(ip -d -o link show dev "$1" 2>/dev/null)" in *"gre"*" remote $3 local $2 "*) return 0 ;; *) return 1 ;; esac; }
# tunnel NAME LOCAL REMOTE KEY ADDRESS/30 MTU: created once; recreated only if its endpoints or settings changed.
tunnel() {
  if ip link show dev "$1" >/dev/null 2>&1 && ! tunnel_is "$1" "$2" "$3" "$4"; then
    log "$1 has other endpoints or settings: recreating it"; run ip link del dev "$1"
  fi
  if ! ip link show dev "$1" >/dev/null 2>&1; then
    ip link add "$1" type gre local "$2" remote "$3" key "$4" ttl 64 dev "$UPLINK" || abort "cannot create $1: does this kernel have gre? (ip link add ... type gre failed; choose another overlay mode)"
  fi
  run ip link set dev "$1" mtu "$6"
  if [ "$(ip -o -4 addr show dev "$1" | awk '{ print $4 }')" != "$5" ]; then
    run ip addr flush dev "$1"
    run ip addr add "$5" dev "$1"
  fi
  run ip link set dev "$1" up
}
NFT_ID='0d191c1459da'
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
  log 'tunnel eg1 (gre) to sg-client 10.0.1.10, 192.168.250.1/30, mtu 1476'
  tunnel eg1 10.1.1.10 10.0.1.10 1 192.168.250.1/30 1476
  log 'nftables table ip egress: forward and masquerade sg-client, drop the rest'
  nft_apply <<EOF
table ip egress {
  comment "$(nft_id)"
  chain input {
    type filter hook input priority filter; policy accept;
    ip protocol 47 ip saddr != { 10.0.1.10 } counter drop comment "overlay packets only from the configured clients"
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    tcp flags syn tcp option maxseg size set rt mtu comment "clamp MSS to the path MTU"
    ct state established,related counter accept
    iifname "eg1" oifname "$UPLINK" ip saddr 192.168.250.2 counter accept comment "sg-client"
    counter drop comment "not from a configured client"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    iifname "eg1" oifname "$UPLINK" counter masquerade comment "every source from the tunnel of sg-client"
  }
}
EOF
  log 'sysctls (a changed value is saved for down)'
  sysctl_set net/ipv4/ip_forward 1
  sysctl_set net/ipv4/conf/all/rp_filter 0
  sysctl_set net/ipv4/conf/default/rp_filter 0
  sysctl_set net/ipv4/conf/"$UPLINK"/rp_filter 0
  sysctl_set net/ipv4/conf/eg1/rp_filter 0
  sysctl_set net/ipv4/tcp_congestion_control bbr ns bbr
  sysctl_set net/core/default_qdisc fq machine fq
  sysctl_set net/ipv4/tcp_slow_start_after_idle 0
  sysctl_set net/netfilter/nf_conntrack_max 131072 machine
  log "applied: $HOST_NAME egresses via its tunnel; run check to verify"
}

do_down() {
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
  c_tunnel eg1 10.1.1.10 10.0.1.10 1 192.168.250.1/30
  end
  begin tunnel.mtu
  c_mtu eg1 1476
  end
  begin nat.table
  c_nft "comment \"$(nft_id)\"" ''
  end
  begin nat.masquerade-covers-tunnel
  c_nft "iifname \"eg1\" oifname \"$UPLINK\" counter" masquerade
  end
  begin forward.only-clients
  c_nft 'hook forward' 'policy drop;'
  c_nft "iifname \"eg1\" oifname \"$UPLINK\" ip saddr 192.168.250.2 " accept
  c_nft 'ct state established,related' accept
  c_nft 'counter packets' 'drop comment "not from a configured client'
  end
  begin overlay.only-clients
  c_nft 'overlay packets only from' drop
  end
  begin forward.mss-clamp
  c_nft 'tcp flags syn' 'maxseg size set rt mtu'
  end
  begin sysctl.ip_forward
  c_sysctl net/ipv4/ip_forward 1
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
  begin conntrack.max
  c_sysctl net/netfilter/nf_conntrack_max 131072 machine
  end
  printf '{"host":"%s","ok":%s,"invariants":[%s],"warnings":[%s]}\n' "$HOST_NAME" "$OK" "$ITEMS" "$WARNS"
  [ "$OK" = true ]
}

do_status() {
  find_uplink
  echo "egress-host $HOST_NAME (gateway), uplink ${UPLINK:-not found}, overlay gre"
  ip -d addr show dev eg1 2>&1
  echo "routes egress added (proto $PROTO):"
  ip route show table all proto "$PROTO"
  ip rule show
  nft list table ip egress 2>&1
  do_check
}

case "${1:-}" in
  apply) require; locked apply; do_apply ;;
  check) do_check ;;
  down) require; find_uplink; locked down; do_down ;;
  status) do_status ;;
  *) echo "usage: $0 apply|check|down|status" >&2; exit 2 ;;
esac
