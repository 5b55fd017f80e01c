using System.Text.RegularExpressions;
using Egress.Core.Topology;
using Egress.Host.Rendering;

namespace Egress.Host.Tests;

public sealed class ScriptContentTests
{
    [Fact]
    public void Render_AnyHost_IsItsDataBlockThenTheRolesLibrary()
    {
        foreach (var host in new[] { "sg-client", "tokyo-nat" })
        {
            var plan = HostRenderer.Plan(Topologies.Seed(), host);

            var script = HostRenderer.Render(Topologies.Seed(), host, RenderFormat.Script);

            Assert.Equal(ScriptRenderer.DataBlock(plan) + ScriptRenderer.Library(plan.Role), script);
        }

        Assert.Equal(["common.sh", "client.sh", "main.sh"], ScriptRenderer.LibraryFiles(HostRole.Client));
        Assert.Equal(["common.sh", "gateway.sh", "main.sh"], ScriptRenderer.LibraryFiles(HostRole.Gateway));
    }

    [Fact]
    public void Library_AsShipped_IsTheFilesWithoutCommentLines()
    {
        var shipped = ScriptRenderer.Library(HostRole.Client).Split('\n').Skip(1).Where(l => l.Length > 0).ToList();
        var code = ScriptRenderer.LibraryFiles(HostRole.Client).SelectMany(f => ScriptRenderer.ReadLibraryFile(f).Split('\n'))
            .Where(l => l.Trim().Length > 0 && (!l.TrimStart().StartsWith('#') || l.TrimStart().StartsWith("# shellcheck ", StringComparison.Ordinal)))
            .ToList();

        Assert.Equal(code, shipped);
        Assert.StartsWith("# ---- library: src/Egress.Host/Scripts/common.sh, client.sh, main.sh", ScriptRenderer.Library(HostRole.Client), StringComparison.Ordinal);
    }

    [Fact]
    public void DataBlock_QuotesEveryValueWithTheOneQuotingFunction()
    {
        var seed = Topologies.Seed();
        var plan = HostRenderer.Plan(seed, "sg-client") with { Host = "a b'c" };

        var data = ScriptRenderer.DataBlock(plan);

        Assert.Contains("HOST_NAME='a b'\\''c'\n", data, StringComparison.Ordinal);
        Assert.Contains("STEPS='require uplink tunnels sysctls reply killswitch ipv6 pins defaults watch dns'\n", data, StringComparison.Ordinal);
        Assert.Contains("  \"$@\" sysctl.rp_filter 'net/ipv4/conf/{uplink}/rp_filter' 0 ns ''\n", data, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OverlayMode.Ipip)]
    [InlineData(OverlayMode.Gre)]
    [InlineData(OverlayMode.Vxlan)]
    public void Render_Mode_NamesTheModeAndEveryTunnel(OverlayMode mode)
    {
        var script = HostRenderer.Render(Topologies.Seed(mode), "sg-client", RenderFormat.Script);

        Assert.Contains($"\nOVERLAY={mode.ToString().ToLowerInvariant()}\n", script, StringComparison.Ordinal);
        Assert.Contains($"tunnels() {{\n  \"$@\" eg1 10.0.1.10 10.1.1.10 1 192.168.250.2/30 {Mtu.Tunnel(1500, mode)} tokyo-nat\n}}\n", script, StringComparison.Ordinal);
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

        // Every redirection into a file goes to /proc/sys, the per-host run directory, /dev/null, or (step dns of a client)
        // the system resolver's file and its saved original under the state directory.
        var targets = Regex.Matches(script, @"(?<![-,\\])>>?""?(?<t>[/$][^\s""&);]*)").Select(m => m.Groups["t"].Value).Distinct().ToList();
        Assert.Contains("$RUN_DIR/sysctl", targets);
        Assert.All(targets, t => Assert.Contains(t, new[]
        {
            "/dev/null", "$f", "$RUN_DIR/sysctl", "/proc/sys/$p", "$RUN_DIR/failover", "$RUN_DIR/failover.log", "$RUN_DIR/watch.pid", "$LOCK", "$APPLIED",
            "$DNS_SERVERS.tmp", "$RESOLV", "$SAVED/resolv.search", "$SAVED/resolv.orig", "$SAVED/resolv.link", "$SAVED/resolv.kind",
        }));
        Assert.Contains("RUN_DIR=\"${EGRESS_RUN_DIR:-/run/egress}/$HOST_NAME\"", script, StringComparison.Ordinal);
        Assert.Contains("LOCK=\"${EGRESS_RUN_DIR:-/run/egress}/$HOST_NAME.lock\"", script, StringComparison.Ordinal);
        Assert.Contains("DNS_PID=\"$RUN_DIR/dnsmasq.pid\"", script, StringComparison.Ordinal);
        // The only file under /etc a script touches is the client's resolv.conf (and only through $RESOLV).
        Assert.Equal(host == "sg-client" ? ["/etc/resolv.conf", "/etc/netns/NAMESPACE/resolv.conf"] : [], Regex.Matches(script, @"/etc/[^\s""'}]*").Select(m => m.Value).Distinct());
    }

    [Fact]
    public async Task Render_Gateway_MasqueradesByTunnelInterfaceNotByClientCidr()
    {
        var table = await TableAsync(Topologies.ThreeRegion(), "tokyo-nat");

        Assert.Contains("iifname \"eg1\" oifname \"eth0\" ip saddr 192.168.250.2 counter accept comment \"sg-client\"", table, StringComparison.Ordinal);
        Assert.Contains("iifname \"eg2\" oifname \"eth0\" ip saddr 192.168.250.6 counter accept comment \"syd-client\"", table, StringComparison.Ordinal);
        Assert.Contains("iifname \"eg1\" oifname \"eth0\" counter masquerade", table, StringComparison.Ordinal);
        Assert.Contains("iifname \"eg2\" oifname \"eth0\" counter masquerade", table, StringComparison.Ordinal);
        Assert.DoesNotMatch(new Regex("saddr [0-9./]+ [^\n]*masquerade"), table);
        Assert.Contains("type filter hook forward priority filter; policy drop;", table, StringComparison.Ordinal);
        Assert.Contains("counter drop comment \"not from a configured client\"", table, StringComparison.Ordinal);
        Assert.Contains("tcp flags syn tcp option maxseg size set rt mtu", table, StringComparison.Ordinal);
        Assert.Contains("ip protocol 4 ip saddr != { 10.0.1.10, 10.2.1.10 } counter drop comment \"overlay packets only from the configured clients\"", table, StringComparison.Ordinal);
        // Atomic replacement: create-if-missing, delete, define, in one nft -f.
        Assert.StartsWith("NFT-FILE\ntable ip egress {}\ndelete table ip egress\ntable ip egress {\n  comment \"egress-host tokyo-nat ", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_Client_RepliesToUplinkConnectionsViaTheUplink()
    {
        var table = await TableAsync(Topologies.Seed(), "sg-client");
        var apply = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", ScriptHarness.EmptyKernel + "UPLINK=eth0; apply_reply; apply_killswitch; apply_defaults 2>&1");

        Assert.Contains("iifname \"eth0\" ct state new ct mark set 0x00000001", table, StringComparison.Ordinal);
        Assert.Contains("type route hook output priority mangle; policy accept;", table, StringComparison.Ordinal);
        Assert.Contains("ct mark 0x00000001 meta mark set ct mark", table, StringComparison.Ordinal);
        Assert.Contains("oifname \"eth0\" ip saddr { 192.168.250.2 } counter drop", table, StringComparison.Ordinal);
        Assert.Contains("oifname \"eth0\" meta rtclassid 201 ct mark != 0x00000001 counter reject", table, StringComparison.Ordinal);
        Assert.True(apply.Succeeded, apply.StandardError);
        Assert.Contains("CALL ip rule add priority 1010 fwmark 0x1 lookup 1010\n", apply.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("CALL ip route add default via 10.0.1.1 dev eth0 table 1010 proto 201\n", apply.StandardOutput, StringComparison.Ordinal);
        // The seed is fail-closed: every lookup skips main's default and ends in prohibit (issue 24); nftables lets only the
        // pins' destinations and replies on uplink connections leave the uplink.
        Assert.Contains("CALL ip rule add priority 1011 lookup main suppress_prefixlength 0\n", apply.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("CALL ip rule add priority 1012 lookup 1011\n", apply.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("CALL ip route replace prohibit default table 1011 proto 201\n", apply.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("elements = { 10.1.1.10/32, 10.0.0.0/16, 10.1.0.0/16, 169.254.169.254/32, 169.254.169.253/32, 169.254.169.123/32, 10.1.1.10, 169.254.0.0/16, 224.0.0.0/4, 255.255.255.255 }", table, StringComparison.Ordinal);
        Assert.Contains("oifname \"eth0\" ct mark 0x00000001 accept", table, StringComparison.Ordinal);
        Assert.Contains("oifname \"eth0\" counter reject with icmp type admin-prohibited comment \"fail-closed: nothing else leaves the uplink", table, StringComparison.Ordinal);
        // Fail-open keeps the kill switch for sockets bound to the uplink only, by realm.
        var open = Topologies.Seed() with { Failover = Topologies.Seed().Failover with { Policy = FailurePolicy.FailOpen } };
        var openApply = await ScriptHarness.RunAsync(open, "sg-client", ScriptHarness.EmptyKernel + "UPLINK=eth0; apply_killswitch 2>&1");
        Assert.Contains("CALL ip rule add priority 1011 oif eth0 lookup main suppress_prefixlength 0\n", openApply.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("CALL ip rule add priority 1012 oif eth0 lookup 1011\n", openApply.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("CALL ip route replace default via 10.0.1.1 dev eth0 table 1011 realm 201 proto 201\n", openApply.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("fail-closed: nothing else", await TableAsync(open, "sg-client"), StringComparison.Ordinal);
        // The halves via the primary only when egress has none yet (this fake kernel has none): afterwards the watcher owns them.
        Assert.Contains("CALL ip route add 0.0.0.0/1 via 192.168.250.1 dev eg1 table main proto 201\n", apply.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("CALL ip route add 128.0.0.0/1 via 192.168.250.1 dev eg1 table main proto 201\n", apply.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("0.0.0.0/0", apply.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("[ -n \"$(ip route show exact \"$h\" proto \"$PROTO\")\" ] || route_set \"$h\" \"$DEFAULT_VIA\" \"$DEFAULT_DEV\"", ScriptRenderer.ReadLibraryFile("client.sh"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sg-client", new[] { "uplink.found", "tunnel.up", "tunnel.mtu", "sysctl.rp_filter", "tcp.bbr", "qdisc.fq", "mgmt.mark-replies", "tcp.slow-start-after-idle", "mgmt.reply-via-uplink", "killswitch.uplink", "killswitch.ipv6", "route.pin.gateway-underlay", "route.pin.vpc", "route.pin.imds", "route.default-via-tunnel", "failover.watcher", "failover.gateway.tokyo-nat", "failover.active-gateway", "dns.stub", "dns.resolv-conf", "dns.via-gateway" })]
    [InlineData("tokyo-nat", new[] { "uplink.found", "tunnel.up", "tunnel.mtu", "nat.table", "nat.masquerade-covers-tunnel", "forward.only-clients", "overlay.only-clients", "overlay.inner-source", "forward.mss-clamp", "sysctl.ip_forward", "sysctl.rp_filter", "tcp.bbr", "qdisc.fq", "tcp.slow-start-after-idle", "conntrack.max", "dns.forwarder" })]
    public async Task Check_OnAHostWithNothingApplied_NamesEveryInvariantInApplyOrderAndFails(string host, string[] names)
    {
        var run = await ScriptHarness.RunAsync(Topologies.Seed(), host, ScriptHarness.EmptyKernel + "ping() { return 1; }; do_check");
        var report = CheckReport.Parse(run.StandardOutput);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(names, report.Invariants.Select(i => i.Name));
        Assert.False(report.Ok);
        Assert.Equal(new CheckInvariant("uplink.found", true, $"{Topologies.Seed().FindHost(host)!.PrivateIp} on eth0"), report.Invariants[0]);
        Assert.Contains(report.Invariants, i => i is { Name: "tunnel.up", Ok: false, Detail: "eg1 does not exist" });
    }

    [Fact]
    public async Task Render_FailoverClient_ProbesEveryGatewayThroughItsTunnelAndRendersTheSettings()
    {
        var topology = Examples.Load(Examples.Failover);
        topology = topology with { Failover = topology.Failover with { Policy = FailurePolicy.FailOpen, Failback = false, HoldDownMs = 750, ProbeIntervalMs = 150, DownAfter = 2, UpAfter = 4 } };

        var script = HostRenderer.Render(topology, "sg-client", RenderFormat.Script);
        var probe = await ScriptHarness.RunAsync(topology, "sg-client", "ping() { echo \"PING $*\" >>\"$EGRESS_RUN_DIR/pings\"; }; sleep() { :; }; W=0.15; probe; sort \"$EGRESS_RUN_DIR/pings\"");
        var check = await ScriptHarness.RunAsync(topology, "sg-client", ScriptHarness.EmptyKernel + "ping() { return 1; }; do_check");

        Assert.Contains("gateways() {\n  \"$@\" tokyo-nat eg1 192.168.250.1\n  \"$@\" tokyo-nat-c eg2 192.168.250.5\n}\n", script, StringComparison.Ordinal);
        Assert.Contains("POLICY=fail-open\nFAILBACK=0\nHOLD_MS=750\nDOWN_AFTER=2\nUP_AFTER=4\nPROBE_MS=150\nPROBE_S=0.15\n", script, StringComparison.Ordinal);
        Assert.Contains("PING -n -q -c 1 -W 0.15 -I eg1 192.168.250.1\n", probe.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("PING -n -q -c 1 -W 0.15 -I eg2 192.168.250.5\n", probe.StandardOutput, StringComparison.Ordinal);
        Assert.Matches("^[0-9]+ 1 1\n", probe.StandardOutput);
        Assert.Contains(CheckReport.Parse(check.StandardOutput).Invariants, i => i is { Name: "failover.gateway.tokyo-nat-c", Ok: false, Detail: "192.168.250.5 does not answer via eg2; watcher: not running" });
        Assert.Contains("VERBS='apply|check|down|status|watch|decide'", script, StringComparison.Ordinal);
        // Fail-closed points the halves at the uplink with the kill switch's realm (nftables refuses new traffic, replies on
        // uplink connections pass); fail-open removes the halves and takes the realm off table 1011 (down removes them too, whatever they are).
        Assert.Contains("\"route replace 0.0.0.0/1 via $VPC_ROUTER dev $UPLINK realm $REALM proto $PROTO\"", script, StringComparison.Ordinal);
        Assert.Contains("\"route del 0.0.0.0/1 proto $PROTO\"", script, StringComparison.Ordinal);
        Assert.Contains("k=\"route replace default via $VPC_ROUTER dev $UPLINK table $KS_TABLE proto $PROTO\"", script, StringComparison.Ordinal);
        Assert.Contains("  ip route del 0.0.0.0/1 proto \"$PROTO\" 2>/dev/null", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_Gateway_HasNoWatcher()
    {
        var script = HostRenderer.Render(Examples.Load(Examples.Failover), "tokyo-nat-c", RenderFormat.Script);
        var path = Path.Combine(Directory.CreateTempSubdirectory("eh-gw-").FullName, "egress-host");
        await File.WriteAllTextAsync(path, script);

        var watch = await Egress.Processes.ProcessRunner.Instance.RunAsync(new Egress.Processes.CommandSpec("sh", [path, "watch"]));

        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        Assert.DoesNotContain("do_watch", script, StringComparison.Ordinal);
        Assert.Equal(2, watch.ExitCode);
        Assert.EndsWith(" apply|check|down|status\n", watch.StandardError, StringComparison.Ordinal);
        Assert.Null(HostRenderer.RenderWatchUnit(Examples.Load(Examples.Failover), "tokyo-nat-c"));
    }

    [Fact]
    public void Render_MachineWideSysctls_SkippedInNetnsOnlyMode()
    {
        var script = HostRenderer.Render(Topologies.Seed(), "tokyo-nat", RenderFormat.Script);

        Assert.Contains("  \"$@\" qdisc.fq net/core/default_qdisc fq machine fq\n", script, StringComparison.Ordinal);
        Assert.Contains("  \"$@\" conntrack.max net/netfilter/nf_conntrack_max 131072 machine ''\n", script, StringComparison.Ordinal);
        Assert.Contains("if [ \"$s\" = machine ] && [ \"$NETNS_ONLY\" = 1 ]; then warn \"skipped $p", script, StringComparison.Ordinal);
    }

    /// <summary>What apply feeds nft for the host's table (uplink eth0), after the NFT-FILE marker.</summary>
    private static async Task<string> TableAsync(TopologyModel topology, string host)
    {
        var run = await ScriptHarness.RunAsync(topology, host, ScriptHarness.EmptyKernel + "log() { :; }; UPLINK=eth0; nft_apply");
        Assert.True(run.Succeeded, run.StandardError);
        return run.StandardOutput;
    }
}
