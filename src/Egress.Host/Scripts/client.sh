# ---- client.sh: a client's steps (its egress leaves through a gateway's tunnel) and the failover watcher.
#   watch   the failover watcher (systemd runs it): probe the gateways, move the default halves (docs/failover.md)
#   decide [ACTIVE]  the watcher's rules on stdin rounds 'MS 1|0...' (for tests); prints 'MS EVENT GATEWAY REASON'
# An address on the internet side for route lookups only (RFC 5737; no packet is sent).
PROBE_ADDRESS=192.0.2.1
CT_MARK=$(printf '0x%08x' "$MARK")
# shellcheck disable=SC2034 # VERBS: used by main.sh
VERBS='apply|check|down|status|watch|decide'

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
# c_get ADDRESS WANT [SELECTOR...]: the kernel's route lookup for ADDRESS (e.g. with mark 0x1) reads WANT.
c_get() {
  a=$1 w=$2
  shift 2
  r=$(ip -o route get "$a" "$@" 2>&1 | sed 's/ *\\.*//')
  case "$r" in *"$w"*) fact true "get $a${1:+ $*}: $r" ;; *) fact false "get $a${1:+ $*}: $r; want $w" ;; esac
}
# c_rule TEXT: a policy rule reads TEXT.
c_rule() { if ip rule show | grep -qF -- "$1"; then fact true "rule $1"; else fact false "no rule: $1"; fi; }

# The client's table ip egress: the reply marks (step reply) and the kill switch's chains (step killswitch), written
# as one table by apply_reply. The overlay's own packets arrive on the uplink too but are not management: their mark
# is cleared, or what a tunnel carries would be answered by the uplink with a tunnel source.
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
# Fail-closed's guard on the uplink, whatever the routes say (a deleted tunnel, deleted halves, a marked socket): only the
# allowed destinations (the pins: VPCs, gateways, AWS link-local services; link-local, multicast, broadcast) and replies
# on connections that arrived on the uplink (the connection's mark, which no socket can set) leave; the rest is refused.
nft_closed() {
  [ "$POLICY" = fail-closed ] || return 0
  if [ "${1:-}" = reject ]; then
    echo "    oifname \"$UPLINK\" counter reject with icmp type admin-prohibited comment \"fail-closed: nothing else leaves the uplink, whatever the routes say\""
  else
    echo "    oifname \"$UPLINK\" ip daddr @allowed accept comment \"not the internet\""
    echo "    oifname \"$UPLINK\" ct mark $CT_MARK accept comment \"replies on connections that arrived on the uplink\""
  fi
}
# nft_raw_body: the same guard at the uplink's netdev egress hook (kernel 5.16+), for frames that never met the IP stack's
# hooks (AF_PACKET to the router's MAC): only the allowed destinations and packets carrying the reply mark leave. (A
# process with CAP_NET_RAW can set that mark too; docs/host.md says why that is outside the kill switch's reach.)
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
# nft_raw_apply: replaces table netdev egress unless current; a kernel without the egress hook gets a warning.
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

# Step reply: connections that arrive on the uplink are answered via the uplink (ct mark -> fwmark -> table MGMT_TABLE).
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

# Step killswitch: nothing new leaves the uplink for the internet. Rule KS_PRIORITY looks up main without its default,
# then rule KS_PRIORITY+1 table KS_TABLE. Fail-open: only for sockets bound to the uplink, and the table's default via
# the uplink carries realm REALM, which nftables refuses; the watcher owns it while the halves exist (fail-open takes the
# realm off); when they do not, apply is about to route via the primary, so it is armed again. Fail-closed: for every
# lookup, and the table's default is prohibit, which needs no device: with the halves gone (a deleted or downed tunnel,
# its address flushed, a hand-deleted route) nothing falls through to the host's own default route. nftables' own guard
# (nft_closed) stands beside it; each holds when the other is damaged (docs/host.md).
ks_clear() { for _ in 1 2 3 4; do [ -n "$(ip rule show priority "$1")" ] && ip rule del priority "$1"; done 2>/dev/null; }
ks_rule() { if [ "$POLICY" = fail-closed ]; then echo "from all lookup $1"; else echo "from all oif $UPLINK lookup $1"; fi; }
apply_killswitch() {
  log "kill switch: nothing new leaves the uplink for the internet (rules $KS_PRIORITY-$((KS_PRIORITY + 1)), table $KS_TABLE, realm $REALM, $POLICY)"
  o=
  [ "$POLICY" = fail-closed ] || o="oif $UPLINK"
  # A rule at these priorities that is not this policy's (an older script's) is replaced.
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

# Step pins: the underlay, the VPCs and the AWS link-local services via the VPC router on the uplink, so they never
# enter the tunnel. Item: INVARIANT DESTINATION ADDRESS (an address in DESTINATION for check's route lookup).
pin() { route_set "$2" "$VPC_ROUTER" "$UPLINK"; }
# c_pin INVARIANT DEST ADDRESS: egress's pin for DEST exists and the lookup for ADDRESS in it leaves by the uplink.
c_pin() { group "$1"; c_route "$2" "via $VPC_ROUTER dev $UPLINK "; c_get "$3" "dev $UPLINK "; }
apply_pins() { log 'pin the underlay, the VPCs and the AWS link-local services via the VPC router on the uplink'; pins pin; }
down_pins() { ip route flush proto "$PROTO" 2>/dev/null; }
check_pins() { pins c_pin; ungroup; }

# Step defaults: 0.0.0.0/1 and 128.0.0.0/1 via the primary gateway's tunnel; the original default route stays, so
# removing the two halves fails open. Only when egress has no half yet: afterwards the watcher owns them.
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
# c_default: both default halves go through one gateway's tunnel (sets ACT).
c_default() {
  find_active
  if [ "$ACT" = 0 ]; then fact false "0.0.0.0/1: ${HALF:-no route}; want via a gateway tunnel"; return; fi
  eval "d=\$D_$ACT v=\$V_$ACT"
  c_route 0.0.0.0/1 "via $v dev $d "; c_route 128.0.0.0/1 "via $v dev $d "; c_get "$PROBE_ADDRESS" "dev $d "
}

# Step watch: the failover watcher (its own verb, run by systemd); apply only announces it, down forgets its state.
# Gateways in order of preference: item NAME TUNNEL ADDRESS, kept as N_i, D_i, V_i (index 0 = none).
# shellcheck disable=SC2034 # read through eval ($N_$ACT with ACT=0)
N_0=- D_0=- V_0=- GW_N=0 APPLIED="$RUN_DIR/applied"
gateway_add() { GW_N=$((GW_N + 1)); eval "N_$GW_N=\$1 D_$GW_N=\$2 V_$GW_N=\$3"; }
gateways gateway_add
apply_watch() {
  n='' i=1
  while [ "$i" -le "$GW_N" ]; do eval "n=\"\${n:+\$n, }\$N_$i\""; i=$((i + 1)); done
  log "failover watcher: $n every $PROBE_MS ms, $POLICY"
  # The watcher's proof that egress is applied (a deleted tunnel proves nothing): written here, removed by down.
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
# c_gateway NAME TUNNEL ADDRESS: the gateway answers a ping through its tunnel now; the watcher's view as detail.
c_gateway() {
  begin "failover.gateway.$1"
  w=
  [ -z "$WPID" ] || w=$(grep "^gateway $1 " "$RUN_DIR/failover" 2>/dev/null | cut -d' ' -f3)
  if ping -n -q -c 1 -W 1 -I "$2" "$3" >/dev/null 2>&1; then LIVE="$LIVE $2"; fact true "$3 answers via $2; watcher: ${w:-not running}"
  else fact false "$3 does not answer via $2; watcher: ${w:-not running}"; fi
  end
}
# c_live: the gateway the halves go through answers.
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

# The watcher's rules (FailoverMachine is the same in C#; FailoverRulesTests drives both from one table).
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
    # After a manual down the watcher must not put routes back.
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
        # Via the uplink with the kill switch's realm: new traffic is refused by nftables, while replies on
        # connections that arrived on the uplink (any protocol) are routed and pass.
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
# find_active: ACT = the gateway whose tunnel the 0.0.0.0/1 half (HALF) uses (0: none, or fail-closed via the uplink).
find_active() {
  ACT=0 i=1
  HALF=$(ip route show exact 0.0.0.0/1 2>/dev/null)
  while [ "$i" -le "$GW_N" ]; do eval "case \" \$HALF \" in *\" dev \$D_$i \"*) ACT=$i ;; esac"; i=$((i + 1)); done
}
# probe: ping every gateway's tunnel address at once; the round lasts the probe interval; prints MS ANSWERED...
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
  # The netdev guard is repaired only where apply could make it (a kernel with the egress hook).
  if nft list table netdev egress >/dev/null 2>&1; then RAW_ID=$(nft_raw_id); fi
  while :; do
    # shellcheck disable=SC2046
    step $(probe)
    heal
  done
}

# heal: the watcher repairs egress's state. Every round it reads egress's routes (one ip call): the halves must be what
# ACT says; every fifth round also the tunnels, the rules and table ip egress. What is wrong is re-applied under the lock
# (only while $APPLIED exists: never after down), the halves put back for ACT; what stays wrong is logged, and retried
# after 1, 2, 4 ... 60 s. Meanwhile the kill switch holds (fail-closed: prohibit and nftables, each without the other).
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
  # Never roll back from here: a step that fails is logged and the rest goes on.
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
# heal_what: what is damaged (empty: nothing); the deeper look every fifth round, or after a damaged round.
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
# halves I: the halves and table KS_TABLE's default for gateway I, or (I=0) the policy's state with none alive. Table
# KS_TABLE: fail-open: its default keeps the realm (refused) except in fail-open itself; fail-closed: prohibit, always.
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

# Step dns: a DNS stub (dnsmasq on 127.0.0.1) and the system resolver (RESOLV) pointed at it. Internet names go through the
# tunnel to the active gateway's forwarder, DNS_LOCAL (VPC names, AWS endpoints) to this VPC's resolver DNS_VPC. The servers
# file is re-read on SIGHUP: the watcher moves DNS with egress (dns_follow). Down restores RESOLV byte for byte from SAVED
# (a symlink, as systemd-resolved keeps it, as the symlink), kept outside /run so a reboot's re-apply finds it.
RESOLV=${EGRESS_RESOLV_CONF:-/etc/resolv.conf}
SAVED="${EGRESS_STATE_DIR:-/var/lib/egress}/$HOST_NAME"
DNS_SERVERS="$RUN_DIR/dns.servers"
# dns_point ADDRESS|local|none: internet names to a gateway's forwarder, to the VPC resolver (fail-open) or to no one
# (refused at once: fail-closed). VPC names and each gateway's check name (NAME.dns.egress.test) keep their servers.
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
# resolv_save: once (a re-apply, also after a reboot, keeps the first copy): the kind (file, link, absent) and the bytes or
# the link target, and the search/domain lines for the stub's resolv.conf.
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
  # A file is written back in place: the same inode, mode and owner (and a bind mount over it stays).
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
  # A namespace (the lab, tests) has its own resolv.conf only when `ip netns exec` bind-mounted /etc/netns/NS/resolv.conf:
  # never rewrite the machine's.
  if [ "$NETNS_ONLY" = 1 ] && [ "$RESOLV" = /etc/resolv.conf ] && ! grep -q ' /etc/resolv.conf ' /proc/self/mountinfo; then
    abort "EGRESS_NETNS_ONLY=1 but /etc/resolv.conf is the machine's, not this namespace's: create /etc/netns/NAMESPACE/resolv.conf or set EGRESS_RESOLV_CONF"
  fi
  log "dns stub (dnsmasq on 127.0.0.1): internet names via the active gateway, $DNS_LOCAL via $DNS_VPC; $RESOLV points at it"
  find_active
  eval "v=\$V_$ACT"
  if [ "$ACT" = 0 ]; then case $HALF in *realm*) v=none ;; *) v=local ;; esac; fi
  mkdir -p "$RUN_DIR" || abort "cannot create $RUN_DIR"
  dns_point "$v"
  # --user=root: dnsmasq re-reads the servers file on SIGHUP after dropping privileges, and EGRESS_RUN_DIR may be a
  # directory only root can enter (a test's temporary one). It listens on 127.0.0.1 only.
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

# ---- Step ipv6 (issue 24; docs/host.md "IPv6"): the gateway path is IPv4 only, so internet-bound IPv6 is refused.
# On a dual-stack host (EC2 gives IPv6 to any subnet that has a block) IPv6 would leave by the uplink around the tunnel.
# table ip6 egress, its own table (replaced atomically, its comment a checksum as table ip egress's): new IPv6 out of
# the uplink is rejected unless it goes to V6_ALLOW (link-local, link-scope multicast, AWS's IPv6 IMDS/DNS/NTP) or to a
# prefix on the uplink's link (the subnet's /64, found at apply), or belongs to a connection that arrived on the
# uplink (ct mark, as the IPv4 reply path). ND is always allowed. A kernel without IPv6 has nothing to block.
V6_ONLINK=
# v6_onlink: the uplink's on-link IPv6 prefixes (routes with no next hop; not link-local), comma separated.
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
# killswitch.ipv6: holds when the block is in place on this uplink, IPv6 is off on the uplink, or the kernel has none.
# Fails otherwise, naming the route by which IPv6 would leave (a router advertisement can add one at any time).
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
