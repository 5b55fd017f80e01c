using System.Text.RegularExpressions;
using Egress.Core.Topology;
using Egress.Host.Rendering;

namespace Egress.Host.Tests;

public sealed class ScriptContentTests
{
    [Theory]
    [InlineData(OverlayMode.Ipip, "type ipip local \"$2\" remote \"$3\" ttl 64 dev \"$UPLINK\"")]
    [InlineData(OverlayMode.Gre, "type gre local \"$2\" remote \"$3\" key \"$4\" ttl 64 dev \"$UPLINK\"")]
    [InlineData(OverlayMode.Vxlan, "type vxlan id \"$4\" local \"$2\" remote \"$3\" dstport 4789 nolearning dev \"$UPLINK\"")]
    public void Render_Mode_CreatesThatTunnelOnTheDiscoveredUplink(OverlayMode mode, string command)
    {
        var script = HostRenderer.Render(Topologies.Seed(mode), "sg-client", RenderFormat.Script);

        Assert.Contains(command, script, StringComparison.Ordinal);
        Assert.Contains($"tunnel eg1 10.0.1.10 10.1.1.10 1 192.168.250.2/30 {Mtu.Tunnel(1500, mode)}", script, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sg-client")]
    [InlineData("tokyo-nat")]
    public void Render_AnyHost_NeverHardCodesAnInterfaceName(string host)
    {
        var script = HostRenderer.Render(Topologies.Seed(), host, RenderFormat.Script);

        Assert.DoesNotMatch(new Regex(@"\b(eth[0-9]|ens[0-9])"), script);
        Assert.Contains("ip -o -4 addr show", script, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sg-client")]
    [InlineData("tokyo-nat")]
    public void Render_AnyHost_WritesOnlyKernelStateAndItsRunDirectory(string host)
    {
        var script = HostRenderer.Render(Topologies.ThreeRegion(), host, RenderFormat.Script);

        // Every redirection into a file goes to /proc/sys, the per-host run directory or /dev/null.
        var targets = Regex.Matches(script, @"(?<![-,\\])>>?""?(?<t>[/$][^\s""&);]*)").Select(m => m.Groups["t"].Value).Distinct().ToList();
        Assert.Contains("$RUN_DIR/sysctl", targets);
        Assert.All(targets, t => Assert.Contains(t, new[] { "/dev/null", "$f", "$RUN_DIR/sysctl", "/proc/sys/$p", "$RUN_DIR/failover", "$RUN_DIR/failover.log", "$RUN_DIR/watch.pid", "$LOCK" }));
        Assert.Contains("RUN_DIR=\"${EGRESS_RUN_DIR:-/run/egress}/$HOST_NAME\"", script, StringComparison.Ordinal);
        Assert.Contains("LOCK=\"${EGRESS_RUN_DIR:-/run/egress}/$HOST_NAME.lock\"", script, StringComparison.Ordinal);
        Assert.DoesNotContain("/etc/", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Gateway_MasqueradesByTunnelInterfaceNotByClientCidr()
    {
        var script = HostRenderer.Render(Topologies.ThreeRegion(), "tokyo-nat", RenderFormat.Script);

        Assert.Contains("iifname \"eg1\" oifname \"$UPLINK\" ip saddr 192.168.250.2 counter accept comment \"sg-client\"", script, StringComparison.Ordinal);
        Assert.Contains("iifname \"eg2\" oifname \"$UPLINK\" ip saddr 192.168.250.6 counter accept comment \"syd-client\"", script, StringComparison.Ordinal);
        Assert.Contains("iifname \"eg1\" oifname \"$UPLINK\" counter masquerade", script, StringComparison.Ordinal);
        Assert.Contains("iifname \"eg2\" oifname \"$UPLINK\" counter masquerade", script, StringComparison.Ordinal);
        Assert.DoesNotMatch(new Regex("saddr [0-9./]+ [^\n]*masquerade"), script);
        Assert.Contains("type filter hook forward priority filter; policy drop;", script, StringComparison.Ordinal);
        Assert.Contains("counter drop comment \"not from a configured client\"", script, StringComparison.Ordinal);
        Assert.Contains("tcp flags syn tcp option maxseg size set rt mtu", script, StringComparison.Ordinal);
        // Atomic replacement: create-if-missing, delete, define, in one nft -f.
        Assert.Contains("printf 'table ip egress {}\\ndelete table ip egress\\n'; cat; } | nft -f -", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Client_RepliesToUplinkConnectionsViaTheUplink()
    {
        var script = HostRenderer.Render(Topologies.Seed(), "sg-client", RenderFormat.Script);

        Assert.Contains("iifname \"$UPLINK\" ct state new ct mark set 0x00000001", script, StringComparison.Ordinal);
        Assert.Contains("type route hook output priority mangle; policy accept;", script, StringComparison.Ordinal);
        Assert.Contains("ct mark 0x00000001 meta mark set ct mark", script, StringComparison.Ordinal);
        Assert.Contains("run ip rule add priority 1010 fwmark 0x1 lookup 1010", script, StringComparison.Ordinal);
        Assert.Contains("route_set default \"$VPC_ROUTER\" \"$UPLINK\" 1010", script, StringComparison.Ordinal);
        // The primary only when egress has no half yet: afterwards the watcher owns them.
        Assert.Contains("[ -n \"$(ip route show exact 0.0.0.0/1 proto \"$PROTO\")\" ] || route_set 0.0.0.0/1 192.168.250.1 eg1", script, StringComparison.Ordinal);
        Assert.Contains("[ -n \"$(ip route show exact 128.0.0.0/1 proto \"$PROTO\")\" ] || route_set 128.0.0.0/1 192.168.250.1 eg1", script, StringComparison.Ordinal);
        Assert.DoesNotContain("route_set 0.0.0.0/0", script, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sg-client", new[] { "uplink.found", "tunnel.up", "tunnel.mtu", "failover.watcher", "failover.gateway.tokyo-nat", "route.default-via-tunnel", "failover.active-gateway", "route.pin.gateway-underlay", "route.pin.vpc", "route.pin.imds", "mgmt.reply-via-uplink", "killswitch.uplink", "sysctl.rp_filter", "tcp.bbr", "qdisc.fq", "mgmt.mark-replies", "tcp.slow-start-after-idle" })]
    [InlineData("tokyo-nat", new[] { "uplink.found", "tunnel.up", "tunnel.mtu", "nat.table", "nat.masquerade-covers-tunnel", "forward.only-clients", "overlay.only-clients", "forward.mss-clamp", "sysctl.ip_forward", "sysctl.rp_filter", "tcp.bbr", "qdisc.fq", "tcp.slow-start-after-idle", "conntrack.max" })]
    public void Render_Check_NamesEveryInvariant(string host, string[] names)
    {
        var script = HostRenderer.Render(Topologies.Seed(), host, RenderFormat.Script);
        var found = Regex.Matches(script, @"^  begin (\S+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value);

        Assert.Equal(names, found);
    }

    [Fact]
    public void Render_FailoverClient_ProbesEveryGatewayThroughItsTunnelAndRendersTheSettings()
    {
        var topology = Examples.Load(Examples.Failover);
        topology = topology with { Failover = topology.Failover with { Policy = FailurePolicy.FailOpen, Failback = false, HoldDownMs = 750, ProbeIntervalMs = 150, DownAfter = 2, UpAfter = 4 } };

        var script = HostRenderer.Render(topology, "sg-client", RenderFormat.Script);

        Assert.Contains("N_1=tokyo-nat D_1=eg1 V_1=192.168.250.1\n", script, StringComparison.Ordinal);
        Assert.Contains("N_2=tokyo-nat-c D_2=eg2 V_2=192.168.250.5\n", script, StringComparison.Ordinal);
        Assert.Contains("GW_N=2 POLICY=fail-open FAILBACK=0 HOLD_MS=750 DOWN_AFTER=2 UP_AFTER=4\n", script, StringComparison.Ordinal);
        Assert.Contains("PROBE_MS=150 PROBE_S=0.15\n", script, StringComparison.Ordinal);
        Assert.Contains("ping -n -q -c 1 -W \"$W\" -I eg1 192.168.250.1 >/dev/null 2>&1 & p1=$!", script, StringComparison.Ordinal);
        Assert.Contains("ping -n -q -c 1 -W \"$W\" -I eg2 192.168.250.5 >/dev/null 2>&1 & p2=$!", script, StringComparison.Ordinal);
        Assert.Contains("begin failover.gateway.tokyo-nat-c\n  c_gateway tokyo-nat-c eg2 192.168.250.5\n", script, StringComparison.Ordinal);
        Assert.Contains("  watch) do_watch ;;", script, StringComparison.Ordinal);
        // Fail-closed points the halves at the uplink with the kill switch's realm (nftables refuses new traffic, replies on
        // uplink connections pass); fail-open removes the halves and takes the realm off table 1011 (down removes them too, whatever they are).
        Assert.Contains("\"route replace 0.0.0.0/1 via $VPC_ROUTER dev $UPLINK realm $REALM proto $PROTO\"", script, StringComparison.Ordinal);
        Assert.Contains("\"route del 0.0.0.0/1 proto $PROTO\"", script, StringComparison.Ordinal);
        Assert.Contains("k=\"route replace default via $VPC_ROUTER dev $UPLINK table $KS_TABLE proto $PROTO\"", script, StringComparison.Ordinal);
        Assert.Contains("  ip route del 0.0.0.0/1 proto \"$PROTO\" 2>/dev/null", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Gateway_HasNoWatcher()
    {
        var script = HostRenderer.Render(Examples.Load(Examples.Failover), "tokyo-nat-c", RenderFormat.Script);

        Assert.DoesNotContain("do_watch", script, StringComparison.Ordinal);
        Assert.Contains("usage: $0 apply|check|down|status\"", script, StringComparison.Ordinal);
        Assert.Null(HostRenderer.RenderWatchUnit(Examples.Load(Examples.Failover), "tokyo-nat-c"));
    }

    [Fact]
    public void Render_MachineWideSysctls_SkippedInNetnsOnlyMode()
    {
        var script = HostRenderer.Render(Topologies.Seed(), "tokyo-nat", RenderFormat.Script);

        Assert.Contains("sysctl_set net/core/default_qdisc fq machine fq", script, StringComparison.Ordinal);
        Assert.Contains("sysctl_set net/netfilter/nf_conntrack_max 131072 machine", script, StringComparison.Ordinal);
        Assert.Contains("if [ \"$s\" = machine ] && [ \"$NETNS_ONLY\" = 1 ]; then warn \"skipped $1", script, StringComparison.Ordinal);
    }
}
