#!/bin/sh
# egress-host: sg-client, client of stack egress-seed. Rendered by egress from the topology: edit that, not this.
# Usage: egress-host apply|check|down|status|watch|decide
#   apply   tunnel, routes, nftables, sysctls; idempotent; changes kernel state only (systemd re-runs it at boot)
#   check   the invariants as JSON on stdout; exit 1 if any fails
#   down    remove exactly what apply added
#   status  what egress configured, then check
#   watch   the failover watcher (systemd runs it): probe the gateways, move the default halves (docs/failover.md)
#   decide [ACTIVE]  the watcher's rules on stdin rounds 'MS 1|0...' (for tests); prints 'MS EVENT GATEWAY REASON'
# EGRESS_NETNS_ONLY=1 skips machine-wide sysctls (the lab); EGRESS_RUN_DIR (default /run/egress) holds saved sysctls and the lock;
# EGRESS_LOCK_WAIT (seconds, default 30) bounds the wait for another apply, down or watcher route move.
# Overlay gre: tunnel MTU 1476, TCP MSS 1436. Each step explained: docs/host.md.
set -u
HOST_NAME='sg-client'
PRIVATE_IP='10.0.1.10'
VPC_ROUTER='10.0.1.1'
KS_TABLE=1011 REALM=201
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
# c_get ADDRESS WANT [SELECTOR...]: the kernel's route lookup for ADDRESS (e.g. with mark 0x1) reads WANT.
c_get() {
  a=$1 w=$2
  shift 2
  r=$(ip -o route get "$a" "$@" 2>&1 | sed 's/ *\\.*//')
  case "$r" in *"$w"*) fact true "get $a${1:+ $*}: $r" ;; *) fact false "get $a${1:+ $*}: $r; want $w" ;; esac
}
# c_rule TEXT: a policy rule reads TEXT.
c_rule() { if ip rule show | grep -qF -- "$1"; then fact true "rule $1"; else fact false "no rule: $1"; fi; }
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
NFT_ID='ae3cdcac48be'
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
# Failover: gateways in order of preference (index 0 = none).
# shellcheck disable=SC2034
N_0=- D_0=- V_0=-
# shellcheck disable=SC2034
N_1=tokyo-nat D_1=eg1 V_1=192.168.250.1
GW_N=1 POLICY=fail-closed FAILBACK=1 HOLD_MS=5000 DOWN_AFTER=3 UP_AFTER=5
PROBE_MS=200 PROBE_S=0.2
ACT=0 WATCH=0 CH='' FIRST=1
# event KIND INDEX REASON: decide prints it; watch moves the routes (under the lock) and logs it (stderr and
# $RUN_DIR/failover.log). Returns 1 when the lock stays taken: the caller retries the move next round.
event() {
  n='' d='' v=''
  eval "n=\$N_$2 d=\$D_$2 v=\$V_$2"
  CH=1
  if [ "$WATCH" = 0 ]; then echo "$t $1 $n $3"; return; fi
  ts=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  case $1 in route | none)
    lock "watch: $1 $n" "$ts" || { log "$1 $n: $3; deferred: $LOCK is held by ${HOLDER:-unknown}"; return 1; }
    # After a manual down (the tunnels are gone) the watcher must not put routes back.
    ip link show dev "$D_1" >/dev/null 2>&1 || { exec 9>&-; log "$1 $n: $3; egress is not applied ($D_1 missing): routes left alone"; return; } ;;
  esac
  # The kill switch's table: its default keeps the realm (refused) except in fail-open.
  k="route replace default via $VPC_ROUTER dev $UPLINK table $KS_TABLE proto $PROTO"
  case $1 in
    route) msg="egress via $n ($d $v): $3"
      printf '%s\n' "route replace 0.0.0.0/1 via $v dev $d proto $PROTO" "route replace 128.0.0.0/1 via $v dev $d proto $PROTO" "$k realm $REALM" |
        ip -batch - || msg="$msg; ROUTE CHANGE FAILED" ;;
    none) if [ "$POLICY" = fail-open ]; then
        msg="FAIL-OPEN: $3: egress now leaves by this host's own internet gateway and address"
        printf '%s\n' "route del 0.0.0.0/1 proto $PROTO" "route del 128.0.0.0/1 proto $PROTO" "$k" | ip -force -batch -
      else
        # Via the uplink with the kill switch's realm: new traffic is refused by nftables, while replies on
        # connections that arrived on the uplink (any protocol) are routed and pass.
        msg="fail-closed: $3: egress refused until a gateway answers (SSH, IMDS, VPC still work)"
        printf '%s\n' "route replace 0.0.0.0/1 via $VPC_ROUTER dev $UPLINK realm $REALM proto $PROTO" \
          "route replace 128.0.0.0/1 via $VPC_ROUTER dev $UPLINK realm $REALM proto $PROTO" "$k realm $REALM" | ip -batch - || msg="$msg; ROUTE CHANGE FAILED"
      fi ;;
    *) msg="gateway $n $1: $3" ;;
  esac
  case $1 in route | none) exec 9>&- ;; esac
  log "$ts $msg"
  printf '%s %s\n' "$ts" "$msg" >>"$RUN_DIR/failover.log"
}
# step MS ANSWERED...: one probe round through the rules; the first round and every change rewrite $RUN_DIR/failover.
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
# find_active: ACT = the gateway whose tunnel the 0.0.0.0/1 half uses (0: none, or fail-closed via the uplink).
find_active() {
  ACT=0 i=1
  r=" $(ip route show exact 0.0.0.0/1 2>/dev/null) "
  while [ "$i" -le "$GW_N" ]; do eval "case \"\$r\" in *\" dev \$D_$i \"*) ACT=$i ;; esac"; i=$((i + 1)); done
}
do_decide() {
  mkdir -p "$RUN_DIR" || die "cannot create $RUN_DIR"
  ACT=${1:-1}
  while read -r t rest; do
    # shellcheck disable=SC2086
    step "$t" $rest
  done
}
# watcher: WPID = this host's running watcher, judged from its process (the pid file alone proves nothing): alive,
# running this script's watch, in this network namespace. Else WPID is empty and WHY says why.
watcher() {
  WPID=$(cat "$RUN_DIR/watch.pid" 2>/dev/null) WHY="no watcher has started ($RUN_DIR/watch.pid missing)"
  [ -n "$WPID" ] || return 1
  a=$(tr '\0' ' ' <"/proc/$WPID/cmdline" 2>/dev/null)
  case " $a" in
    *[/\ ]"${0##*/} watch ") ;;
    " ") WHY="watcher pid $WPID is gone"; WPID=; return 1 ;;
    *) WHY="pid $WPID is not the watcher: $a"; WPID=; return 1 ;;
  esac
  [ "$(readlink "/proc/$WPID/ns/net")" = "$(readlink /proc/self/ns/net)" ] || { WHY="pid $WPID watches another network namespace"; WPID=; return 1; }
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
  while :; do
    # shellcheck disable=SC2046
    step $(probe)
  done
}
# c_gateway NAME TUNNEL ADDRESS: the gateway answers a ping through its tunnel now; the watcher's view as detail.
c_gateway() {
  w=
  [ -z "$WPID" ] || w=$(grep "^gateway $1 " "$RUN_DIR/failover" 2>/dev/null | cut -d' ' -f3)
  if ping -n -q -c 1 -W 1 -I "$2" "$3" >/dev/null 2>&1; then LIVE="$LIVE $2"; fact true "$3 answers via $2; watcher: ${w:-not running}"
  else fact false "$3 does not answer via $2; watcher: ${w:-not running}"; fi
}
# c_default: both default halves go through one gateway's tunnel (sets ACT); c_live: that gateway answers.
c_default() {
  find_active
  r=$(ip route show exact 0.0.0.0/1 2>/dev/null)
  if [ "$ACT" = 0 ]; then fact false "0.0.0.0/1: ${r:-no route}; want via a gateway tunnel"; return; fi
  eval "d=\$D_$ACT v=\$V_$ACT"
  c_route 0.0.0.0/1 "via $v dev $d "; c_route 128.0.0.0/1 "via $v dev $d "; c_get 192.0.2.1 "dev $d "
}
c_live() {
  eval "n=\$N_$ACT d=\$D_$ACT"
  case "$ACT $r" in
    "0 "*" realm $REALM"*) fact false "no gateway alive: egress refused ($POLICY)" ;;
    "0 ") fact false "no gateway active: egress leaves by the own internet gateway ($POLICY)" ;;
    0*) fact false "no gateway active" ;;
    *) case "$LIVE " in *" $d "*) fact true "$n ($d)" ;; *) fact false "$n ($d) does not answer" ;; esac ;;
  esac
}
# probe: ping every gateway's tunnel address at once; the round lasts the probe interval; prints MS ANSWERED...
probe() {
  sleep "$PROBE_S" & z=$!
  ping -n -q -c 1 -W "$W" -I eg1 192.168.250.1 >/dev/null 2>&1 & p1=$!
  r=
  if wait "$p1"; then r="$r 1"; else r="$r 0"; fi
  wait "$z"
  printf '%s%s\n' "$(date +%s%3N)" "$r"
}
do_apply() {
  require
  find_uplink
  [ -n "$UPLINK" ] || die "no interface holds $PRIVATE_IP (is this host $HOST_NAME?); nothing was changed"
  log 'tunnel eg1 (gre) to tokyo-nat 10.1.1.10, 192.168.250.2/30, mtu 1476'
  tunnel eg1 10.0.1.10 10.1.1.10 1 192.168.250.2/30 1476
  log 'sysctls (a changed value is saved for down)'
  sysctl_set net/ipv4/conf/all/rp_filter 0
  sysctl_set net/ipv4/conf/default/rp_filter 0
  sysctl_set net/ipv4/conf/"$UPLINK"/rp_filter 0
  sysctl_set net/ipv4/conf/eg1/rp_filter 0
  sysctl_set net/ipv4/tcp_congestion_control bbr ns bbr
  sysctl_set net/core/default_qdisc fq machine fq
  sysctl_set net/ipv4/tcp_fwmark_accept 1
  sysctl_set net/ipv4/fwmark_reflect 1
  sysctl_set net/ipv4/tcp_slow_start_after_idle 0
  log 'answer connections that arrive on the uplink via the uplink (fwmark 0x1 -> table 1010)'
  nft_apply <<EOF
table ip egress {
  comment "$(nft_id)"
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    iifname "$UPLINK" ip protocol 47 ct mark set 0x00000000 return comment "the overlay: what it carries is answered through its tunnel"
    iifname "$UPLINK" ct state new ct mark set 0x00000001 comment "arrived on the uplink"
    ct mark 0x00000001 meta mark set ct mark comment "incoming packets carry the mark: sockets and replies route by it"
  }
  chain output {
    type route hook output priority mangle; policy accept;
    ct mark 0x00000001 meta mark set ct mark comment "reply via the uplink"
  }
  chain input {
    type filter hook input priority filter; policy accept;
    ip protocol 47 ip saddr != { 10.1.1.10 } counter drop comment "overlay packets only from the gateways"
  }
  chain killswitch {
    type filter hook output priority filter; policy accept;
    oifname "$UPLINK" ip saddr { 192.168.250.2 } counter drop comment "a tunnel address never leaves by the uplink"
    oifname "$UPLINK" meta rtclassid 201 ct mark != 0x00000001 counter reject with icmp type admin-prohibited comment "kill switch: nothing new leaves the uplink for the internet"
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    oifname "$UPLINK" meta rtclassid 201 ct mark != 0x00000001 counter reject with icmp type admin-prohibited comment "kill switch: fail-closed"
  }
}
EOF
  route_set default "$VPC_ROUTER" "$UPLINK" 1010
  ip rule show | grep -q "fwmark 0x1 lookup 1010" || run ip rule add priority 1010 fwmark 0x1 lookup 1010
  log 'kill switch: nothing new leaves the uplink for the internet (rules 1011-1012, table 1011, realm 201)'
  ip rule show | grep -q "oif $UPLINK lookup main suppress_prefixlength 0" || run ip rule add priority 1011 oif "$UPLINK" lookup main suppress_prefixlength 0
  ip rule show | grep -q "oif $UPLINK lookup 1011" || run ip rule add priority 1012 oif "$UPLINK" lookup 1011
  { [ -n "$(ip route show exact 0.0.0.0/1 proto "$PROTO")" ] && [ -n "$(ip route show table 1011 exact default proto "$PROTO")" ]; } ||
    run ip route replace default via "$VPC_ROUTER" dev "$UPLINK" table 1011 realm 201 proto "$PROTO"
  log 'pin the underlay, the VPCs and the AWS link-local services via the VPC router on the uplink'
  route_set 10.1.1.10/32 "$VPC_ROUTER" "$UPLINK"
  route_set 10.0.0.0/16 "$VPC_ROUTER" "$UPLINK"
  route_set 10.1.0.0/16 "$VPC_ROUTER" "$UPLINK"
  route_set 169.254.169.254/32 "$VPC_ROUTER" "$UPLINK"
  route_set 169.254.169.253/32 "$VPC_ROUTER" "$UPLINK"
  route_set 169.254.169.123/32 "$VPC_ROUTER" "$UPLINK"
  log 'default egress via eg1 (192.168.250.1, tokyo-nat); the original default route stays'
  [ -n "$(ip route show exact 0.0.0.0/1 proto "$PROTO")" ] || route_set 0.0.0.0/1 192.168.250.1 eg1
  [ -n "$(ip route show exact 128.0.0.0/1 proto "$PROTO")" ] || route_set 128.0.0.0/1 192.168.250.1 eg1
  log 'failover watcher: tokyo-nat every 200 ms, fail-closed'
  log "applied: $HOST_NAME egresses via its tunnel; run check to verify"
}

do_down() {
  ip route del 0.0.0.0/1 proto "$PROTO" 2>/dev/null
  ip route del 128.0.0.0/1 proto "$PROTO" 2>/dev/null
  rm -f "$RUN_DIR/failover"
  ip route flush proto "$PROTO" 2>/dev/null
  while ip rule del priority 1010 fwmark 0x1 lookup 1010 2>/dev/null; do :; done
  ip route flush table 1010 proto "$PROTO" 2>/dev/null
  while ip rule del priority 1011 lookup main 2>/dev/null; do :; done
  while ip rule del priority 1012 lookup 1011 2>/dev/null; do :; done
  ip route flush table 1011 proto "$PROTO" 2>/dev/null
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
  c_tunnel eg1 10.0.1.10 10.1.1.10 1 192.168.250.2/30
  end
  begin tunnel.mtu
  c_mtu eg1 1476
  end
  LIVE=
  begin failover.watcher
  if watcher; then fact true "pid $WPID"; else fact false "not running: $WHY"; fi
  end
  begin failover.gateway.tokyo-nat
  c_gateway tokyo-nat eg1 192.168.250.1
  end
  begin route.default-via-tunnel
  c_default
  end
  begin failover.active-gateway
  c_live
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
  c_nft 'overlay: what it carries' 'ct mark set 0x00000000 return'
  c_rule 'fwmark 0x1 lookup 1010'
  c_route default "via $VPC_ROUTER dev $UPLINK " 1010
  c_get 192.0.2.1 "dev $UPLINK " mark 0x1
  end
  begin killswitch.uplink
  c_nft 'overlay packets only from' drop
  c_nft "oifname \"$UPLINK\" ip saddr" 'tunnel address never leaves'
  c_nft 'rtclassid 201' 'kill switch'
  c_rule "oif $UPLINK lookup main suppress_prefixlength 0"
  c_rule "oif $UPLINK lookup 1011"
  c_get 192.0.2.1 " table 1011 " oif "$UPLINK"
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
  begin mgmt.mark-replies
  c_sysctl net/ipv4/tcp_fwmark_accept 1
  c_sysctl net/ipv4/fwmark_reflect 1
  end
  begin tcp.slow-start-after-idle
  c_sysctl net/ipv4/tcp_slow_start_after_idle 0
  end
  printf '{"host":"%s","ok":%s,"invariants":[%s],"warnings":[%s]}\n' "$HOST_NAME" "$OK" "$ITEMS" "$WARNS"
  [ "$OK" = true ]
}

do_status() {
  find_uplink
  echo "egress-host $HOST_NAME (client), uplink ${UPLINK:-not found}, overlay gre"
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
  watch) do_watch ;;
  decide) do_decide "${2:-1}" ;;
  *) echo "usage: $0 apply|check|down|status|watch|decide" >&2; exit 2 ;;
esac
