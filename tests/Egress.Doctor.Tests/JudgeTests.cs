using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Rendering;

namespace Egress.Doctor.Tests;

/// <summary>How single pieces of evidence become checks: folding, links, thresholds.</summary>
public sealed class JudgeTests
{
    private static CheckReport Report(params (string Name, bool Ok, string Detail)[] invariants) =>
        new("h", invariants.All(i => i.Ok), [.. invariants.Select(i => new CheckInvariant(i.Name, i.Ok, i.Detail))], []);

    private static CommandResult Out(string stdout, int exit = 0) => new(exit, stdout, string.Empty, TimeSpan.Zero);

    [Fact]
    public void DeletedNatTable_OneFinding_TheRulesItHeldFoldIntoIt()
    {
        var report = Report(("nat.table", false, "no table"), ("nat.masquerade-covers-tunnel", false, "no rule"), ("forward.only-clients", false, "no rule"),
            ("overlay.only-clients", false, "no rule"), ("sysctl.ip_forward", true, "1"), ("tunnel.up", true, "up"));

        var checks = HostFindings.On(PathLink.Gateway, "gw", HostRole.Gateway, report, "enabled");

        var finding = Assert.Single(checks, c => c.Status == DoctorStatus.Finding);
        Assert.Equal("host.nat.table", finding.Id);
        Assert.Contains("nat.masquerade-covers-tunnel, forward.only-clients, overlay.only-clients", finding.Seen, StringComparison.Ordinal);
        Assert.Contains("is enabled, so a reboot applies it too", finding.Fix, StringComparison.Ordinal);
        Assert.Equal(3, checks.Count(c => c.Status == DoctorStatus.Skipped));
        Assert.DoesNotContain(checks, c => c.Id == "host.tunnel.up"); // the tunnel link's, judged there
    }

    [Fact]
    public void NatTableMissingAndBootUnitDisabled_TheFixSaysItWouldBeLostAtReboot()
    {
        var finding = HostFindings.On(PathLink.Gateway, "gw", HostRole.Gateway, Report(("nat.table", false, "no table")), "disabled").Single();

        Assert.Contains("systemctl enable egress-host.service", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void FailClosedClient_TheRouteFoldsIntoTheActiveGateway()
    {
        var report = Report(("failover.active-gateway", false, "no gateway alive: egress refused (fail-closed)"), ("route.default-via-tunnel", false, "no route"));

        var checks = HostFindings.On(PathLink.Egress, "c", HostRole.Client, report, null);

        Assert.Equal(["host.failover.active-gateway"], checks.Where(c => c.Status == DoctorStatus.Finding).Select(c => c.Id));
    }

    [Theory]
    [InlineData("tunnel.mtu", HostRole.Client, PathLink.Tunnel)]
    [InlineData("failover.gateway.tokyo-nat", HostRole.Client, PathLink.Tunnel)]
    [InlineData("failover.watcher", HostRole.Client, PathLink.Client)]
    [InlineData("route.default-via-tunnel", HostRole.Client, PathLink.Egress)]
    [InlineData("sysctl.rp_filter", HostRole.Gateway, PathLink.Gateway)]
    [InlineData("sysctl.rp_filter", HostRole.Client, PathLink.Client)]
    public void Invariants_BelongToTheirLink(string invariant, HostRole role, PathLink link) =>
        Assert.Equal(link, HostFindings.LinkOf(invariant, role));

    [Fact]
    public void Dns_ASlowName_IsAFinding_AFastOneIsNot()
    {
        var names = new[] { "api.binance.com", "ipinfo.io" };

        var slow = Resolve.Judge("c", names, Out("api.binance.com 0.312 192.0.2.10\nipinfo.io 0.004 192.0.2.20\n"), TimeSpan.FromMilliseconds(100));
        var fast = Resolve.Judge("c", names, Out("api.binance.com 0.012 192.0.2.10\nipinfo.io 0.004 192.0.2.20\n"), TimeSpan.FromMilliseconds(100));
        var none = Resolve.Judge("c", names, Out("api.binance.com 0.002 none\nipinfo.io 0.004 192.0.2.20\n"), TimeSpan.FromMilliseconds(100));

        Assert.Equal(DoctorStatus.Finding, slow.Status);
        Assert.Contains("api.binance.com: 192.0.2.10 in 312 ms", slow.Seen, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Healthy, fast.Status);
        Assert.Equal(DoctorStatus.Finding, none.Status);
        Assert.Contains("no address", none.Seen, StringComparison.Ordinal);
    }

    [Fact]
    public void Dns_OutputMissingAName_IsAFindingNotACrash() =>
        Assert.Equal(DoctorStatus.Finding, Resolve.Judge("c", ["a.example"], Out(string.Empty, 127), TimeSpan.FromMilliseconds(100)).Status);

    [Fact]
    public void Gateway_StealAndConntrackAboveTheirLimits_AreFindings()
    {
        // /proc/stat: steal 100 → 160 of total 1000 → 1200: 30% stolen; conntrack 900 of 1000.
        var checks = GatewayProbe.Judge("gw", Out("steal=100 1000 160 1200\nconntrack=900 1000\n"), new DoctorOptions());

        Assert.Equal(["gateway.cpu-steal", "gateway.conntrack"], checks.Where(c => c.Status == DoctorStatus.Finding).Select(c => c.Id));
        Assert.Contains("30% stolen", checks[0].Seen, StringComparison.Ordinal);

        var calm = GatewayProbe.Judge("gw", Out("steal=100 1000 101 1200\nconntrack=10 1000\n"), new DoctorOptions());
        Assert.All(calm, c => Assert.Equal(DoctorStatus.Healthy, c.Status));

        var unread = GatewayProbe.Judge("gw", Out("garbage", 1), new DoctorOptions());
        Assert.All(unread, c => Assert.Equal(DoctorStatus.Skipped, c.Status));
    }

    [Fact]
    public void UplinkMtu_BelowTheTunnelsPlusHeader_IsAFinding()
    {
        var report = Report(("uplink.found", true, "10.0.1.10 on eth0"));

        var low = UplinkMtu.Judge("c", report, ["eg1"], OverlayMode.Ipip, Out("eth0 1400\neg1 1480\nlo 65536\n"));
        var ok = UplinkMtu.Judge("c", report, ["eg1"], OverlayMode.Ipip, Out("eth0 1500\neg1 1480\n"));

        Assert.Equal(DoctorStatus.Finding, low.Status);
        Assert.Contains("underlayMtu: 1400", low.Fix, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Healthy, ok.Status);
    }
}
