using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Host.Rendering;
using Egress.Processes;
using Egress.Verify;

namespace Egress.Doctor.Tests;

/// <summary>One fault, one finding, at the right link (issue 24, item 7): the seed lab's check reports for each fault (as
/// `egress-host check` printed them on a namespace lab) walked by the doctor. The facts a client derives (its active
/// gateway, the default halves, the kill switch's route lookup, where DNS goes) are consequences when a link under them
/// is broken: folded into that link's finding, never their own.</summary>
public sealed class AttributionTests
{
    private const string Client = "sg-client";
    private const string Gateway = "tokyo-nat";

    private static readonly TopologyModel Seed = Examples.Load(Examples.Seed) is var t ? t with { Overlay = t.Overlay with { Mode = OverlayMode.Vxlan } } : null!;

    private static readonly (string Name, string Detail)[] HealthyClient =
    [
        ("uplink.found", "10.0.1.10 on eth0"),
        ("tunnel.up", "eg1 up, 10.0.1.10 -> 10.1.1.10, 192.168.250.2/30"),
        ("tunnel.mtu", "eg1 mtu 1450"),
        ("sysctl.rp_filter", "net/ipv4/conf/all/rp_filter=0"),
        ("mgmt.reply-via-uplink", "rule fwmark 0x1 lookup 1010"),
        ("killswitch.uplink", "overlay packets only from .. drop; rtclassid 201 .. kill switch; rule oif eth0 lookup main suppress_prefixlength 0; rule oif eth0 lookup 1011; get 192.0.2.1 oif eth0: 192.0.2.1 via 10.0.1.1 dev eth0 table 1011 src 10.0.1.10 realm 201 uid 0"),
        ("route.pin.gateway-underlay", "10.1.1.10/32 via 10.0.1.1 dev eth0"),
        ("route.default-via-tunnel", "0.0.0.0/1 via 192.168.250.1 dev eg1 ; 128.0.0.0/1 via 192.168.250.1 dev eg1 ; get 192.0.2.1: 192.0.2.1 via 192.168.250.1 dev eg1"),
        ("failover.watcher", "pid 2024"),
        ("failover.gateway.tokyo-nat", "192.168.250.1 answers via eg1; watcher: up"),
        ("failover.active-gateway", "tokyo-nat (eg1)"),
        ("dns.stub", "dnsmasq pid 1985"),
        ("dns.resolv-conf", "/etc/resolv.conf: nameserver 127.0.0.1"),
        ("dns.via-gateway", "internet names to tokyo-nat's forwarder 192.168.250.1; tokyo-nat's forwarder answers through the tunnel"),
    ];

    private static readonly (string Name, string Detail)[] HealthyGateway =
    [
        ("uplink.found", "10.1.1.10 on eth0"),
        ("tunnel.up", "eg1 up, 10.1.1.10 -> 10.0.1.10, 192.168.250.1/30"),
        ("tunnel.mtu", "eg1 mtu 1450"),
        ("nat.table", "table ip egress"),
        ("nat.masquerade-covers-tunnel", "masquerade"),
        ("sysctl.ip_forward", "net/ipv4/ip_forward=1"),
        ("dns.forwarder", "dnsmasq on 192.168.250.1:53"),
    ];

    /// <summary>Fail-closed as the watcher leaves it when no gateway answers: the halves via the uplink with the kill
    /// switch's realm, DNS refused; today's check also fails killswitch.uplink (its lookup meets the halves' realm).</summary>
    private static readonly (string Name, bool Ok, string Detail)[] FailClosed =
    [
        ("killswitch.uplink", false, "overlay packets only from .. drop; rtclassid 201 .. kill switch; rule oif eth0 lookup main suppress_prefixlength 0; rule oif eth0 lookup 1011; get 192.0.2.1 oif eth0: 192.0.2.1 via 10.0.1.1 dev eth0 src 10.0.1.10 realm 201 uid 0; want  table 1011 "),
        ("route.default-via-tunnel", false, "0.0.0.0/1: 0.0.0.0/1 via 10.0.1.1 dev eth0 proto 201 realm 201 ; want via a gateway tunnel"),
        ("failover.gateway.tokyo-nat", false, "192.168.250.1 does not answer via eg1; watcher: down"),
        ("failover.active-gateway", false, "no gateway alive: egress refused (fail-closed)"),
        ("dns.via-gateway", false, "no gateway active: internet names are refused"),
    ];

    private static CheckReport Report(string host, (string Name, string Detail)[] healthy, params (string Name, bool Ok, string Detail)[] changed)
    {
        var invariants = healthy.Select(h => changed.FirstOrDefault(c => c.Name == h.Name) is { Name: not null } c
            ? new CheckInvariant(c.Name, c.Ok, c.Detail) : new CheckInvariant(h.Name, true, h.Detail)).ToList();
        return new CheckReport(host, invariants.All(i => i.Ok), invariants, []);
    }

    [Fact]
    public async Task ClientTunnelDown_OneFinding_AtTheTunnel_NamingTheClientsEnd()
    {
        var client = Report(Client, HealthyClient, [.. FailClosed, ("tunnel.up", false, "eg1 is down"), ("tunnel.mtu", false, "eg1 mtu missing, want 1450")]);

        var report = await WalkAsync(client, Report(Gateway, HealthyGateway));

        var finding = Only(report, PathLink.Tunnel, "host.tunnel.up", Client);
        Assert.Contains("sg-client's end (the client): eg1 is down", finding.Seen, StringComparison.Ordinal);
        Assert.Contains("and so also: tunnel.mtu, killswitch.uplink, route.default-via-tunnel, failover.gateway.tokyo-nat, failover.active-gateway, dns.via-gateway", finding.Seen, StringComparison.Ordinal);
        Assert.Contains("brings sg-client's tunnel end up", finding.Fix, StringComparison.Ordinal);
        Assert.Equal(FixedBy.EgressHostApply, finding.FixedBy);
        Assert.Contains(report.Checks, c => c.Id == "host.killswitch.uplink" && c.Status == DoctorStatus.Skipped && c.Seen.StartsWith("follows from tunnel.up", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GatewayTunnelDown_OneFinding_AtTheTunnel_NamingTheGatewaysEnd()
    {
        var client = Report(Client, HealthyClient, FailClosed);
        var gateway = Report(Gateway, HealthyGateway, ("tunnel.up", false, "eg1 is down"));

        var report = await WalkAsync(client, gateway);

        var finding = Only(report, PathLink.Tunnel, "host.tunnel.up", Gateway);
        Assert.Contains("tokyo-nat's end (the gateway): eg1 is down", finding.Seen, StringComparison.Ordinal);
        Assert.Contains("failover.gateway.tokyo-nat on sg-client", finding.Seen, StringComparison.Ordinal);
        Assert.Contains("dns.via-gateway on sg-client", finding.Seen, StringComparison.Ordinal);
        Assert.Contains("the clients' watchers then move egress back", finding.Fix, StringComparison.Ordinal);
        Assert.Contains(report.Checks, c => (c.Id, c.Host, c.Status) == ("host.failover.gateway.tokyo-nat", Client, DoctorStatus.Skipped)
            && c.Seen.StartsWith("follows from tunnel.up on tokyo-nat", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DefaultHalvesDeleted_OneFinding_TheRoute_NotLocalDns()
    {
        // As the check reads it with the halves deleted by hand while the gateway answers and the servers file points at it.
        var client = Report(Client, HealthyClient,
            ("route.default-via-tunnel", false, "0.0.0.0/1: no route; want via a gateway tunnel"),
            ("failover.active-gateway", false, "no gateway active: egress leaves by the own internet gateway (fail-closed)"),
            ("dns.via-gateway", false, "no gateway active: internet names are resolved locally"));

        var report = await WalkAsync(client, Report(Gateway, HealthyGateway));

        var finding = Only(report, PathLink.Egress, "host.route.default-via-tunnel", Client);
        Assert.Contains("and so also: failover.active-gateway, dns.via-gateway", finding.Seen, StringComparison.Ordinal);
        Assert.Contains("the failover watcher on sg-client puts the halves back", finding.Fix, StringComparison.Ordinal);
        Assert.Contains("'egress-host apply'", finding.Fix, StringComparison.Ordinal);
        Assert.DoesNotContain(report.Checks, c => c.Status == DoctorStatus.Finding && c.Seen.Contains("resolved locally", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryGatewayCut_FailClosedAsDesigned_TheKillSwitchIsNoFinding()
    {
        // `lab fail` with no environment evidence (a gateway that is running but answers nothing): the cause is the
        // gateway not answering through its tunnel; the kill switch refusing is fail-closed working.
        var client = Report(Client, HealthyClient, FailClosed);

        var report = await WalkAsync(client, Report(Gateway, HealthyGateway));

        var finding = Only(report, PathLink.Tunnel, "host.failover.gateway.tokyo-nat", Client);
        Assert.Contains("killswitch.uplink", finding.Seen, StringComparison.Ordinal);
        Assert.DoesNotContain(report.Checks, c => c.Id == "host.killswitch.uplink" && c.Status == DoctorStatus.Finding);
    }

    [Fact]
    public async Task EveryGatewayCut_WithTheEnvironmentSayingSo_OnlyTheEnvironmentsFinding()
    {
        var client = Report(Client, HealthyClient, FailClosed);
        var cut = DoctorCheck.Broken("instance.running", PathLink.Environment, Gateway, "tokyo-nat running", "cut off", "'egress lab heal tokyo-nat'", FixedBy.Manual);

        var report = await WalkAsync(client, Report(Gateway, HealthyGateway), cut);

        Assert.Equal([cut], report.Findings);
        Assert.Equal(PathLink.Environment, report.StoppedAt);
    }

    [Fact]
    public async Task KillSwitchRulesMissing_WhileFailClosed_IsStillAFinding()
    {
        // Folding covers the kill switch doing its job, not its rules gone: that is a fault of its own.
        var client = Report(Client, HealthyClient, [.. FailClosed.Where(f => f.Name != "killswitch.uplink"),
            ("killswitch.uplink", false, "no rule: rtclassid 201 .. kill switch; get 192.0.2.1 oif eth0: 192.0.2.1 via 10.0.1.1 dev eth0 realm 201; want  table 1011 ")]);

        var report = await WalkAsync(client, Report(Gateway, HealthyGateway));

        Only(report, PathLink.Client, "host.killswitch.uplink", Client);
    }

    [Fact]
    public async Task WatcherDead_OneFinding_AtTheWatcher()
    {
        var client = Report(Client, HealthyClient,
            ("failover.watcher", false, "not running: watcher pid 2024 is gone"),
            ("failover.gateway.tokyo-nat", true, "192.168.250.1 answers via eg1; watcher: not running"));

        var report = await WalkAsync(client, Report(Gateway, HealthyGateway));

        var finding = Only(report, PathLink.Client, "host.failover.watcher", Client);
        Assert.Contains("systemctl restart egress-host-watch.service", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void DnsViaGateway_IsJudgedWithTheNames_AfterEgress() =>
        Assert.Equal(PathLink.Dns, HostFindings.LinkOf("dns.via-gateway", HostRole.Client));

    [Fact]
    public void Attribution_FollowsTheChainToTheRoot()
    {
        var reports = new Dictionary<string, CheckReport>
        {
            [Client] = Report(Client, HealthyClient, FailClosed),
            [Gateway] = Report(Gateway, HealthyGateway, ("tunnel.up", false, "eg1 does not exist"), ("tunnel.mtu", false, "eg1 mtu missing, want 1450")),
        };

        var attribution = Attribution.Of(reports);

        var root = new HostInvariant(Gateway, "tunnel.up");
        Assert.Equal(root, attribution.CauseOf(new HostInvariant(Client, "dns.via-gateway")));
        Assert.Equal(root, attribution.CauseOf(new HostInvariant(Gateway, "tunnel.mtu")));
        Assert.Null(attribution.CauseOf(root));
        Assert.Equal(6, attribution.ConsequencesOf(root).Count);
        Assert.Equal(new HostInvariant(Gateway, "tunnel.mtu"), attribution.ConsequencesOf(root)[0]); // its own host's first
    }

    private static DoctorCheck Only(DoctorReport report, PathLink link, string id, string host)
    {
        var findings = report.Findings.ToList();
        Assert.True(findings.Count == 1, "findings: " + string.Join("; ", findings.Select(f => $"{f.Link} {f.Id} [{f.Host}] {f.Seen}")));
        Assert.Equal((link, id, host), (findings[0].Link, findings[0].Id, findings[0].Host));
        Assert.Equal(link, report.StoppedAt);
        Assert.NotNull(findings[0].Fix);
        return findings[0];
    }

    private static Task<DoctorReport> WalkAsync(CheckReport client, CheckReport gateway, params DoctorCheck[] environment)
    {
        var runners = new Dictionary<string, ICommandRunner> { [Client] = new Host(client), [Gateway] = new Host(gateway) };
        var hosts = new VerifyEnvironment("test", Seed, h => runners[h], new Dictionary<string, Ipv4Address>(), false, h => CommandSpec.Of("sh", "script", "check"));
        return DoctorWalk.RunAsync(new DoctorEnvironment(hosts) { EnvironmentChecks = _ => Task.FromResult<IReadOnlyList<DoctorCheck>>(environment) });
    }

    /// <summary>A host that answers its check with <paramref name="report"/>, the uplink MTU probe with 1500/1450, and
    /// the path MTU ping with two answers; anything else with nothing.</summary>
    private sealed class Host(CheckReport report) : ICommandRunner
    {
        public Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default)
        {
            var text = string.Join(' ', command.Arguments);
            var stdout = command.Arguments.Contains("check") ? Json(report)
                : text.Contains("/sys/class/net", StringComparison.Ordinal) ? "eth0 1500\neg1 1450\nlo 65536\n"
                : command.Program == "ping" ? "64 bytes from 192.168.250.1: icmp_seq=1 ttl=64 time=0.1 ms\n64 bytes from 192.168.250.1: icmp_seq=2 ttl=64 time=0.1 ms\n2 packets transmitted, 2 received, 0% packet loss\n"
                : string.Empty;
            return Task.FromResult(new CommandResult(0, stdout, string.Empty, TimeSpan.Zero));
        }

        private static string Json(CheckReport r) =>
            $$"""{"host":"{{r.Host}}","ok":{{(r.Ok ? "true" : "false")}},"invariants":[{{string.Join(',', r.Invariants.Select(i => $$"""{"name":"{{i.Name}}","ok":{{(i.Ok ? "true" : "false")}},"detail":"{{i.Detail}}"}"""))}}],"warnings":[]}""";
    }
}
