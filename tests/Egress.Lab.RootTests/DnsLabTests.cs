using System.Diagnostics;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Lab.World;
using Egress.Tests.Shared;
using Egress.Verify;

namespace Egress.Lab.RootTests;

/// <summary>Issue 16 in the lab: each region's VPC resolver answers the geo name (cdn.lab.example) with the edge in its own
/// region. With dns.resolveVia gateway the client resolves through the tunnel to the gateway's forwarder, gets the Tokyo
/// edge, and its request goes there; with local it gets the Singapore edge and verify reports the mismatch.</summary>
[Collection(FailoverTiming.Name)]
public sealed class DnsLabTests
{
    [RootFact]
    public async Task ResolveViaGateway_ClientGetsTheGatewayRegionsEdge_FailClosedRefusesInternetNames_DownRestoresResolvConf()
    {
        LabTestSupport.RequirePrerequisites();
        Prerequisites.RequireProgram("dnsmasq", "dnsmasq-base");
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed));
        try
        {
            var client = lab.RunnerFor("sg-client");
            var tokyo = EdgeOf(lab, "ap-northeast-1");

            Assert.Equal(tokyo, await ResolveAsync(client, LabWorldPlan.GeoName));
            var edge = await client.RunOkAsync("curl", "-sS", "--max-time", "10", $"https://{LabWorldPlan.GeoName}/lab/edge");
            Assert.Contains("\"edge\":\"ap-northeast-1\"", edge.StandardOutput, StringComparison.Ordinal);
            Assert.Contains($"\"address\":\"{tokyo}\"", edge.StandardOutput, StringComparison.Ordinal);
            Assert.Contains($"\"client\":\"{lab.PublicAddressOf("tokyo-nat")}\"", edge.StandardOutput, StringComparison.Ordinal);

            var report = await LabTestSupport.VerifyAsync(lab, rounds: 1);
            var dns = report.Rounds[0].Checks.Single(c => c.Id == VerifySuite.Ids.DnsAnswer && c.Target == LabWorldPlan.GeoName);
            Assert.True(dns.Status == CheckStatus.Pass, LabTestSupport.Describe(report));
            Assert.Contains("ms first", dns.Detail, StringComparison.Ordinal);
            Assert.True(report.Passed, LabTestSupport.Describe(report));

            // Fail-closed: internet names are refused at once, the VPC's names still resolve locally.
            await LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat", fail: true);
            await WaitForAsync(() => LabStatusCollector.Failover(lab).Single().ActiveGateway is null or "-" or "none", lab);
            var clock = Stopwatch.StartNew();
            Assert.Null(await ResolveAsync(client, LabWorldPlan.GeoName));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"refusing took {clock.ElapsedMilliseconds} ms");
            Assert.Equal("10.1.1.10", await ResolveAsync(client, "ip-10-1-1-10.ap-northeast-1.compute.internal"));
            await LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat", fail: false);
            await WaitForAsync(async () => await ResolveAsync(client, LabWorldPlan.GeoName) == tokyo, lab, TimeSpan.FromSeconds(15));

            // down restores the resolv.conf the lab gave the namespace, byte for byte, and stops both dnsmasqs.
            var resolv = Path.Combine(LabNames.NetnsEtc, lab.Plan.HostNamed("sg-client").Namespace, "resolv.conf");
            var original = lab.Plan.ResolvConfOf(lab.Plan.NamespaceNamed(lab.Plan.HostNamed("sg-client").Namespace));
            Assert.NotEqual(original, await File.ReadAllTextAsync(resolv));
            foreach (var host in new[] { "sg-client", "tokyo-nat" })
            {
                await lab.RunnerFor(host).RunOkAsyncWith(RunningLab.ScriptEnvironment(lab.State, host), "sh", lab.State.HostScript(host), "down");
                Assert.DoesNotContain(":53 ", (await lab.RunnerFor(host).RunOkAsync("ss", "-Hlnu")).StandardOutput, StringComparison.Ordinal);
            }

            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(original), await File.ReadAllBytesAsync(resolv));
            Assert.Equal(EdgeOf(lab, "ap-southeast-1"), await ResolveAsync(client, LabWorldPlan.GeoName));
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    [RootFact]
    public async Task ResolveViaLocal_ClientGetsItsOwnRegionsEdge_VerifyReportsTheMismatch()
    {
        LabTestSupport.RequirePrerequisites();
        var topology = Examples.Load(Examples.Seed) with { Dns = new DnsSettings { ResolveVia = DnsResolveVia.Local } };
        var lab = await LabTestSupport.UpAsync(topology);
        try
        {
            var client = lab.RunnerFor("sg-client");
            var singapore = EdgeOf(lab, "ap-southeast-1");

            Assert.Equal(singapore, await ResolveAsync(client, LabWorldPlan.GeoName));
            var edge = await client.RunOkAsync("curl", "-sS", "--max-time", "10", $"https://{LabWorldPlan.GeoName}/lab/edge");
            Assert.Contains("\"edge\":\"ap-southeast-1\"", edge.StandardOutput, StringComparison.Ordinal);

            var report = await LabTestSupport.VerifyAsync(lab, rounds: 1);
            var dns = report.Rounds[0].Checks.Single(c => c.Id == VerifySuite.Ids.DnsAnswer && c.Target == LabWorldPlan.GeoName);
            Assert.Equal(CheckStatus.Fail, dns.Status);
            Assert.Contains($"mismatch: sg-client resolves {LabWorldPlan.GeoName} to {singapore}, but tokyo-nat's region ap-northeast-1 answers {EdgeOf(lab, "ap-northeast-1")}", dns.Detail, StringComparison.Ordinal);
            Assert.Contains("dns.resolveVia: gateway", dns.Detail, StringComparison.Ordinal);
            // Names the hosts file answers (the verify target) match either way.
            Assert.Equal(CheckStatus.Pass, report.Rounds[0].Checks.Single(c => c.Id == VerifySuite.Ids.DnsAnswer && c.Target == "api.binance.com").Status);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    private static string EdgeOf(RunningLab lab, string region) => lab.Plan.Edges.Single(e => e.Region == region).Address.ToString();

    /// <summary>The first IPv4 address the host's system resolver gives for <paramref name="name"/>, or null.</summary>
    private static async Task<string?> ResolveAsync(ICommandRunner runner, string name)
    {
        var result = await runner.RunAsync(CommandSpec.Of("getent", "ahostsv4", name));
        return result.Succeeded ? result.StandardOutput.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() : null;
    }

    private static Task WaitForAsync(Func<bool> condition, RunningLab lab, TimeSpan? timeout = null) => WaitForAsync(() => Task.FromResult(condition()), lab, timeout);

    private static async Task WaitForAsync(Func<Task<bool>> condition, RunningLab lab, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(5)),
                $"timed out: {LabStatusCollector.Failover(lab).Single()}\n{(File.Exists(lab.State.WatcherLog("sg-client")) ? File.ReadAllText(lab.State.WatcherLog("sg-client")) : "(no log)")}");
            await Task.Delay(50);
        }
    }
}

internal static class DnsLabRunnerExtensions
{
    public static async Task<CommandResult> RunOkAsyncWith(this ICommandRunner runner, IReadOnlyDictionary<string, string> environment, params string[] command)
    {
        var spec = new CommandSpec(command[0], command[1..]) { Environment = environment };
        return (await runner.RunAsync(spec)).EnsureSuccess(spec);
    }
}
