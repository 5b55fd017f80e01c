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

        Apply(s, plan, nftDefinition);
        Down(s, plan);
        Check(s, plan);
        Status(s, plan);
        s.Raw(Main);
        return s.ToString();
    }

    private static void Header(Script s, HostPlan plan)
    {
        var role = plan.Role.ToString().ToLowerInvariant();
        var mode = plan.Overlay.ToString().ToLowerInvariant();
        s.Line("#!/bin/sh");
        s.Line($"# egress-host: {plan.Host}, {role} of stack {plan.Stack}. Rendered by egress from the topology: edit that, not this.");
        s.Line("# Usage: egress-host apply|check|down|status");
        s.Line("#   apply   tunnel, routes, nftables, sysctls; idempotent; changes kernel state only (systemd re-runs it at boot)");
        s.Line("#   check   the invariants as JSON on stdout; exit 1 if any fails");
        s.Line("#   down    remove exactly what apply added");
        s.Line("#   status  what egress configured, then check");
        s.Line("# EGRESS_NETNS_ONLY=1 skips machine-wide sysctls (the lab); EGRESS_RUN_DIR (default /run/egress) holds saved sysctls.");
        s.Line($"# Overlay {mode}: tunnel MTU {plan.TunnelMtu}, TCP MSS {plan.TcpMss}. Each step explained: docs/host.md.");
        s.Line("set -u");
        s.Line($"HOST_NAME='{plan.Host}'");
        s.Line($"PRIVATE_IP='{plan.PrivateIp}'");
        if (plan.Role == HostRole.Client)
        {
            s.Line($"VPC_ROUTER='{plan.VpcRouter}'");
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
        # c_get ADDRESS WANT [MARK]: the kernel's route lookup for ADDRESS reads WANT.
        c_get() {
          r=$(ip -o route get "$1" ${3:+mark "$3"} 2>&1 | sed 's/ *\\.*//')
          case "$r" in *"$2"*) fact true "get $1${3:+ mark $3}: $r" ;; *) fact false "get $1${3:+ mark $3}: $r; want $2" ;; esac
        }

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
            OverlayMode.Vxlan => $"""ip link add "$1" type vxlan id "$4" local "$2" remote "$3" dstport {CreateTunnel.VxlanPort} dev "$UPLINK" """,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "resolve overlay mode auto before rendering"),
        };
        var kind = mode.ToString().ToLowerInvariant();
        // ip -d shows e.g. "vxlan id 1 remote R local L", "ipip any remote R local L", "gre remote R local L".
        var signature = mode == OverlayMode.Vxlan ? "\"vxlan id $4 remote $3 local $2 \"" : $"\"{kind}\"*\" remote $3 local $2 \"";
        s.Raw($$"""
            # tunnel NAME LOCAL REMOTE KEY ADDRESS/30 MTU: created once; recreated only if its endpoints changed.
            tunnel() {
              if ip link show dev "$1" >/dev/null 2>&1; then
                case "$(ip -d -o link show dev "$1")" in *{{signature}}*) ;; *) log "$1 has other endpoints: recreating it"; run ip link del dev "$1" ;; esac
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
                case PinRoute pin:
                    s.Line($"  route_set {pin.Destination} \"$VPC_ROUTER\" \"$UPLINK\"");
                    break;
                case DefaultViaTunnel d:
                    foreach (var half in DefaultViaTunnel.Halves)
                    {
                        s.Line($"  route_set {half} {d.Via} {d.Tunnel}");
                    }

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
        foreach (var d in plan.StepsOf<DefaultViaTunnel>())
        {
            foreach (var half in DefaultViaTunnel.Halves)
            {
                s.Line($"  ip route del {half} via {d.Via} dev {d.Tunnel} proto \"$PROTO\" 2>/dev/null");
            }
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
            s.Line($"  c_tunnel {t.Name} {t.Local} {t.Remote} {t.Address}/{CreateTunnel.PrefixLength}");
        }

        s.Line("  end");
        s.Line("  begin tunnel.mtu");
        foreach (var t in tunnels)
        {
            s.Line(Invariant($"  c_mtu {t.Name} {t.Mtu}"));
        }

        s.Line("  end");

        foreach (var d in plan.StepsOf<DefaultViaTunnel>())
        {
            s.Line("  begin route.default-via-tunnel");
            foreach (var half in DefaultViaTunnel.Halves)
            {
                s.Line($"  c_route {half} \"via {d.Via} dev {d.Tunnel} \"");
            }

            s.Line($"  c_get {ProbeAddress} \"dev {d.Tunnel} \"");
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
            s.Line(Invariant($"  if ip rule show | grep -q \"fwmark 0x{r.Mark:x} lookup {r.Table}\"; then fact true 'rule fwmark 0x{r.Mark:x} lookup {r.Table}'; else fact false 'no rule fwmark 0x{r.Mark:x} lookup {r.Table}'; fi"));
            s.Line(Invariant($"  c_route default \"via $VPC_ROUTER dev $UPLINK \" {r.Table}"));
            s.Line(Invariant($"  c_get {ProbeAddress} \"dev $UPLINK \" 0x{r.Mark:x}"));
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
            s.Line("  c_nft 'counter packets' 'drop comment'");
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

    private const string Main = """
        case "${1:-}" in
          apply) do_apply ;;
          check) do_check ;;
          down) require; find_uplink; do_down ;;
          status) do_status ;;
          *) echo "usage: $0 apply|check|down|status" >&2; exit 2 ;;
        esac

        """;

    /// <summary>The body of table ip egress for the host (null when it needs none); contains $UPLINK, $(nft_id).</summary>
    private static string? NftDefinition(HostPlan plan)
    {
        var b = new StringBuilder();
        void L(string line) => b.Append(line).Append('\n');
        if (plan.StepsOf<ReplyViaUplink>().FirstOrDefault() is { } r)
        {
            L("table ip egress {");
            L("  comment \"$(nft_id)\"");
            L("  chain prerouting {");
            L("    type filter hook prerouting priority mangle; policy accept;");
            L(Invariant($"    iifname \"$UPLINK\" ct state new ct mark set 0x{r.Mark:x8} comment \"arrived on the uplink\""));
            L("  }");
            L("  chain output {");
            L("    type route hook output priority mangle; policy accept;");
            L(Invariant($"    ct mark 0x{r.Mark:x8} meta mark set ct mark comment \"reply via the uplink\""));
            L("  }");
            L("}");
            return b.ToString();
        }

        if (plan.StepsOf<GatewayFirewall>().FirstOrDefault() is { } fw)
        {
            L("table ip egress {");
            L("  comment \"$(nft_id)\"");
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
