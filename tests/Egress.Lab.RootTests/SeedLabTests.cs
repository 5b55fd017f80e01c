using Egress.Core.Topology;
using Egress.Lab.World;
using Egress.Tests.Shared;

namespace Egress.Lab.RootTests;

/// <summary>The "must show" on the seed topology, in real network namespaces.</summary>
public sealed class SeedLabTests(SeedLabFixture fixture) : IClassFixture<SeedLabFixture>
{
    private RunningLab Lab => fixture.Lab;

    [RootFact]
    public async Task Verify_SeedTopology_EgressesFromTokyoViaTunnelWithoutCrossingSingaporeIgw()
    {
        var report = await LabTestSupport.VerifyAsync(Lab);
        var checks = report.Rounds.SelectMany(r => r.Checks).ToList();

        Assert.True(report.Passed, LabTestSupport.Describe(report));
        var egress = Assert.Single(report.Egress);
        Assert.Equal(("198.51.100.74", "Tokyo", "JP"), (egress.Observed?.Ip, egress.Observed?.City, egress.Observed?.Country));
        Assert.Equal("192.168.250.1", Assert.Single(report.Paths.Select(p => p.Trace.Hops[0].Address).Distinct()));
        Assert.Contains(checks, c => c.Id == "lab." + LabCounterChecks.NoClientEgressViaOwnIgw && c.Host == "sg-client" && c.Status == Egress.Verify.CheckStatus.Pass);
        Assert.Contains(checks, c => c.Id == "connectivity.host-check" && c.Host == "tokyo-nat" && c.Status == Egress.Verify.CheckStatus.Pass);
    }

    [RootFact]
    public async Task IpEcho_FromClient_SaysTokyoAndTheGatewayAddress()
    {
        var result = await Lab.RunnerFor("sg-client").RunOkAsync("curl", "-sS", "--max-time", "5", "https://ipinfo.io/json");

        Assert.Contains("\"ip\":\"198.51.100.74\"", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"city\":\"Tokyo\"", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"country\":\"JP\"", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"org\":\"AS16509 Amazon.com, Inc.\"", result.StandardOutput, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task SshLikeInbound_ToClientPublicAddress_ConnectsAndRepliesLeaveViaSingapore()
    {
        const string port = "22"; // the only port the security group (access.ssh) opens
        var before = await LabStatusCollector.CountersAsync(Lab);
        using var server = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip",
            ["netns", "exec", Lab.Plan.HostNamed("sg-client").Namespace, "iperf3", "-s", "-1", "-p", port])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            await Task.Delay(300);
            var client = await Lab.InternetRunner().RunAsync(new Processes.CommandSpec("iperf3", ["-c", "198.51.100.10", "-p", port, "-t", "1", "-J", "--connect-timeout", "3000"]) { Timeout = TimeSpan.FromSeconds(20) });
            Assert.True(client.Succeeded, client.StandardOutput + client.StandardError);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }
        }

        var after = await LabStatusCollector.CountersAsync(Lab);
        // The inbound connections came in through Singapore's IGW (1:1 NAT to sg-client) ...
        Assert.True(after.IgwNatIn["sg-client"] > before.IgwNatIn["sg-client"]);
        // ... and none of the replies went out via Tokyo (they would have been masqueraded to Tokyo's address).
        Assert.Equal(before.IgwNatOut["tokyo-nat"], after.IgwNatOut["tokyo-nat"]);
    }

    [RootFact]
    public async Task MetadataStandIn_FromClient_IsReachedThroughEth0InOneHop()
    {
        var client = Lab.RunnerFor("sg-client");
        var route = await client.RunOkAsync("ip", "route", "get", LabWorldPlan.MetadataAddress.ToString());
        var target = LabWorldPlan.MetadataAddress.ToString();
        var trace = Egress.Verify.Probes.PathProbe.ParseMtr(target, await client.RunAsync(Egress.Verify.Probes.PathProbe.Mtr(target, 2)));
        var (hop, detail) = (trace.Hops.FirstOrDefault()?.Address, trace.Problem ?? $"{trace.Hops.Count} hops");
        var echo = await client.RunOkAsync("curl", "-sS", "--max-time", "5", "https://ipinfo.io/json");

        Assert.Contains("dev eth0", route.StandardOutput, StringComparison.Ordinal);
        Assert.True(hop == "169.254.169.254", detail);
        Assert.Contains("198.51.100.74", echo.StandardOutput, StringComparison.Ordinal); // egress still via Tokyo
    }

    [RootFact]
    public async Task Download20MB_ThroughTunnelWithFragNeededDropped_Completes()
    {
        // The peering links always drop ICMP "fragmentation needed" (counted); here the internet drops it too,
        // so no sender can learn the path MTU: only the tunnel MTU and the MSS clamp keep the transfer alive.
        var internet = Lab.InternetRunner();
        await internet.RunOkAsync("nft", "add table ip labtest");
        try
        {
            await internet.RunOkAsync("nft", "add chain ip labtest in { type filter hook input priority filter; policy accept; }");
            await internet.RunOkAsync("nft", "add rule ip labtest in icmp type destination-unreachable icmp code frag-needed drop");
            var result = await Lab.RunnerFor("sg-client").RunAsync(new Processes.CommandSpec("curl",
                ["-sS", "--max-time", "60", "-o", "/dev/null", "-w", "%{size_download} %{remote_ip}", "https://api.binance.com/lab/bytes/20971520"])
            {
                Timeout = TimeSpan.FromSeconds(90),
            });

            Assert.True(result.Succeeded, result.StandardError);
            Assert.StartsWith("20971520 ", result.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            await internet.RunOkAsync("nft", "delete table ip labtest");
        }

        var tunnel = (await LabStatusCollector.CollectAsync(Lab)).Tunnels.First(t => t.Host == "sg-client");
        Assert.Equal(Mtu.Tunnel(Lab.Topology.Overlay.UnderlayMtu, Lab.Manifest.Overlay), tunnel.Mtu);
    }

    [RootFact]
    public async Task Status_SeedLab_ReportsNamespacesTunnelsChecksAndLatencyState()
    {
        var status = await LabStatusCollector.CollectAsync(Lab);

        Assert.True(status.Healthy, System.Text.Json.JsonSerializer.Serialize(status));
        Assert.Equal(5, status.Namespaces.Count);
        Assert.All(status.Namespaces, n => Assert.True(n.Exists));
        Assert.Equal(2, status.Checks.Count);
        Assert.Equal("198.51.100.10", status.PublicAddresses["sg-client"]);
        Assert.Equal(2, status.Tunnels.Count);
        Assert.Contains(Lab.Manifest.Overlay == OverlayMode.Vxlan ? "vxlan" : "ipip", status.Overlay, StringComparison.Ordinal);
        Assert.StartsWith("latency emulation: ", status.Latency, StringComparison.Ordinal);
    }
}
