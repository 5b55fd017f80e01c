using Egress.Core.Topology;
using Egress.Processes;
using Egress.Lab;
using Egress.Tests.Shared;
using Egress.Verify.Reporting;

namespace Egress.Verify.RootTests;

/// <summary>The suite against a real lab of the seed topology (namespaces, the host scripts, the lab's HTTPS services):
/// it passes, and when the gateway's NAT is removed between rounds it fails and names the failed checks.</summary>
public sealed class LabVerifyTests
{
    private static readonly VerifyOptions Quick = new() { ColdSamples = 3, KeepAliveRequests = 5, PathCycles = 2, RequestTimeout = TimeSpan.FromSeconds(2) };

    [RootFact]
    public async Task Suite_SeedLab_PassesEveryRound()
    {
        await WithSeedLabAsync(async lab =>
        {
            var report = await new VerifySuite().RunAsync(Environment(lab), Quick with { Rounds = 2 }, null, CancellationToken.None);

            Assert.True(report.Passed, string.Join("\n", report.Failures.Select(f => $"{f.Id} {f.Host}: {f.Detail}")));
            Assert.Equal("192.168.250.1", Assert.Single(report.Paths).Trace.Hops[0].Address);
            Assert.Equal(lab.PublicAddressOf("tokyo-nat"), Assert.Single(report.Egress).Observed?.Ip);
            Assert.Equal(2 * 3, report.Latency[0].Cold.Samples);
            Assert.Equal(2 * 4, report.Latency[0].KeepAlive.Samples);
            Assert.Contains("<svg class=\"cdf\"", VerifyHtmlWriter.Write(report), StringComparison.Ordinal);
        });
    }

    [RootFact]
    public async Task Suite_GatewayNatRemovedMidRun_FailsNamingTheFailedChecks()
    {
        await WithSeedLabAsync(async lab =>
        {
            var gateway = lab.RunnerFor("tokyo-nat");
            var removed = false;
            var progress = new SyncProgress(p =>
            {
                if (p.Round == 2 && !removed)
                {
                    removed = true; // between round 1 and round 2: the gateway stops masquerading
                    var delete = CommandSpec.Of("nft", "delete", "table", "ip", "egress");
                    gateway.RunAsync(delete).GetAwaiter().GetResult().EnsureSuccess(delete);
                }
            });

            var report = await new VerifySuite().RunAsync(Environment(lab), Quick with { Rounds = 2 }, progress, CancellationToken.None);

            Assert.True(removed);
            Assert.True(report.Rounds[0].Passed, string.Join("\n", report.Rounds[0].Checks.Where(c => c.Status == CheckStatus.Fail).Select(c => c.Detail)));
            Assert.False(report.Passed);
            var failed = report.Rounds[1].Checks.Where(c => c.Status == CheckStatus.Fail).ToList();
            var hostCheck = Assert.Single(failed, c => c.Id == VerifySuite.Ids.HostCheck);
            Assert.Equal("tokyo-nat", hostCheck.Host);
            Assert.Contains("nat.masquerade-covers-tunnel", hostCheck.Detail, StringComparison.Ordinal);
            Assert.StartsWith("timed out: https://ipinfo.io/json", Assert.Single(failed, c => c.Id == VerifySuite.Ids.EgressIp).Detail, StringComparison.Ordinal);
            Assert.Contains(failed, c => c.Id == VerifySuite.Ids.Requests);
            Assert.DoesNotContain(failed, c => c.Id == VerifySuite.Ids.FirstHop); // the path still enters the tunnel; only NAT is gone
        });
    }

    private static VerifyEnvironment Environment(RunningLab lab) =>
        new("lab", lab.Topology, host => lab.RunnerFor(host), lab.PublicAddresses, lab.LatencyEmulated, lab.CheckCommand);

    private static async Task WithSeedLabAsync(Func<RunningLab, Task> test)
    {
        Prerequisites.RequireRoot();
        Prerequisites.RequireProgram("nft", "nftables");
        Prerequisites.RequireProgram("ip", "iproute2");
        Prerequisites.RequireProgram("curl", "curl");
        Prerequisites.RequireProgram("mtr", "mtr-tiny");
        Prerequisites.RequireProgram("ping", "iputils-ping");
        var lab = await LabController.Default.UpAsync(new LabUpOptions
        {
            Topology = Examples.Load(Examples.Seed),
            Id = LabNames.RandomId('v'),
            ServicesCommand = id => new CommandSpec(
                System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnet ? dotnet : "dotnet",
                [Path.Combine(AppContext.BaseDirectory, "egress.dll"), "lab", "serve", "--id", id]),
            Scripts = HostRendererScripts.Instance,
        });
        try
        {
            await test(lab);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    private sealed class SyncProgress(Action<VerifyProgress> report) : IProgress<VerifyProgress>
    {
        public void Report(VerifyProgress value) => report(value);
    }
}
