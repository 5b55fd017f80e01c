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
# ---- library: src/Egress.Host/Scripts/common.sh, client.sh, main.sh (explained there and in docs/host.md)
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
PROBE_ADDRESS=192.0.2.1
CT_MARK=$(printf '0x%08x' "$MARK")
# shellcheck disable=SC2034 # VERBS: used by main.sh
VERBS='apply|check|down|status|watch|decide'
route_set() {
  t=${4:-main}
  if [ -n "$(ip route show table "$t" exact "$1" proto "$PROTO" 2>/dev/null)" ]; then
    run ip route replace "$1" via "$2" dev "$3" table "$t" proto "$PROTO"
  elif ! ip route add "$1" via "$2" dev "$3" table "$t" proto "$PROTO" 2>/dev/null; then
    warn "kept the existing route to $1 in table $t: $(ip route show table "$t" exact "$1")"
  fi
}
c_route() {
  r=$(ip route show table "${3:-main}" exact "$1" 2>/dev/null)
  case "$r" in *"$2"*) fact true "$1 $2" ;; *) fact false "$1: ${r:-no route}; want $2" ;; esac
}
c_get() {
  a=$1 w=$2
  shift 2
  r=$(ip -o route get "$a" "$@" 2>&1 | sed 's/ *\\.*//')
  case "$r" in *"$w"*) fact true "get $a${1:+ $*}: $r" ;; *) fact false "get $a${1:+ $*}: $r; want $w" ;; esac
}
c_rule() { if ip rule show | grep -qF -- "$1"; then fact true "rule $1"; else fact false "no rule: $1"; fi; }
nft_body() {
  [ "$POLICY" != fail-closed ] || nft_set
  cat <<EOF
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    iifname "$UPLINK" $NFT_OVERLAY ct mark set 0x00000000 return comment "the overlay: what it carries is answered through its tunnel"
    iifname "$UPLINK" ct state new ct mark set $CT_MARK comment "arrived on the uplink"
    ct mark $CT_MARK meta mark set ct mark comment "incoming packets carry the mark: sockets and replies route by it"
  }
  chain output {
    type route hook output priority mangle; policy accept;
    ct mark $CT_MARK meta mark set ct mark comment "reply via the uplink"
  }
  chain input {
    type filter hook input priority filter; policy accept;
    $NFT_OVERLAY ip saddr != { $NFT_PEERS } counter drop comment "overlay packets only from the gateways"
  }
  chain killswitch {
    type filter hook output priority filter; policy accept;
    oifname "$UPLINK" ip saddr { $NFT_TUNNEL_ADDRESSES } counter drop comment "a tunnel address never leaves by the uplink"
$(nft_closed)
    oifname "$UPLINK" meta rtclassid $REALM ct mark != $CT_MARK counter reject with icmp type admin-prohibited comment "kill switch: nothing new leaves the uplink for the internet"
$(nft_closed reject)
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
$(nft_closed)
    oifname "$UPLINK" meta rtclassid $REALM ct mark != $CT_MARK counter reject with icmp type admin-prohibited comment "kill switch: fail-closed"
$(nft_closed reject)
  }
EOF
}
nft_closed() {
  [ "$POLICY" = fail-closed ] || return 0
  if [ "${1:-}" = reject ]; then
    echo "    oifname \"$UPLINK\" counter reject with icmp type admin-prohibited comment \"fail-closed: nothing else leaves the uplink, whatever the routes say\""
  else
    echo "    oifname \"$UPLINK\" ip daddr @allowed accept comment \"not the internet\""
    echo "    oifname \"$UPLINK\" ct mark $CT_MARK accept comment \"replies on connections that arrived on the uplink\""
  fi
}
nft_set() { printf '  set allowed {\n    type ipv4_addr; flags interval; auto-merge\n    elements = { %s }\n  }\n' "$ALLOWED"; }
nft_raw_body() {
  nft_set
  cat <<EOF
  chain uplink {
    type filter hook egress device "$UPLINK" priority filter; policy accept;
    ip daddr @allowed accept
    meta mark $MARK accept
    meta protocol ip counter drop comment "fail-closed: frames that bypassed the IP stack's hooks"
  }
EOF
}
nft_raw_id() { printf 'egress-host %s %s uplink %s' "$HOST_NAME" "$(nft_raw_body | cksum | cut -d' ' -f1)" "$UPLINK"; }
nft_raw_apply() {
  [ "$POLICY" = fail-closed ] || return 0
  nft list table netdev egress 2>/dev/null | grep -qF "comment \"$(nft_raw_id)\"" && return 0
  printf 'table netdev egress {}\ndelete table netdev egress\ntable netdev egress {\n  comment "%s"\n%s\n}\n' "$(nft_raw_id)" "$(nft_raw_body)" | nft -f - 2>/dev/null ||
    warn "no netdev egress hook (kernel 5.16+): frames sent by AF_PACKET are not guarded"
}
allow_add() { ALLOWED="$ALLOWED$2, "; }
ALLOWED=
pins allow_add
ALLOWED="$ALLOWED$NFT_PEERS, 169.254.0.0/16, 224.0.0.0/4, 255.255.255.255"
apply_reply() {
  log "answer connections that arrive on the uplink via the uplink (fwmark $MARK -> table $MGMT_TABLE)"
  nft_apply
  route_set default "$VPC_ROUTER" "$UPLINK" "$MGMT_TABLE"
  ip rule show | grep -q "fwmark $MARK lookup $MGMT_TABLE" || run ip rule add priority "$MGMT_PRIORITY" fwmark "$MARK" lookup "$MGMT_TABLE"
}
down_reply() {
  while ip rule del priority "$MGMT_PRIORITY" fwmark "$MARK" lookup "$MGMT_TABLE" 2>/dev/null; do :; done
  ip route flush table "$MGMT_TABLE" proto "$PROTO" 2>/dev/null
  nft_delete
}
check_reply() {
  begin mgmt.reply-via-uplink
  c_nft "comment \"$(nft_id)\"" ''
  c_nft "iifname \"$UPLINK\" ct state new" "ct mark set $CT_MARK"
  c_nft "ct mark $CT_MARK" 'meta mark set ct mark'
  c_nft 'type route hook output' ''
  c_nft 'overlay: what it carries' 'ct mark set 0x00000000 return'
  c_rule "fwmark $MARK lookup $MGMT_TABLE"
  c_route default "via $VPC_ROUTER dev $UPLINK " "$MGMT_TABLE"
  c_get "$PROBE_ADDRESS" "dev $UPLINK " mark "$MARK"
  end
}
ks_clear() { for _ in 1 2 3 4; do [ -n "$(ip rule show priority "$1")" ] && ip rule del priority "$1"; done 2>/dev/null; }
ks_rule() { if [ "$POLICY" = fail-closed ]; then echo "from all lookup $1"; else echo "from all oif $UPLINK lookup $1"; fi; }
apply_killswitch() {
  log "kill switch: nothing new leaves the uplink for the internet (rules $KS_PRIORITY-$((KS_PRIORITY + 1)), table $KS_TABLE, realm $REALM, $POLICY)"
  o=
  [ "$POLICY" = fail-closed ] || o="oif $UPLINK"
  ip rule show priority "$KS_PRIORITY" | grep -qF "$(ks_rule 'main suppress_prefixlength 0')" || {
    ks_clear "$KS_PRIORITY"
    # shellcheck disable=SC2086 # o: no word or two
    run ip rule add priority "$KS_PRIORITY" $o lookup main suppress_prefixlength 0
  }
  ip rule show priority $((KS_PRIORITY + 1)) | grep -qF "$(ks_rule "$KS_TABLE")" || {
    ks_clear $((KS_PRIORITY + 1))
    # shellcheck disable=SC2086
    run ip rule add priority $((KS_PRIORITY + 1)) $o lookup "$KS_TABLE"
  }
  if [ "$POLICY" = fail-closed ]; then
    [ -n "$(ip route show table "$KS_TABLE" exact default type prohibit proto "$PROTO")" ] || run ip route replace prohibit default table "$KS_TABLE" proto "$PROTO"
    nft_raw_apply
  else
    { [ -n "$(ip route show exact 0.0.0.0/1 proto "$PROTO")" ] && [ -n "$(ip route show table "$KS_TABLE" exact default proto "$PROTO")" ]; } ||
      run ip route replace default via "$VPC_ROUTER" dev "$UPLINK" table "$KS_TABLE" realm "$REALM" proto "$PROTO"
  fi
}
down_killswitch() {
  while ip rule del priority "$KS_PRIORITY" lookup main 2>/dev/null; do :; done
  while ip rule del priority $((KS_PRIORITY + 1)) lookup "$KS_TABLE" 2>/dev/null; do :; done
  ip route flush table "$KS_TABLE" proto "$PROTO" 2>/dev/null
  if nft list table netdev egress >/dev/null 2>&1; then nft delete table netdev egress; fi
}
check_killswitch() {
  begin killswitch.uplink
  c_nft 'overlay packets only from' drop
  c_nft "oifname \"$UPLINK\" ip saddr" 'tunnel address never leaves'
  c_nft "rtclassid $REALM" 'kill switch'
  c_rule "$(ks_rule 'main suppress_prefixlength 0')"
  c_rule "$(ks_rule "$KS_TABLE")"
  if [ "$POLICY" = fail-closed ]; then
    c_nft 'ip daddr @allowed' accept
    c_nft "ct mark $CT_MARK accept" 'arrived on the uplink'
    c_nft 'fail-closed: nothing else leaves' reject
    c_route default prohibit "$KS_TABLE"
    if nft list table netdev egress >/dev/null 2>&1; then
      n=$NFT NFT=$(nft list table netdev egress)
      c_nft "device \"$UPLINK\"" 'hook egress'
      c_nft 'fail-closed: frames that bypassed' drop
      NFT=$n
    else
      warn "no netdev egress guard on $UPLINK: frames sent by AF_PACKET are not guarded (kernel 5.16+ has the hook)"
    fi
  else
    c_get "$PROBE_ADDRESS" " table $KS_TABLE " oif "$UPLINK"
  fi
  end
}
pin() { route_set "$2" "$VPC_ROUTER" "$UPLINK"; }
c_pin() { group "$1"; c_route "$2" "via $VPC_ROUTER dev $UPLINK "; c_get "$3" "dev $UPLINK "; }
apply_pins() { log 'pin the underlay, the VPCs and the AWS link-local services via the VPC router on the uplink'; pins pin; }
down_pins() { ip route flush proto "$PROTO" 2>/dev/null; }
check_pins() { pins c_pin; ungroup; }
apply_defaults() {
  log "default egress via $DEFAULT_DEV ($DEFAULT_VIA, $DEFAULT_GATEWAY); the original default route stays"
  for h in 0.0.0.0/1 128.0.0.0/1; do
    [ -n "$(ip route show exact "$h" proto "$PROTO")" ] || route_set "$h" "$DEFAULT_VIA" "$DEFAULT_DEV"
  done
}
down_defaults() {
  ip route del 0.0.0.0/1 proto "$PROTO" 2>/dev/null
  ip route del 128.0.0.0/1 proto "$PROTO" 2>/dev/null
}
check_defaults() { begin route.default-via-tunnel; c_default; end; }
c_default() {
  find_active
  if [ "$ACT" = 0 ]; then fact false "0.0.0.0/1: ${HALF:-no route}; want via a gateway tunnel"; return; fi
  eval "d=\$D_$ACT v=\$V_$ACT"
  c_route 0.0.0.0/1 "via $v dev $d "; c_route 128.0.0.0/1 "via $v dev $d "; c_get "$PROBE_ADDRESS" "dev $d "
}
# shellcheck disable=SC2034 # read through eval ($N_$ACT with ACT=0)
N_0=- D_0=- V_0=- GW_N=0 APPLIED="$RUN_DIR/applied"
gateway_add() { GW_N=$((GW_N + 1)); eval "N_$GW_N=\$1 D_$GW_N=\$2 V_$GW_N=\$3"; }
gateways gateway_add
apply_watch() {
  n='' i=1
  while [ "$i" -le "$GW_N" ]; do eval "n=\"\${n:+\$n, }\$N_$i\""; i=$((i + 1)); done
  log "failover watcher: $n every $PROBE_MS ms, $POLICY"
  if ! mkdir -p "$RUN_DIR" || ! : >"$APPLIED"; then abort "cannot write $APPLIED"; fi
}
down_watch() { rm -f "$RUN_DIR/failover" "$APPLIED"; }
check_watch() {
  LIVE=
  begin failover.watcher
  if watcher; then fact true "pid $WPID"; else fact false "not running: $WHY"; fi
  end
  gateways c_gateway
  begin failover.active-gateway
  c_live
  end
}
c_gateway() {
  begin "failover.gateway.$1"
  w=
  [ -z "$WPID" ] || w=$(grep "^gateway $1 " "$RUN_DIR/failover" 2>/dev/null | cut -d' ' -f3)
  if ping -n -q -c 1 -W 1 -I "$2" "$3" >/dev/null 2>&1; then LIVE="$LIVE $2"; fact true "$3 answers via $2; watcher: ${w:-not running}"
  else fact false "$3 does not answer via $2; watcher: ${w:-not running}"; fi
  end
}
c_live() {
  find_active
  eval "n=\$N_$ACT d=\$D_$ACT"
  case "$ACT $HALF" in
    "0 "*" realm $REALM"*) fact false "no gateway alive: egress refused ($POLICY)" ;;
    "0 ") fact false "no gateway active: egress leaves by the own internet gateway ($POLICY)" ;;
    0*) fact false "no gateway active" ;;
    *) case "$LIVE " in *" $d "*) fact true "$n ($d)" ;; *) fact false "$n ($d) does not answer" ;; esac ;;
  esac
}
ACT=0 WATCH=0 CH='' FIRST=1
event() {
  n='' d='' v=''
  eval "n=\$N_$2 d=\$D_$2 v=\$V_$2"
  CH=1
  if [ "$WATCH" = 0 ]; then echo "$t $1 $n $3"; return; fi
  ts=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  case $1 in route | none)
    lock "watch: $1 $n" "$ts" || { log "$1 $n: $3; deferred: $LOCK is held by ${HOLDER:-unknown}"; return 1; }
    [ -f "$APPLIED" ] || { exec 9>&-; log "$1 $n: $3; egress is not applied ($APPLIED missing): routes left alone"; return; } ;;
  esac
  case $1 in
    route) msg="egress via $n ($d $v): $3"
      halves "$2" || msg="$msg; ROUTE CHANGE FAILED"
      dns_follow "$v" ;;
    none) if [ "$POLICY" = fail-open ]; then
        msg="FAIL-OPEN: $3: egress now leaves by this host's own internet gateway and address"
        halves 0
        dns_follow local
      else
        msg="fail-closed: $3: egress refused until a gateway answers (SSH, IMDS, VPC still work)"
        halves 0 || msg="$msg; ROUTE CHANGE FAILED"
        dns_follow none
      fi ;;
    *) msg="gateway $n $1: $3" ;;
  esac
  case $1 in route | none) exec 9>&- ;; esac
  log "$ts $msg"
  printf '%s %s\n' "$ts" "$msg" >>"$RUN_DIR/failover.log"
}
step() {
  t=$1 i=1 CH=
  shift
  while [ "$i" -le "$GW_N" ]; do
    eval "s=\${S_$i:-up} m=\${M_$i:-0} a=\${A_$i:-0} since=\${T_$i:-$t}"
    if [ "$1" = 1 ]; then
      a=$((a + 1)) m=0
      if [ "$s" = down ] && [ "$a" -ge "$UP_AFTER" ]; then s=up since=$t; event up "$i" "$a answers in a row"; fi
    else
      m=$((m + 1)) a=0
      if [ "$s" = up ] && [ "$m" -ge "$DOWN_AFTER" ]; then s=down since=$t; event down "$i" "$m missed probes"; fi
    fi
    eval "S_$i=\$s M_$i=\$m A_$i=\$a T_$i=\$since"
    shift
    i=$((i + 1))
  done
  l=
  if [ "$ACT" -gt 0 ]; then eval "[ \"\$S_$ACT\" = up ]" && l=1; fi
  b=0 i=1
  while [ "$b" = 0 ] && [ "$i" -le "$GW_N" ]; do
    eval "s=\$S_$i since=\$T_$i"
    if [ "$s" = up ] && { [ -z "$l" ] || [ "$i" = "$ACT" ] || { [ "$FAILBACK" = 1 ] && [ $((t - since)) -ge "$HOLD_MS" ]; }; }; then b=$i; fi
    i=$((i + 1))
  done
  if [ "$b" != "$ACT" ]; then
    na='' tb=''
    eval "na=\$N_$ACT tb=\${T_$b:-0}"
    if [ "$b" = 0 ]; then r="every gateway is down"; elif [ "$ACT" = 0 ]; then r="no gateway was active"
    elif [ -z "$l" ]; then r="$na is down"; else r="failback: up for $((t - tb)) ms (hold-down $HOLD_MS ms)"; fi
    if [ "$b" = 0 ]; then event none 0 "$r" && ACT=0; elif event route "$b" "$r"; then ACT=$b; fi
  fi
  [ -n "$CH$FIRST" ] || return 0
  FIRST='' o=''
  eval "o=\"active \$N_$ACT $t\""
  i=1
  while [ "$i" -le "$GW_N" ]; do eval "o=\"\$o
gateway \$N_$i \$S_$i \$T_$i\""; i=$((i + 1)); done
  printf '%s\n' "$o" >"$RUN_DIR/failover"
}
find_active() {
  ACT=0 i=1
  HALF=$(ip route show exact 0.0.0.0/1 2>/dev/null)
  while [ "$i" -le "$GW_N" ]; do eval "case \" \$HALF \" in *\" dev \$D_$i \"*) ACT=$i ;; esac"; i=$((i + 1)); done
}
probe() {
  sleep "$PROBE_S" & z=$!
  i=1
  while [ "$i" -le "$GW_N" ]; do
    eval "d=\$D_$i v=\$V_$i"
    ping -n -q -c 1 -W "$W" -I "$d" "$v" >/dev/null 2>&1 & eval "P_$i=\$!"
    i=$((i + 1))
  done
  r='' p='' i=1
  while [ "$i" -le "$GW_N" ]; do
    eval "p=\$P_$i"
    if wait "$p"; then r="$r 1"; else r="$r 0"; fi
    i=$((i + 1))
  done
  wait "$z"
  printf '%s%s\n' "$(date +%s%3N)" "$r"
}
do_decide() {
  mkdir -p "$RUN_DIR" || die "cannot create $RUN_DIR"
  ACT=${1:-1}
  while read -r t rest; do
    # shellcheck disable=SC2086
    step "$t" $rest
  done
}
watcher() {
  WPID=$(cat "$RUN_DIR/watch.pid" 2>/dev/null) WHY="no watcher has started ($RUN_DIR/watch.pid missing)"
  [ -n "$WPID" ] || return 1
  a=$(tr '\0' ' ' <"/proc/$WPID/cmdline" 2>/dev/null)
  case " $a" in
    *[/\ ]"${0##*/} watch ") ;;
    " ") WHY="watcher pid $WPID is gone"; WPID=; return 1 ;;
    *) WHY="pid $WPID is not the watcher: $a"; WPID=; return 1 ;;
  esac
  own_ns "$WPID" || { WHY="pid $WPID watches another network namespace"; WPID=; return 1; }
}
do_watch() {
  require
  command -v ping >/dev/null 2>&1 || die "'ping' is not installed (iputils-ping)"
  mkdir -p "$RUN_DIR" || die "cannot create $RUN_DIR"
  ! watcher || die "the watcher of $HOST_NAME already runs (pid $WPID)"
  echo "$$" >"$RUN_DIR/watch.pid"
  find_uplink
  [ -n "$UPLINK" ] || die "no interface holds $PRIVATE_IP (is this host $HOST_NAME?)"
  W=$PROBE_S
  ping -n -q -c 1 -W "$W" 127.0.0.1 >/dev/null 2>&1 || { W=1; warn "this ping takes no fractional -W: probes time out after 1 s"; }
  WATCH=1
  find_active
  eval "log \"watching $GW_N gateways every $PROBE_MS ms (down after $DOWN_AFTER misses, up after $UP_AFTER answers, failback $FAILBACK after $HOLD_MS ms, $POLICY); active: \$N_$ACT\""
  NFT_ID=$(nft_id) RAW_ID='' HEAL=0 HEAL_AT=0 HEAL_WAIT=5 HEAL_SAID=''
  if nft list table netdev egress >/dev/null 2>&1; then RAW_ID=$(nft_raw_id); fi
  while :; do
    # shellcheck disable=SC2046
    step $(probe)
    heal
  done
}
heal() {
  HEAL=$((HEAL + 1))
  [ "$HEAL" -ge "$HEAL_AT" ] || return 0
  [ -f "$APPLIED" ] || { [ "$HEAL_SAID" = - ] || log "egress is not applied ($APPLIED missing): routes left alone"; HEAL_SAID=-; return 0; }
  [ "$HEAL_SAID" != - ] || HEAL_SAID=
  w=$(heal_what)
  [ -n "$w" ] || { HEAL_WAIT=5 HEAL_SAID=; return 0; }
  lock "watch: repair" || { log "repair deferred: $LOCK is held by ${HOLDER:-unknown}"; return 0; }
  [ -f "$APPLIED" ] || { exec 9>&-; return 0; }
  log "repairing:$w"
  # shellcheck disable=SC2317 # called by the apply steps
  abort() { log "error: $*"; }
  apply_tunnels
  apply_reply
  apply_killswitch
  apply_pins
  halves "$ACT" || log "cannot restore the halves"
  exec 9>&-
  w=$(heal_what)
  if [ -z "$w" ]; then log "repaired"; HEAL_WAIT=5 HEAL_SAID=; return 0; fi
  [ "$HEAL_SAID" = "$w" ] || log "cannot repair:$w; retrying in $((HEAL_WAIT * PROBE_MS / 1000)) s"
  HEAL_SAID=$w HEAL_AT=$((HEAL + HEAL_WAIT)) HEAL_WAIT=$((HEAL_WAIT * 2))
  [ $((HEAL_WAIT * PROBE_MS)) -le 60000 ] || HEAL_WAIT=$((60000 / PROBE_MS))
}
heal_what() {
  r=$(ip route show table all proto "$PROTO" 2>/dev/null)
  eval "d=\$D_$ACT v=\$V_$ACT"
  h="via $v dev $d "
  [ "$ACT" != 0 ] || h="via $VPC_ROUTER dev $UPLINK "
  for x in 0.0.0.0/1 128.0.0.0/1; do
    if [ "$ACT" = 0 ] && [ "$POLICY" = fail-open ]; then
      case "$r" in "$x "* | *"
$x "*) echo " $x should not exist (fail-open)" ;; esac
    else
      case "$r" in "$x $h"* | *"
$x $h"*) ;; *) echo " $x ${h% }" ;; esac
    fi
  done
  [ $((HEAL % 5)) = 0 ] || [ -n "$HEAL_SAID" ] || return 0
  case "$r" in *"default "*" table $MGMT_TABLE "*) ;; *) echo " table $MGMT_TABLE" ;; esac
  x=" table $KS_TABLE "
  [ "$POLICY" = fail-open ] || x="prohibit default table $KS_TABLE "
  case "$r" in *"$x"*) ;; *) echo " table $KS_TABLE" ;; esac
  tunnels heal_tunnel
  x=$(ip rule show)
  for y in "fwmark $MARK lookup $MGMT_TABLE" "$(ks_rule 'main suppress_prefixlength 0')" "$(ks_rule "$KS_TABLE")"; do
    case "$x" in *"$y"*) ;; *) echo " rule $y" ;; esac
  done
  nft list table ip egress 2>/dev/null | grep -qF "comment \"$NFT_ID\"" || echo " table ip egress"
  [ -z "$RAW_ID" ] || nft list table netdev egress 2>/dev/null | grep -qF "comment \"$RAW_ID\"" || echo " table netdev egress"
}
heal_tunnel() { case "$(ip -o -4 addr show dev "$1" up 2>/dev/null)" in *" inet $5 "*) ;; *) echo " $1 ($5, up)" ;; esac; }
halves() {
  eval "d=\$D_$1 v=\$V_$1"
  k="route replace default via $VPC_ROUTER dev $UPLINK table $KS_TABLE proto $PROTO" kr="$k realm $REALM"
  [ "$POLICY" = fail-open ] || k="route replace prohibit default table $KS_TABLE proto $PROTO" kr=$k
  if [ "$1" != 0 ]; then
    printf '%s\n' "route replace 0.0.0.0/1 via $v dev $d proto $PROTO" "route replace 128.0.0.0/1 via $v dev $d proto $PROTO" "$kr" | ip -batch -
  elif [ "$POLICY" = fail-open ]; then
    printf '%s\n' "route del 0.0.0.0/1 proto $PROTO" "route del 128.0.0.0/1 proto $PROTO" "$k" | ip -force -batch -
  else
    printf '%s\n' "route replace 0.0.0.0/1 via $VPC_ROUTER dev $UPLINK realm $REALM proto $PROTO" \
      "route replace 128.0.0.0/1 via $VPC_ROUTER dev $UPLINK realm $REALM proto $PROTO" "$kr" | ip -batch -
  fi
}
RESOLV=${EGRESS_RESOLV_CONF:-/etc/resolv.conf}
SAVED="${EGRESS_STATE_DIR:-/var/lib/egress}/$HOST_NAME"
DNS_SERVERS="$RUN_DIR/dns.servers"
dns_point() {
  {
    for d in $DNS_LOCAL; do echo "server=/$d/$DNS_VPC"; done
    i=1
    while [ "$i" -le "$GW_N" ]; do eval "echo \"server=/\$N_$i.dns.egress.test/\$V_$i\""; i=$((i + 1)); done
    case $1 in none) ;; local) echo "server=$DNS_VPC" ;; *) echo "server=$1" ;; esac
  } >"$DNS_SERVERS.tmp" && mv "$DNS_SERVERS.tmp" "$DNS_SERVERS"
  # shellcheck disable=SC2153 # DPID: set by dns_running (common.sh)
  if dns_running; then kill -HUP "$DPID"; fi
}
dns_follow() { if [ -n "${DNS_VPC:-}" ] && [ -f "$DNS_SERVERS" ]; then dns_point "$1"; fi; }
resolv_save() {
  [ -f "$SAVED/resolv.kind" ] && return 0
  mkdir -p "$SAVED" || abort "cannot create $SAVED"
  grep -E '^(search|domain)[[:space:]]' "$RESOLV" >"$SAVED/resolv.search" 2>/dev/null
  if grep -q "^# egress-host $HOST_NAME:" "$RESOLV" 2>/dev/null; then
    warn "$RESOLV is egress's own but $SAVED has no original: down will write 'nameserver $DNS_VPC'"
    printf 'nameserver %s\n' "$DNS_VPC" >"$SAVED/resolv.orig" && k='file'
  elif [ -L "$RESOLV" ]; then readlink "$RESOLV" >"$SAVED/resolv.link" && k='link'
  elif [ -e "$RESOLV" ]; then cp -p "$RESOLV" "$SAVED/resolv.orig" && k='file'
  else k='absent'; fi || abort "cannot save $RESOLV to $SAVED"
  echo "$k" >"$SAVED/resolv.kind"
}
resolv_restore() {
  [ -f "$SAVED/resolv.kind" ] || return 0
  case $(cat "$SAVED/resolv.kind") in
    link) rm -f "$RESOLV" && ln -s "$(cat "$SAVED/resolv.link")" "$RESOLV" ;;
    file) cat "$SAVED/resolv.orig" >"$RESOLV" ;;
    absent) rm -f "$RESOLV" ;;
  esac || { log "error: cannot restore $RESOLV; its original is kept in $SAVED"; return 0; }
  log "restored $RESOLV"
  rm -f "$SAVED"/resolv.*
  rmdir "$SAVED" 2>/dev/null
  return 0
}
resolv_text() {
  printf '# egress-host %s: names via the dns stub on 127.0.0.1; egress-host down restores the original\n' "$HOST_NAME"
  printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n'
  cat "$SAVED/resolv.search" 2>/dev/null
}
apply_dns() {
  if [ "$NETNS_ONLY" = 1 ] && [ "$RESOLV" = /etc/resolv.conf ] && ! grep -q ' /etc/resolv.conf ' /proc/self/mountinfo; then
    abort "EGRESS_NETNS_ONLY=1 but /etc/resolv.conf is the machine's, not this namespace's: create /etc/netns/NAMESPACE/resolv.conf or set EGRESS_RESOLV_CONF"
  fi
  log "dns stub (dnsmasq on 127.0.0.1): internet names via the active gateway, $DNS_LOCAL via $DNS_VPC; $RESOLV points at it"
  find_active
  eval "v=\$V_$ACT"
  if [ "$ACT" = 0 ]; then case $HALF in *realm*) v=none ;; *) v=local ;; esac; fi
  mkdir -p "$RUN_DIR" || abort "cannot create $RUN_DIR"
  dns_point "$v"
  dns_start --user=root --listen-address=127.0.0.1 "--servers-file=$DNS_SERVERS"
  resolv_save
  t=$(resolv_text)
  if [ -L "$RESOLV" ] || [ "$(cat "$RESOLV" 2>/dev/null)" != "$t" ]; then
    if [ -L "$RESOLV" ]; then rm -f "$RESOLV" || abort "cannot replace the symlink $RESOLV"; fi
    printf '%s\n' "$t" >"$RESOLV" || abort "cannot write $RESOLV"
  fi
}
down_dns() {
  resolv_restore
  dns_stop
  rm -f "$DNS_SERVERS"
}
check_dns() {
  begin dns.stub; c_dns_running; end
  begin dns.resolv-conf
  n=$(awk '$1 == "nameserver" { printf "%s ", $2 }' "$RESOLV" 2>/dev/null)
  if [ "$n" = "127.0.0.1 " ]; then fact true "$RESOLV: nameserver 127.0.0.1"; else fact false "$RESOLV: nameserver ${n:-none}; want 127.0.0.1 only"; fi
  end
  begin dns.via-gateway
  find_active
  if [ "$ACT" = 0 ]; then
    fact false "no gateway active: internet names are $(grep -q '^server=[0-9]' "$DNS_SERVERS" 2>/dev/null && echo "resolved locally" || echo refused)"
  else
    eval "n=\$N_$ACT v=\$V_$ACT"
    if grep -qx "server=$v" "$DNS_SERVERS" 2>/dev/null; then fact true "internet names to $n's forwarder $v"; else fact false "the stub does not send internet names to $n ($v)"; fi
    q="$(echo "$v" | sed 's/\./-/g').$n.dns.egress.test"
    a=$(getent ahostsv4 "$q" 2>/dev/null | awk 'NR == 1 { print $1 }')
    if [ "$a" = "$v" ]; then fact true "$n's forwarder answers through the tunnel"; else fact false "$q: ${a:-no answer} via the stub; want $v"; fi
  fi
  end
}
V6_ONLINK=
v6_onlink() {
  ip -6 -o route show dev "$UPLINK" 2>/dev/null |
    awk '$1 ~ /:/ && $1 !~ /^(fe80|ff)/ && $0 !~ / via / { printf "%s%s", s, $1; s = ", " }'
}
v6_body() {
  a=$V6_ALLOW
  [ -z "$V6_ONLINK" ] || a="$a, $V6_ONLINK"
  for c in output forward; do
    cat <<EOF6
  chain $c {
    type filter hook $c priority filter; policy accept;
    oifname "$UPLINK" icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept comment "neighbour discovery"
    oifname "$UPLINK" ip6 daddr { $a } accept comment "link-local, link multicast, AWS services, the subnet"
    oifname "$UPLINK" ct mark $CT_MARK accept comment "replies on connections that arrived on the uplink"
    oifname "$UPLINK" counter reject with icmpv6 type admin-prohibited comment "IPv6 kill switch: the gateway path is IPv4 only"
  }
EOF6
  done
  cat <<EOF6
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    iifname "$UPLINK" ct state new ct mark set $CT_MARK comment "arrived on the uplink"
  }
EOF6
}
v6_id() { printf 'egress-host %s %s uplink %s' "$HOST_NAME" "$(v6_body | cksum | cut -d' ' -f1)" "$UPLINK"; }
v6_has() { [ -e /proc/net/if_inet6 ]; }
v6_off() { [ "$(cat "/proc/sys/net/ipv6/conf/$UPLINK/disable_ipv6" 2>/dev/null)" = 1 ]; }
apply_ipv6() {
  v6_has || { warn "this kernel has no IPv6: nothing to block"; return 0; }
  V6_ONLINK=$(v6_onlink)
  log "IPv6 kill switch: new IPv6 leaves $UPLINK only for ${V6_ALLOW}${V6_ONLINK:+, $V6_ONLINK} (table ip6 egress; IPv6 is not carried through the gateway)"
  if nft list table ip6 egress 2>/dev/null | grep -qF "comment \"$(v6_id)\""; then return 0; fi
  printf 'table ip6 egress {}\ndelete table ip6 egress\ntable ip6 egress {\n  comment "%s"\n%s\n}\n' "$(v6_id)" "$(v6_body)" |
    nft -f - || abort "nft rejected table ip6 egress"
  log "table ip6 egress replaced"
}
down_ipv6() { if nft list table ip6 egress >/dev/null 2>&1; then nft delete table ip6 egress || log "error: cannot delete table ip6 egress"; fi; }
check_ipv6() {
  begin killswitch.ipv6
  if ! v6_has; then fact true "this kernel has no IPv6: nothing leaves by IPv6"; end; return; fi
  t=$(nft list table ip6 egress 2>/dev/null)
  if printf '%s\n' "$t" | grep -F "oifname \"$UPLINK\"" | grep -F 'IPv6 kill switch' | grep -qF reject; then
    V6_ONLINK=$(v6_onlink)
    fact true "table ip6 egress refuses new IPv6 out of $UPLINK except ${V6_ALLOW}${V6_ONLINK:+, $V6_ONLINK}; IPv6 is not carried through the gateway"
    printf '%s\n' "$t" | grep -qF "comment \"$(v6_id)\"" ||
      warn "table ip6 egress allows other on-link prefixes than $UPLINK has now (${V6_ONLINK:-none}): run apply to update it"
  elif v6_off; then
    fact true "IPv6 is disabled on $UPLINK: nothing leaves it by IPv6"
  else
    r=$(ip -6 -o route get 2001:db8::1 2>/dev/null | sed 's/ *\\.*//')
    case "$r" in
      *" dev "*) fact false "IPv6 bypasses egress: 'route get 2001:db8::1' is '$r' and table ip6 egress (its block on $UPLINK) is missing: run egress-host apply" ;;
      *) fact false "table ip6 egress (its block on $UPLINK) is missing: an IPv6 route (a router advertisement) would bypass egress; run egress-host apply" ;;
    esac
  fi
  end
}
case "${1:-}" in
  apply) require; locked apply; do_apply ;;
  check) do_check ;;
  down) require; find_uplink; locked down; do_down ;;
  status) do_status ;;
  watch | decide) case "|$VERBS|" in *"|$1|"*) "do_$1" "${2:-}" ;; *) echo "usage: $0 $VERBS" >&2; exit 2 ;; esac ;;
  *) echo "usage: $0 $VERBS" >&2; exit 2 ;;
esac
