#!/bin/sh
# egress-host: tokyo-nat, gateway of stack egress-seed. Rendered by egress from the topology: edit that, not this.
# Usage: egress-host apply|check|down|status (docs/host.md)
# Environment: EGRESS_NETNS_ONLY=1 (a lab namespace), EGRESS_RUN_DIR (default /run/egress), EGRESS_LOCK_WAIT (seconds, default 30).
# Overlay ipip: tunnel MTU 1480, TCP MSS 1440. Each step explained: docs/host.md.
# ---- data block: this host's values (lists call "$@" once per item); the library after it is fixed shell.
set -u
HOST_NAME=tokyo-nat
ROLE=gateway
OVERLAY=ipip
VXLAN_PORT=4789
PRIVATE_IP=10.1.1.10
STEPS='require uplink tunnels firewall sysctls dns'
TOOLS='ip nft awk grep sed flock cksum dnsmasq'
NFT_PEERS=10.0.1.10
tunnels() {
  "$@" eg1 10.1.1.10 10.0.1.10 1 192.168.250.1/30 1480 sg-client
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
# ---- library: src/Egress.Host/Scripts/common.sh, gateway.sh, main.sh (explained there and in docs/host.md)
PROTO=201
RUN_DIR="${EGRESS_RUN_DIR:-/run/egress}/$HOST_NAME"
NETNS_ONLY="${EGRESS_NETNS_ONLY:-0}"
UPLINK=
ITEMS=
WARNS=
OK=true
I_NAME=
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
begin() { I_NAME=$1; I_OK=true; I_DETAIL=; }
fact() { [ "$1" = true ] || I_OK=false; I_DETAIL="${I_DETAIL:+$I_DETAIL; }$2"; }
end() {
  [ "$I_OK" = true ] || OK=false
  ITEMS="${ITEMS:+$ITEMS,}{\"name\":\"$I_NAME\",\"ok\":$I_OK,\"detail\":\"$(json "$I_DETAIL")\"}"
  I_NAME=
}
group() { [ "$1" = "$I_NAME" ] && return; [ -z "$I_NAME" ] || end; begin "$1"; }
ungroup() { [ -z "$I_NAME" ] || end; }
apply_require() { require; }
down_require() { :; }
check_require() { require; }
apply_uplink() {
  find_uplink
  [ -n "$UPLINK" ] || die "no interface holds $PRIVATE_IP (is this host $HOST_NAME?); nothing was changed"
}
down_uplink() { :; }
check_uplink() {
  find_uplink
  begin uplink.found
  if [ -n "$UPLINK" ]; then fact true "$PRIVATE_IP on $UPLINK"; else fact false "no interface holds $PRIVATE_IP"; fi
  end
  NFT=$(nft list table ip egress 2>/dev/null)
}
tunnel_is() {
  case "$OVERLAY $(ip -d -o link show dev "$1" 2>/dev/null)" in
    "vxlan "*"vxlan id $4 remote $3 local $2 "*" nolearning "*) return 0 ;;
    "ipip "*"ipip"*" remote $3 local $2 "* | "gre "*"gre"*" remote $3 local $2 "*) return 0 ;;
    *) return 1 ;;
  esac
}
tunnel_add() {
  case $OVERLAY in
    ipip) ip link add "$1" type ipip local "$2" remote "$3" ttl 64 dev "$UPLINK" ;;
    gre) ip link add "$1" type gre local "$2" remote "$3" key "$4" ttl 64 dev "$UPLINK" ;;
    vxlan) ip link add "$1" type vxlan id "$4" local "$2" remote "$3" dstport "$VXLAN_PORT" nolearning dev "$UPLINK" ;;
  esac
}
tunnel() {
  log "tunnel $1 ($OVERLAY) to $7 $3, $5, mtu $6"
  if ip link show dev "$1" >/dev/null 2>&1 && ! tunnel_is "$1" "$2" "$3" "$4"; then
    log "$1 has other endpoints or settings: recreating it"; run ip link del dev "$1"
  fi
  if ! ip link show dev "$1" >/dev/null 2>&1; then
    tunnel_add "$@" || abort "cannot create $1: does this kernel have $OVERLAY? (ip link add ... type $OVERLAY failed; choose another overlay mode)"
  fi
  run ip link set dev "$1" mtu "$6"
  if [ "$(ip -o -4 addr show dev "$1" | awk '{ print $4 }')" != "$5" ]; then
    run ip addr flush dev "$1"
    run ip addr add "$5" dev "$1"
  fi
  run ip link set dev "$1" up
}
tunnel_del() { if ip link show dev "$1" >/dev/null 2>&1; then ip link del dev "$1"; fi; }
c_tunnel() {
  l=$(ip -d -o link show dev "$1" 2>/dev/null) || { fact false "$1 does not exist"; return; }
  tunnel_is "$1" "$2" "$3" "$4" || { fact false "$1 is not $2 -> $3 as rendered (key, vxlan nolearning)"; return; }
  case "$l" in *[\<,]UP[,\>]*) ;; *) fact false "$1 is down"; return ;; esac
  ip -o -4 addr show dev "$1" | grep -qF " $5 " || { fact false "$1 lacks $5"; return; }
  fact true "$1 up, $2 -> $3, $5"
}
c_mtu() {
  m=$(ip -o link show dev "$1" 2>/dev/null | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
  if [ "$m" = "$6" ]; then fact true "$1 mtu $m"; else fact false "$1 mtu ${m:-missing}, want $6"; fi
}
apply_tunnels() { tunnels tunnel; }
down_tunnels() { tunnels tunnel_del; }
check_tunnels() {
  begin tunnel.up; tunnels c_tunnel; end
  begin tunnel.mtu; tunnels c_mtu; end
}
sysctl_path() { p=$1; case $p in *"{uplink}"*) p="${p%%\{uplink\}*}$UPLINK${p#*\{uplink\}}" ;; esac; }
sysctl_set() {
  sysctl_path "$2"
  f=/proc/sys/$p s=$4 ft=$5
  if [ "$s" = machine ] && [ "$NETNS_ONLY" = 1 ]; then warn "skipped $p (machine-wide; EGRESS_NETNS_ONLY=1)"; return 0; fi
  if [ ! -e "$f" ]; then
    [ -n "$ft" ] || abort "$f does not exist"
    warn "$ft not available: this kernel has no $p"; return 0
  fi
  v=$(cat "$f")
  [ "$v" = "$3" ] && return 0
  mkdir -p "$RUN_DIR" || abort "cannot create $RUN_DIR"
  grep -q "^$p " "$RUN_DIR/sysctl" 2>/dev/null || printf '%s %s\n' "$p" "$v" >>"$RUN_DIR/sysctl"
  if printf '%s\n' "$3" 2>/dev/null >"$f"; then log "sysctl $p: $v -> $3"; else
    [ -n "$ft" ] || abort "cannot set $p=$3"
    warn "$ft not available: cannot set $p=$3"
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
c_sysctl() {
  group "$1"
  sysctl_path "$2"
  f=/proc/sys/$p s=$4 ft=$5
  if [ "$s" = machine ] && [ "$NETNS_ONLY" = 1 ]; then fact true "skipped $p (machine-wide; EGRESS_NETNS_ONLY=1)"; warn "skipped $p (machine-wide)"; return; fi
  if [ -n "$ft" ] && [ ! -e "$f" ]; then fact true "not available: no $p"; warn "$ft not available: no $p"; return; fi
  if [ "$ft" = bbr ] && ! grep -qw bbr /proc/sys/net/ipv4/tcp_available_congestion_control; then
    fact true "not available: kernel lacks bbr"; warn "bbr not available"; return
  fi
  v=$(cat "$f" 2>/dev/null)
  if [ "$v" = "$3" ]; then fact true "$p=$v"; else fact false "$p=${v:-missing}, want $3"; fi
}
apply_sysctls() { log 'sysctls (a changed value is saved for down)'; sysctls sysctl_set; }
down_sysctls() { sysctl_restore; }
check_sysctls() { sysctls c_sysctl; ungroup; }
own_ns() { [ "$(readlink "/proc/$1/ns/net" 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ]; }
DNS_PID="$RUN_DIR/dnsmasq.pid" DOTHER='' DPID=
dns_is() {
  case "$(tr '\0' ' ' 2>/dev/null <"/proc/${1:-0}/cmdline")" in
    dnsmasq*" --pid-file=$DNS_PID ") own_ns "$1" || return 2 ;;
    *) return 1 ;;
  esac
}
dns_running() {
  DPID=$(cat "$DNS_PID" 2>/dev/null) DOTHER=
  dns_is "$DPID"
  case $? in 0) return 0 ;; 2) DOTHER=$DPID ;; esac
  # shellcheck disable=SC2013 # pids, one word each
  for DPID in $(grep -lF -e "--pid-file=$DNS_PID" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    dns_is "$DPID" && return 0
  done
  DPID=
  return 1
}
dns_why() { if [ -n "$DOTHER" ]; then echo "$DNS_PID names pid $DOTHER, another network namespace's"; else echo "$DNS_PID"; fi; }
dns_start() {
  set -- dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --cache-size=1000 "$@" "--pid-file=$DNS_PID"
  if dns_running; then
    [ "$(tr '\0' ' ' <"/proc/$DPID/cmdline")" = "$* " ] && return 0
    log "dnsmasq pid $DPID runs with other arguments: restarting it"; dns_stop
  elif [ -n "$DOTHER" ]; then
    warn "$(dns_why) (a world sharing $RUN_DIR): starting this namespace's own, which takes over the file"
  fi
  mkdir -p "$RUN_DIR" || abort "cannot create $RUN_DIR"
  "$@" || abort "dnsmasq did not start (is port 53 on these addresses taken?): $*"
  dns_running || abort "dnsmasq started but wrote no pid to $DNS_PID"
}
dns_stop() {
  if dns_running; then
    kill "$DPID"
    i=0
    while [ -e "/proc/$DPID" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  fi
  [ -n "$DOTHER" ] || rm -f "$DNS_PID"
}
c_dns_running() { if dns_running; then fact true "dnsmasq pid $DPID"; else fact false "dnsmasq is not running in this network namespace ($(dns_why))"; fi; }
# shellcheck disable=SC2034 # NFT_OVERLAY: used by the role's nft_body
case $OVERLAY in
  vxlan) NFT_OVERLAY="udp dport $VXLAN_PORT" ;;
  ipip) NFT_OVERLAY="ip protocol 4" ;;
  *) NFT_OVERLAY="ip protocol 47" ;;
esac
nft_id() { printf 'egress-host %s %s uplink %s' "$HOST_NAME" "$(nft_body | cksum | cut -d' ' -f1)" "$UPLINK"; }
nft_table() { printf 'table ip egress {\n  comment "%s"\n' "$(nft_id)"; nft_body; printf '}\n'; }
nft_apply() {
  t=$(nft_table)
  if nft list table ip egress 2>/dev/null | grep -qF "comment \"$(nft_id)\""; then return 0; fi
  printf 'table ip egress {}\ndelete table ip egress\n%s\n' "$t" | nft -f - || abort "nft rejected table ip egress"
  log "table ip egress replaced"
}
nft_delete() { if nft list table ip egress >/dev/null 2>&1; then nft delete table ip egress || log "error: cannot delete table ip egress"; fi; }
c_nft() {
  if printf '%s\n' "$NFT" | grep -F -- "$1" | grep -qF -- "$2"; then fact true "$1 .. $2"; else fact false "no rule: $1 .. $2"; fi
}
do_apply() {
  for s in $STEPS; do "apply_$s"; done
  log "applied: $HOST_NAME egresses via its tunnel; run check to verify"
}
do_down() {
  r=
  for s in $STEPS; do r="$s $r"; done
  for s in $r; do "down_$s"; done
  log 'down: removed what egress configured'
}
do_check() {
  for s in $STEPS; do "check_$s"; done
  printf '{"schemaVersion":1,"host":"%s","ok":%s,"invariants":[%s],"warnings":[%s]}\n' "$HOST_NAME" "$OK" "$ITEMS" "$WARNS"
  [ "$OK" = true ]
}
do_status() {
  find_uplink
  echo "egress-host $HOST_NAME ($ROLE), uplink ${UPLINK:-not found}, overlay $OVERLAY"
  tunnels status_tunnel
  echo "routes egress added (proto $PROTO):"
  ip route show table all proto "$PROTO"
  ip rule show
  nft list table ip egress 2>&1
  do_check
}
status_tunnel() { ip -d addr show dev "$1" 2>&1; }
nft_body() {
  cat <<EOF2
  chain prerouting {
    type filter hook prerouting priority raw; policy accept;
$(clients nft_inner)
  }
  chain input {
    type filter hook input priority filter; policy accept;
    $NFT_OVERLAY ip saddr != { $NFT_PEERS } counter drop comment "overlay packets only from the configured clients"
$(tunnels nft_binding)
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    tcp flags syn tcp option maxseg size set rt mtu comment "clamp MSS to the path MTU"
    ct state established,related counter accept
$(clients nft_forward)
    counter drop comment "not from a configured client"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
$(clients nft_masquerade)
  }
EOF2
}
nft_forward() { printf '    iifname "%s" oifname "%s" ip saddr %s counter accept comment "%s"\n' "$1" "$UPLINK" "$2" "$3"; }
nft_masquerade() { printf '    iifname "%s" oifname "%s" counter masquerade comment "every source from the tunnel of %s"\n' "$1" "$UPLINK" "$3"; }
nft_inner() { printf '    iifname "%s" ip saddr != %s counter drop comment "inner source: only %s from the tunnel of %s"\n' "$1" "$2" "$2" "$3"; }
nft_binding() {
  [ "$OVERLAY" = vxlan ] || return 0
  printf '    udp dport %s @th,96,24 %s ip saddr != %s counter drop comment "overlay id %s only from %s"\n' "$VXLAN_PORT" "$4" "$3" "$4" "$7"
}
client_name() { n="${n:+$n, }$3"; }
apply_firewall() {
  n=''
  clients client_name
  log "nftables table ip egress: forward and masquerade $n, drop the rest"
  nft_apply
}
down_firewall() { nft_delete; }
check_firewall() {
  begin nat.table
  c_nft "comment \"$(nft_id)\"" ''
  end
  begin nat.masquerade-covers-tunnel
  clients c_masquerade
  end
  begin forward.only-clients
  c_nft 'hook forward' 'policy drop;'
  clients c_forward
  c_nft 'ct state established,related' accept
  c_nft 'counter packets' 'drop comment "not from a configured client'
  end
  begin overlay.only-clients
  c_nft 'overlay packets only from' drop
  tunnels c_binding
  end
  begin overlay.inner-source
  c_nft 'hook prerouting' 'priority raw;'
  clients c_inner
  end
  begin forward.mss-clamp
  c_nft 'tcp flags syn' 'maxseg size set rt mtu'
  end
}
c_masquerade() { c_nft "iifname \"$1\" oifname \"$UPLINK\" counter" masquerade; }
c_forward() { c_nft "iifname \"$1\" oifname \"$UPLINK\" ip saddr $2 " accept; }
c_inner() { c_nft "iifname \"$1\" ip saddr != $2 counter" "drop comment \"inner source: only $2 from the tunnel of $3\""; }
c_binding() { [ "$OVERLAY" = vxlan ] || return 0; c_nft "ip saddr != $3 counter" "drop comment \"overlay id $4 only from $7\""; }
apply_dns() {
  log "dns forwarder (dnsmasq) on $DNS_LISTEN to the VPC resolver $DNS_UPSTREAM"
  set --
  for a in $DNS_LISTEN; do
    set -- "$@" "--listen-address=$a" "--address=/$(echo "$a" | sed 's/\./-/g').$HOST_NAME.dns.egress.test/$a"
  done
  dns_start "$@" "--server=$DNS_UPSTREAM"
}
down_dns() { dns_stop; }
check_dns() {
  begin dns.forwarder
  if dns_running; then
    l=$(ss -Hlnup 2>/dev/null | grep "pid=$DPID,")
    for a in $DNS_LISTEN; do
      case "$l" in *" $a:53 "*) fact true "dnsmasq pid $DPID on $a:53" ;; *) fact false "dnsmasq pid $DPID does not listen on $a:53" ;; esac
    done
    case "$l" in *" 0.0.0.0:53 "* | *" *:53 "*) fact false "dnsmasq listens on every address, not only the tunnels" ;; esac
  else
    fact false "the dns forwarder (dnsmasq) is not running in this network namespace ($(dns_why))"
  fi
  end
}
# shellcheck disable=SC2034 # VERBS: used by main.sh
VERBS='apply|check|down|status'
case "${1:-}" in
  apply) require; locked apply; do_apply ;;
  check) do_check ;;
  down) require; find_uplink; locked down; do_down ;;
  status) do_status ;;
  watch | decide) case "|$VERBS|" in *"|$1|"*) "do_$1" "${2:-}" ;; *) echo "usage: $0 $VERBS" >&2; exit 2 ;; esac ;;
  *) echo "usage: $0 $VERBS" >&2; exit 2 ;;
esac
