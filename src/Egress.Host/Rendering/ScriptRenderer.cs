using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Host.Plan;

namespace Egress.Host.Rendering;

/// <summary>Turns a <see cref="HostPlan"/> into the POSIX sh script with apply, check, down and status.
/// Each plan step contributes its apply lines, its check lines and (implicitly, through what it tags) its down lines.</summary>
internal static class ScriptRenderer
{
    /// <summary>Routes egress adds carry this protocol number, so down removes exactly them and nothing else.</summary>
    public const int RouteProtocol = 201;

    /// <summary>An address on the internet side for route lookups only (RFC 5737; no packet is sent).</summary>
    public static readonly Ipv4Address ProbeAddress = Ipv4Address.Parse("192.0.2.1");

    public static string Render(HostPlan plan)
    {
        var s = new Script();
        Header(s, plan);
        s.Raw(Prelude);
        if (plan.Role == HostRole.Client)
        {
            s.Raw(RouteFunctions);
        }

        Tunnel(s, plan.Overlay);
        var nftDefinition = NftDefinition(plan);
        var nftId = nftDefinition is null ? null : Hash(nftDefinition);
        if (nftId is not null)
        {
            s.Line($"NFT_ID='{nftId}'");
            s.Raw(NftFunctions);
        }

        if (plan.StepsOf<FailoverWatch>().FirstOrDefault() is { } failover)
        {
            Failover(s, failover);
        }

        Apply(s, plan, nftDefinition);
        Down(s, plan);
        Check(s, plan);
        Status(s, plan);
        Main(s, plan);
        return s.ToString();
    }

    private static void Header(Script s, HostPlan plan)
    {
        var role = plan.Role.ToString().ToLowerInvariant();
        var mode = plan.Overlay.ToString().ToLowerInvariant();
        s.Line("#!/bin/sh");
        s.Line($"# egress-host: {plan.Host}, {role} of stack {plan.Stack}. Rendered by egress from the topology: edit that, not this.");
        var watch = plan.StepsOf<FailoverWatch>().FirstOrDefault();
        s.Line(watch is null ? "# Usage: egress-host apply|check|down|status" : "# Usage: egress-host apply|check|down|status|watch|decide");
        s.Line("#   apply   tunnel, routes, nftables, sysctls; idempotent; changes kernel state only (systemd re-runs it at boot)");
        s.Line("#   check   the invariants as JSON on stdout; exit 1 if any fails");
        s.Line("#   down    remove exactly what apply added");
        s.Line("#   status  what egress configured, then check");
        if (watch is not null)
        {
            s.Line("#   watch   the failover watcher (systemd runs it): probe the gateways, move the default halves (docs/failover.md)");
            s.Line("#   decide [ACTIVE]  the watcher's rules on stdin rounds 'MS 1|0...' (for tests); prints 'MS EVENT GATEWAY REASON'");
        }

        s.Line("# EGRESS_NETNS_ONLY=1 skips machine-wide sysctls (the lab); EGRESS_RUN_DIR (default /run/egress) holds saved sysctls and the lock;");
        s.Line("# EGRESS_LOCK_WAIT (seconds, default 30) bounds the wait for another apply, down or watcher route move.");
        s.Line($"# Overlay {mode}: tunnel MTU {plan.TunnelMtu}, TCP MSS {plan.TcpMss}. Each step explained: docs/host.md.");
        s.Line("set -u");
        s.Line($"HOST_NAME='{plan.Host}'");
        s.Line($"PRIVATE_IP='{plan.PrivateIp}'");
        if (plan.Role == HostRole.Client)
        {
            s.Line($"VPC_ROUTER='{plan.VpcRouter}'");
        }

        if (plan.StepsOf<KillSwitch>().FirstOrDefault() is { } k)
        {
            s.Line(Invariant($"KS_TABLE={k.Table} REALM={k.Realm}"));
        }

        s.Line($"PROTO={RouteProtocol}");
        s.Line($"TOOLS='{string.Join(' ', plan.StepsOf<RequireTools>().SelectMany(r => r.Programs))}'");
    }

    // Shared helpers. Kept short: cloud-init must fit EC2's 16 KB user-data limit.
    private const string Prelude = """
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

        """;

    // Only clients route: the gateway's script leaves these out (cloud-init size).
    private const string RouteFunctions = """
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

        """;

    private const string NftFunctions = """
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

        """;

    private static void Tunnel(Script s, OverlayMode mode)
    {
        var add = mode switch
        {
            OverlayMode.Ipip => """ip link add "$1" type ipip local "$2" remote "$3" ttl 64 dev "$UPLINK" """,
            OverlayMode.Gre => """ip link add "$1" type gre local "$2" remote "$3" key "$4" ttl 64 dev "$UPLINK" """,
            // nolearning: the static remote is the only endpoint; a packet from elsewhere never moves the peer's address.
            OverlayMode.Vxlan => $"""ip link add "$1" type vxlan id "$4" local "$2" remote "$3" dstport {CreateTunnel.VxlanPort} nolearning dev "$UPLINK" """,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "resolve overlay mode auto before rendering"),
        };
        var kind = mode.ToString().ToLowerInvariant();
        // ip -d shows e.g. "vxlan id 1 remote R local L ... nolearning", "ipip any remote R local L", "gre remote R local L".
        var signature = mode == OverlayMode.Vxlan ? "\"vxlan id $4 remote $3 local $2 \"*\" nolearning \"" : $"\"{kind}\"*\" remote $3 local $2 \"";
        s.Raw($$"""
            # tunnel_is NAME LOCAL REMOTE KEY: the link exists with exactly these endpoints and settings.
            tunnel_is() { case "$(ip -d -o link show dev "$1" 2>/dev/null)" in *{{signature}}*) return 0 ;; *) return 1 ;; esac; }
            # tunnel NAME LOCAL REMOTE KEY ADDRESS/30 MTU: created once; recreated only if its endpoints or settings changed.
            tunnel() {
              if ip link show dev "$1" >/dev/null 2>&1 && ! tunnel_is "$1" "$2" "$3" "$4"; then
                log "$1 has other endpoints or settings: recreating it"; run ip link del dev "$1"
              fi
              if ! ip link show dev "$1" >/dev/null 2>&1; then
                {{add.TrimEnd()}} || abort "cannot create $1: does this kernel have {{kind}}? (ip link add ... type {{kind}} failed; choose another overlay mode)"
              fi
              run ip link set dev "$1" mtu "$6"
              if [ "$(ip -o -4 addr show dev "$1" | awk '{ print $4 }')" != "$5" ]; then
                run ip addr flush dev "$1"
                run ip addr add "$5" dev "$1"
              fi
              run ip link set dev "$1" up
            }

            """);
    }

    private static void Failover(Script s, FailoverWatch w)
    {
        var f = w.Settings;
        s.Line("# Failover: gateways in order of preference (index 0 = none).");
        s.Line("# shellcheck disable=SC2034");
        s.Line("N_0=- D_0=- V_0=-");
        for (var i = 0; i < w.Gateways.Count; i++)
        {
            var g = w.Gateways[i];
            s.Line("# shellcheck disable=SC2034");
            s.Line(Invariant($"N_{i + 1}={g.Name} D_{i + 1}={g.Tunnel} V_{i + 1}={g.Via}"));
        }

        s.Line(Invariant($"GW_N={w.Gateways.Count} POLICY={(f.Policy == FailurePolicy.FailOpen ? "fail-open" : "fail-closed")} FAILBACK={(f.Failback ? 1 : 0)} HOLD_MS={f.HoldDownMs} DOWN_AFTER={f.DownAfter} UP_AFTER={f.UpAfter}"));
        s.Line(Invariant($"PROBE_MS={f.ProbeIntervalMs} PROBE_S={f.ProbeIntervalMs / 1000m:0.###}"));
        s.Raw(FailoverFunctions);
        s.Line("# probe: ping every gateway's tunnel address at once; the round lasts the probe interval; prints MS ANSWERED...");
        s.Line("probe() {");
        s.Line("  sleep \"$PROBE_S\" & z=$!");
        for (var i = 0; i < w.Gateways.Count; i++)
        {
            var g = w.Gateways[i];
            s.Line(Invariant($"  ping -n -q -c 1 -W \"$W\" -I {g.Tunnel} {g.Via} >/dev/null 2>&1 & p{i + 1}=$!"));
        }

        s.Line("  r=");
        for (var i = 0; i < w.Gateways.Count; i++)
        {
            s.Line(Invariant($"  if wait \"$p{i + 1}\"; then r=\"$r 1\"; else r=\"$r 0\"; fi"));
        }

        s.Line("  wait \"$z\"");
        s.Line("  printf '%s%s\\n' \"$(date +%s%3N)\" \"$r\"");
        s.Line("}");
    }

    // The watcher's rules (FailoverMachine is the same in C#; FailoverRulesTests drives both from one table).
    private const string FailoverFunctions = """
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

        """;

    private static void Apply(Script s, HostPlan plan, string? nftDefinition)
    {
        s.Line("do_apply() {");
        PlanStep? previous = null;
        foreach (var step in plan.Steps)
        {
            // One line per step tells what apply is doing; a run of pins or sysctls is announced once.
            if (step is not (RequireTools or FindUplink) && (previous is null || previous.GetType() != step.GetType() || step is CreateTunnel))
            {
                s.Line($"  log '{LogText(step)}'");
            }

            previous = step;
            switch (step)
            {
                case RequireTools:
                    s.Line("  require");
                    break;
                case FindUplink:
                    s.Line("  find_uplink");
                    s.Line("  [ -n \"$UPLINK\" ] || die \"no interface holds $PRIVATE_IP (is this host $HOST_NAME?); nothing was changed\"");
                    break;
                case CreateTunnel t:
                    s.Line(Invariant($"  tunnel {t.Name} {t.Local} {t.Remote} {t.Key} {t.Address}/{CreateTunnel.PrefixLength} {t.Mtu}"));
                    break;
                case SetSysctl sysctl:
                    s.Line($"  sysctl_set {SysctlArgs(sysctl)}");
                    break;
                case ReplyViaUplink r:
                    s.Line("  nft_apply <<EOF");
                    s.Raw(nftDefinition!);
                    s.Line("EOF");
                    s.Line(Invariant($"  route_set default \"$VPC_ROUTER\" \"$UPLINK\" {r.Table}"));
                    s.Line(Invariant($"  ip rule show | grep -q \"fwmark 0x{r.Mark:x} lookup {r.Table}\" || run ip rule add priority {r.Priority} fwmark 0x{r.Mark:x} lookup {r.Table}"));
                    break;
                case KillSwitch k:
                    // Its nftables rules are in the table above. The table's default belongs to the watcher while the halves exist (fail-open
                    // takes the realm off); when they do not, apply is about to route via the primary, so the kill switch is armed again.
                    s.Line(Invariant($"  ip rule show | grep -q \"oif $UPLINK lookup main suppress_prefixlength 0\" || run ip rule add priority {k.Priority} oif \"$UPLINK\" lookup main suppress_prefixlength 0"));
                    s.Line(Invariant($"  ip rule show | grep -q \"oif $UPLINK lookup {k.Table}\" || run ip rule add priority {k.Priority + 1} oif \"$UPLINK\" lookup {k.Table}"));
                    s.Line(Invariant($"  {{ [ -n \"$(ip route show exact 0.0.0.0/1 proto \"$PROTO\")\" ] && [ -n \"$(ip route show table {k.Table} exact default proto \"$PROTO\")\" ]; }} ||"));
                    s.Line(Invariant($"    run ip route replace default via \"$VPC_ROUTER\" dev \"$UPLINK\" table {k.Table} realm {k.Realm} proto \"$PROTO\""));
                    break;
                case PinRoute pin:
                    s.Line($"  route_set {pin.Destination} \"$VPC_ROUTER\" \"$UPLINK\"");
                    break;
                case DefaultViaTunnel d:
                    // The watcher owns the halves once they exist (it may have moved them to a standby, or to prohibit).
                    foreach (var half in DefaultViaTunnel.Halves)
                    {
                        s.Line($"  [ -n \"$(ip route show exact {half} proto \"$PROTO\")\" ] || route_set {half} {d.Via} {d.Tunnel}");
                    }

                    break;
                case FailoverWatch:
                    break;
                case GatewayFirewall:
                    s.Line("  nft_apply <<EOF");
                    s.Raw(nftDefinition!);
                    s.Line("EOF");
                    break;
                default:
                    throw new NotSupportedException($"No renderer for plan step {step.GetType().Name}.");
            }
        }

        s.Line("  log \"applied: $HOST_NAME egresses via its tunnel; run check to verify\"");
        s.Line("}");
        s.Line();
    }

    private static string LogText(PlanStep step) => (step switch
    {
        SetSysctl => "sysctls (a changed value is saved for down)",
        PinRoute => "pin the underlay, the VPCs and the AWS link-local services via the VPC router on the uplink",
        _ => step.Summary,
    }).Replace("'", string.Empty, StringComparison.Ordinal);

    private static void Down(Script s, HostPlan plan)
    {
        s.Line("do_down() {");
        if (plan.StepsOf<DefaultViaTunnel>().Any())
        {
            foreach (var half in DefaultViaTunnel.Halves)
            {
                s.Line($"  ip route del {half} proto \"$PROTO\" 2>/dev/null");
            }
        }

        if (plan.StepsOf<FailoverWatch>().Any())
        {
            s.Line("  rm -f \"$RUN_DIR/failover\"");
        }

        if (plan.StepsOf<PinRoute>().Any())
        {
            s.Line("  ip route flush proto \"$PROTO\" 2>/dev/null");
        }

        foreach (var r in plan.StepsOf<ReplyViaUplink>())
        {
            s.Line(Invariant($"  while ip rule del priority {r.Priority} fwmark 0x{r.Mark:x} lookup {r.Table} 2>/dev/null; do :; done"));
            s.Line(Invariant($"  ip route flush table {r.Table} proto \"$PROTO\" 2>/dev/null"));
        }

        foreach (var k in plan.StepsOf<KillSwitch>())
        {
            s.Line(Invariant($"  while ip rule del priority {k.Priority} lookup main 2>/dev/null; do :; done"));
            s.Line(Invariant($"  while ip rule del priority {k.Priority + 1} lookup {k.Table} 2>/dev/null; do :; done"));
            s.Line(Invariant($"  ip route flush table {k.Table} proto \"$PROTO\" 2>/dev/null"));
        }

        // Sysctls first: ip_forward goes back to its old value before the gateway's firewall goes away.
        s.Line("  sysctl_restore");
        s.Line("  if nft list table ip egress >/dev/null 2>&1; then nft delete table ip egress || log \"error: cannot delete table ip egress\"; fi");
        foreach (var t in plan.StepsOf<CreateTunnel>())
        {
            s.Line($"  if ip link show dev {t.Name} >/dev/null 2>&1; then ip link del dev {t.Name}; fi");
        }

        s.Line("  log 'down: removed what egress configured'");
        s.Line("}");
        s.Line();
    }

    private static void Check(Script s, HostPlan plan)
    {
        s.Line("do_check() {");
        s.Line("  require");
        s.Line("  find_uplink");
        s.Line("  begin uplink.found");
        s.Line("  if [ -n \"$UPLINK\" ]; then fact true \"$PRIVATE_IP on $UPLINK\"; else fact false \"no interface holds $PRIVATE_IP\"; fi");
        s.Line("  end");
        var hasNft = plan.StepsOf<ReplyViaUplink>().Any() || plan.StepsOf<GatewayFirewall>().Any();
        if (hasNft)
        {
            s.Line("  NFT=$(nft list table ip egress 2>/dev/null)");
        }

        var tunnels = plan.StepsOf<CreateTunnel>().ToList();
        s.Line("  begin tunnel.up");
        foreach (var t in tunnels)
        {
            s.Line(Invariant($"  c_tunnel {t.Name} {t.Local} {t.Remote} {t.Key} {t.Address}/{CreateTunnel.PrefixLength}"));
        }

        s.Line("  end");
        s.Line("  begin tunnel.mtu");
        foreach (var t in tunnels)
        {
            s.Line(Invariant($"  c_mtu {t.Name} {t.Mtu}"));
        }

        s.Line("  end");

        foreach (var w in plan.StepsOf<FailoverWatch>())
        {
            s.Line("  LIVE=");
            s.Line("  begin failover.watcher");
            s.Line("  if watcher; then fact true \"pid $WPID\"; else fact false \"not running: $WHY\"; fi");
            s.Line("  end");
            foreach (var g in w.Gateways)
            {
                s.Line($"  begin failover.gateway.{g.Name}");
                s.Line($"  c_gateway {g.Name} {g.Tunnel} {g.Via}");
                s.Line("  end");
            }

            s.Line("  begin route.default-via-tunnel");
            s.Line("  c_default");
            s.Line("  end");
            s.Line("  begin failover.active-gateway");
            s.Line("  c_live");
            s.Line("  end");
        }

        foreach (var group in plan.StepsOf<PinRoute>().GroupBy(p => p.Invariant))
        {
            s.Line($"  begin {group.Key}");
            foreach (var pin in group)
            {
                s.Line($"  c_pin {pin.Destination} {pin.Destination.At(pin.Destination.Size > 1 ? 1 : 0)}");
            }

            s.Line("  end");
        }

        foreach (var r in plan.StepsOf<ReplyViaUplink>())
        {
            s.Line("  begin mgmt.reply-via-uplink");
            s.Line("  c_nft \"comment \\\"$(nft_id)\\\"\" ''");
            s.Line(Invariant($"  c_nft \"iifname \\\"$UPLINK\\\" ct state new\" 'ct mark set 0x{r.Mark:x8}'"));
            s.Line(Invariant($"  c_nft 'ct mark 0x{r.Mark:x8}' 'meta mark set ct mark'"));
            s.Line("  c_nft 'type route hook output' ''");
            s.Line(Invariant($"  c_nft 'overlay: what it carries' 'ct mark set 0x00000000 return'"));
            s.Line(Invariant($"  c_rule 'fwmark 0x{r.Mark:x} lookup {r.Table}'"));
            s.Line(Invariant($"  c_route default \"via $VPC_ROUTER dev $UPLINK \" {r.Table}"));
            s.Line(Invariant($"  c_get {ProbeAddress} \"dev $UPLINK \" mark 0x{r.Mark:x}"));
            s.Line("  end");
        }

        foreach (var k in plan.StepsOf<KillSwitch>())
        {
            s.Line("  begin killswitch.uplink");
            s.Line("  c_nft 'overlay packets only from' drop");
            s.Line("  c_nft \"oifname \\\"$UPLINK\\\" ip saddr\" 'tunnel address never leaves'");
            s.Line(Invariant($"  c_nft 'rtclassid {k.Realm}' 'kill switch'"));
            s.Line("  c_rule \"oif $UPLINK lookup main suppress_prefixlength 0\"");
            s.Line(Invariant($"  c_rule \"oif $UPLINK lookup {k.Table}\""));
            s.Line(Invariant($"  c_get {ProbeAddress} \" table {k.Table} \" oif \"$UPLINK\""));
            s.Line("  end");
        }

        foreach (var fw in plan.StepsOf<GatewayFirewall>())
        {
            s.Line("  begin nat.table");
            s.Line("  c_nft \"comment \\\"$(nft_id)\\\"\" ''");
            s.Line("  end");
            s.Line("  begin nat.masquerade-covers-tunnel");
            foreach (var c in fw.Clients)
            {
                s.Line($"  c_nft \"iifname \\\"{c.Tunnel}\\\" oifname \\\"$UPLINK\\\" counter\" masquerade");
            }

            s.Line("  end");
            s.Line("  begin forward.only-clients");
            s.Line("  c_nft 'hook forward' 'policy drop;'");
            foreach (var c in fw.Clients)
            {
                s.Line($"  c_nft \"iifname \\\"{c.Tunnel}\\\" oifname \\\"$UPLINK\\\" ip saddr {c.Source} \" accept");
            }

            s.Line("  c_nft 'ct state established,related' accept");
            s.Line("  c_nft 'counter packets' 'drop comment \"not from a configured client'");
            s.Line("  end");
            s.Line("  begin overlay.only-clients");
            s.Line("  c_nft 'overlay packets only from' drop");
            s.Line("  end");
            s.Line("  begin forward.mss-clamp");
            s.Line("  c_nft 'tcp flags syn' 'maxseg size set rt mtu'");
            s.Line("  end");
        }

        foreach (var group in plan.StepsOf<SetSysctl>().GroupBy(x => x.Invariant))
        {
            s.Line($"  begin {group.Key}");
            foreach (var sysctl in group)
            {
                s.Line($"  c_sysctl {SysctlArgs(sysctl)}");
            }

            s.Line("  end");
        }

        s.Line("  printf '{\"host\":\"%s\",\"ok\":%s,\"invariants\":[%s],\"warnings\":[%s]}\\n' \"$HOST_NAME\" \"$OK\" \"$ITEMS\" \"$WARNS\"");
        s.Line("  [ \"$OK\" = true ]");
        s.Line("}");
        s.Line();
    }

    private static void Status(Script s, HostPlan plan)
    {
        var mode = plan.Overlay.ToString().ToLowerInvariant();
        s.Line("do_status() {");
        s.Line("  find_uplink");
        s.Line($"  echo \"egress-host $HOST_NAME ({plan.Role.ToString().ToLowerInvariant()}), uplink ${{UPLINK:-not found}}, overlay {mode}\"");
        foreach (var t in plan.StepsOf<CreateTunnel>())
        {
            s.Line($"  ip -d addr show dev {t.Name} 2>&1");
        }

        s.Line("  echo \"routes egress added (proto $PROTO):\"");
        s.Line("  ip route show table all proto \"$PROTO\"");
        s.Line("  ip rule show");
        s.Line("  nft list table ip egress 2>&1");
        s.Line("  do_check");
        s.Line("}");
        s.Line();
    }

    private static void Main(Script s, HostPlan plan)
    {
        var watch = plan.StepsOf<FailoverWatch>().Any();
        s.Raw(MainCases);
        if (watch)
        {
            s.Line("  watch) do_watch ;;");
            s.Line("  decide) do_decide \"${2:-1}\" ;;");
        }

        s.Line($"  *) echo \"usage: $0 apply|check|down|status{(watch ? "|watch|decide" : string.Empty)}\" >&2; exit 2 ;;");
        s.Line("esac");
    }

    private const string MainCases = """
        case "${1:-}" in
          apply) require; locked apply; do_apply ;;
          check) do_check ;;
          down) require; find_uplink; locked down; do_down ;;
          status) do_status ;;

        """;

    /// <summary>The body of table ip egress for the host (null when it needs none); contains $UPLINK, $(nft_id).</summary>
    private static string? NftDefinition(HostPlan plan)
    {
        var b = new StringBuilder();
        void L(string line) => b.Append(line).Append('\n');
        var tunnels = plan.StepsOf<CreateTunnel>().ToList();
        var overlay = plan.Overlay switch
        {
            OverlayMode.Vxlan => Invariant($"udp dport {CreateTunnel.VxlanPort}"),
            OverlayMode.Ipip => "ip protocol 4",
            _ => "ip protocol 47",
        };

        // The peers' private IPs are the only overlay sources: a stranger's packet never reaches a tunnel (VXLAN itself
        // accepts any source with the right id).
        void OverlayOnlyFromPeers(string peers)
        {
            L("  chain input {");
            L("    type filter hook input priority filter; policy accept;");
            L($"    {overlay} ip saddr != {{ {string.Join(", ", tunnels.Select(t => t.Remote).Distinct())} }} counter drop comment \"overlay packets only from {peers}\"");
            L("  }");
        }

        if (plan.StepsOf<ReplyViaUplink>().FirstOrDefault() is { } r)
        {
            L("table ip egress {");
            L("  comment \"$(nft_id)\"");
            L("  chain prerouting {");
            L("    type filter hook prerouting priority mangle; policy accept;");
            // Without this the packets a tunnel carries inherit the outer packet's mark and their replies (echo replies,
            // resets) would leave by the uplink with a tunnel source, to be dropped by the IGW.
            L(Invariant($"    iifname \"$UPLINK\" {overlay} ct mark set 0x00000000 return comment \"the overlay: what it carries is answered through its tunnel\""));
            L(Invariant($"    iifname \"$UPLINK\" ct state new ct mark set 0x{r.Mark:x8} comment \"arrived on the uplink\""));
            L(Invariant($"    ct mark 0x{r.Mark:x8} meta mark set ct mark comment \"incoming packets carry the mark: sockets and replies route by it\""));
            L("  }");
            L("  chain output {");
            L("    type route hook output priority mangle; policy accept;");
            L(Invariant($"    ct mark 0x{r.Mark:x8} meta mark set ct mark comment \"reply via the uplink\""));
            L("  }");
            OverlayOnlyFromPeers("the gateways");
            if (plan.StepsOf<KillSwitch>().FirstOrDefault() is { } k)
            {
                // After the route chain has re-routed marked replies (priority mangle), so those no longer carry the realm.
                L("  chain killswitch {");
                L("    type filter hook output priority filter; policy accept;");
                L($"    oifname \"$UPLINK\" ip saddr {{ {string.Join(", ", tunnels.Select(t => t.Address))} }} counter drop comment \"a tunnel address never leaves by the uplink\"");
                L(Invariant($"    oifname \"$UPLINK\" meta rtclassid {k.Realm} ct mark != 0x{r.Mark:x8} counter reject with icmp type admin-prohibited comment \"kill switch: nothing new leaves the uplink for the internet\""));
                L("  }");
                L("  chain forward {");
                L("    type filter hook forward priority filter; policy accept;");
                L(Invariant($"    oifname \"$UPLINK\" meta rtclassid {k.Realm} ct mark != 0x{r.Mark:x8} counter reject with icmp type admin-prohibited comment \"kill switch: fail-closed\""));
                L("  }");
            }

            L("}");
            return b.ToString();
        }

        if (plan.StepsOf<GatewayFirewall>().FirstOrDefault() is { } fw)
        {
            L("table ip egress {");
            L("  comment \"$(nft_id)\"");
            OverlayOnlyFromPeers("the configured clients");
            L("  chain forward {");
            L("    type filter hook forward priority filter; policy drop;");
            L("    tcp flags syn tcp option maxseg size set rt mtu comment \"clamp MSS to the path MTU\"");
            L("    ct state established,related counter accept");
            foreach (var c in fw.Clients)
            {
                L($"    iifname \"{c.Tunnel}\" oifname \"$UPLINK\" ip saddr {c.Source} counter accept comment \"{c.Client}\"");
            }

            L("    counter drop comment \"not from a configured client\"");
            L("  }");
            L("  chain postrouting {");
            L("    type nat hook postrouting priority srcnat; policy accept;");
            foreach (var c in fw.Clients)
            {
                L($"    iifname \"{c.Tunnel}\" oifname \"$UPLINK\" counter masquerade comment \"every source from the tunnel of {c.Client}\"");
            }

            L("  }");
            L("}");
            return b.ToString();
        }

        return null;
    }

    private static string SysctlArgs(SetSysctl sysctl)
    {
        var path = sysctl.Key.Replace('.', '/').Replace(SetSysctl.UplinkToken, "\"$UPLINK\"", StringComparison.Ordinal);
        var scope = sysctl.Scope == SysctlScope.Machine ? "machine" : "ns";
        return sysctl.Feature is null && sysctl.Scope == SysctlScope.Namespace
            ? $"{path} {sysctl.Value}"
            : $"{path} {sysctl.Value} {scope} {sysctl.Feature}".TrimEnd();
    }

    private static string Hash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>LF-only text builder.</summary>
    private sealed class Script
    {
        private readonly StringBuilder _text = new();

        public void Line(string line = "") => _text.Append(line).Append('\n');

        public void Raw(string text) => _text.Append(text.ReplaceLineEndings("\n"));

        public override string ToString() => _text.ToString();
    }
}
