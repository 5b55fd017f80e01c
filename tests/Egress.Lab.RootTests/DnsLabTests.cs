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
public sealed partial class DnsLabTests
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
            var before = await EdgeLinkPacketsAsync(lab, "ap-northeast-1");
            var edge = await client.RunOkAsync("curl", "-sS", "--max-time", "10", $"https://{LabWorldPlan.GeoName}/lab/edge");
            Assert.Contains("\"edge\":\"ap-southeast-1\"", edge.StandardOutput, StringComparison.Ordinal);
            // Through Tokyo the Singapore edge is as far as Singapore: the request left Tokyo's VPC by the IGW link kept
            // for it (its delay where the kernel has netem) and the answer came back the same way.
            var after = await EdgeLinkPacketsAsync(lab, "ap-northeast-1");
            Assert.True(after.Sent - before.Sent >= 4 && after.Received - before.Received >= 4, $"Tokyo's edge link: sent {before.Sent} -> {after.Sent}, received {before.Received} -> {after.Received}");

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

    /// <summary>examples/failover.yaml: DNS moves with egress. The client's names resolve through the primary's forwarder;
    /// when the primary is cut they resolve through the standby's (a name never asked before still gets the Tokyo edge,
    /// and the stub's servers file names the standby's tunnel address); with every gateway cut (fail-closed) internet
    /// names are refused at once while the VPC's names resolve; healed, they resolve again. Prints how long after the cut
    /// the stub answered again (docs/lab.md quotes it).</summary>
    [RootFact]
    public async Task Failover_DnsMovesWithEgress_FailClosedRefusesInternetNamesButNotVpcNames_HealResolvesAgain()
    {
        LabTestSupport.RequirePrerequisites();
        Prerequisites.RequireProgram("python3", "python3");
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Failover));
        try
        {
            var client = lab.RunnerFor("sg-client");
            var tokyo = EdgeOf(lab, "ap-northeast-1");
            var primary = TunnelAddressOf(lab, "tokyo-nat");
            var standby = TunnelAddressOf(lab, "tokyo-nat-c");
            var servers = Path.Combine(Path.GetDirectoryName(lab.State.FailoverState("sg-client"))!, "dns.servers");
            await WaitForAsync(() => LabStatusCollector.Failover(lab).Single().ActiveGateway == "tokyo-nat", lab);
            Assert.Equal($"server={primary}", InternetServer(servers));
            Assert.Equal(tokyo, await ResolveAsync(client, LabWorldPlan.GeoName));

            // Cut the primary while the probe asks the stub a name never asked before every 20 ms.
            await using (var probe = DnsProbe.Start(lab, "sg-client"))
            {
                await Task.Delay(500);
                await probe.CutAsync(() => LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat", fail: true));
                var outage = await probe.OutageAfterCutAsync(TimeSpan.FromSeconds(10));
                Console.WriteLine($"dns after failover: the stub answered again {outage.TotalMilliseconds:0} ms after the primary was cut");
                Assert.True(outage < TimeSpan.FromSeconds(3), $"DNS answered again only {outage.TotalMilliseconds:0} ms after the cut\n{probe.Describe()}");
            }

            Assert.Equal("tokyo-nat-c", LabStatusCollector.Failover(lab).Single().ActiveGateway);
            Assert.Equal($"server={standby}", InternetServer(servers));
            Assert.Equal(tokyo, await ResolveAsync(client, $"after-failover.{LabWorldPlan.GeoName}"));
            Assert.Equal(standby, await ResolveAsync(client, $"{standby.Replace('.', '-')}.tokyo-nat-c.dns.egress.test"));
            var dns = (await LabStatusCollector.CheckAsync(lab, "sg-client")).Report!.Invariants.Where(i => i.Name.StartsWith("dns.", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, dns.Count);
            Assert.True(dns.All(i => i.Ok), string.Join("\n", dns.Select(i => $"{i.Name} {i.Ok} {i.Detail}")));

            // Fail-closed: no gateway left; internet names are refused at once, the VPC's names still resolve.
            await LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat-c", fail: true);
            await WaitForAsync(() => LabStatusCollector.Failover(lab).Single().ActiveGateway is null or "-", lab);
            Assert.Null(InternetServer(servers));
            var clock = Stopwatch.StartNew();
            Assert.Null(await ResolveAsync(client, $"fail-closed.{LabWorldPlan.GeoName}"));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"refusing took {clock.ElapsedMilliseconds} ms");
            Assert.Equal("10.0.1.10", await ResolveAsync(client, "ip-10-0-1-10.ap-southeast-1.compute.internal"));
            Assert.Equal("10.1.3.10", await ResolveAsync(client, "ip-10-1-3-10.ap-northeast-1.compute.internal"));

            // Heal the standby: names resolve again through it.
            clock.Restart();
            await LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat-c", fail: false);
            await WaitForAsync(async () => await ResolveAsync(client, $"healed-{clock.ElapsedMilliseconds}.{LabWorldPlan.GeoName}") == tokyo, lab, TimeSpan.FromSeconds(15));
            Console.WriteLine($"dns after heal: names resolve again {clock.ElapsedMilliseconds} ms after the standby was healed");
            Assert.Equal($"server={standby}", InternetServer(servers));
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    /// <summary>`lab up --resolver-delay ap-southeast-1=400`: Singapore's VPC resolver answers after 400 ms. With
    /// resolveVia local the client asks it, and verify's cold lookup of the geo name pays the delay; with gateway the
    /// client's internet names are resolved in Tokyo (not delayed) and do not: the point of resolving at the egress side.
    /// `down` stops the delaying forwarder.</summary>
    [RootFact]
    public async Task SlowSingaporeResolver_LocalPaysTheDelay_GatewayDoesNot_DownStopsTheForwarder()
    {
        LabTestSupport.RequirePrerequisites();
        const int delayMs = 400;
        var delays = new Dictionary<string, int> { ["ap-southeast-1"] = delayMs };
        foreach (var via in new[] { DnsResolveVia.Local, DnsResolveVia.Gateway })
        {
            var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed) with { Dns = new DnsSettings { ResolveVia = via } }, resolverDelays: delays);
            int? forwarder;
            try
            {
                Assert.Equal(delayMs, lab.Manifest.ResolverDelays["ap-southeast-1"]);
                forwarder = LabController.TryReadPid(lab.State.ResolverDelayFile("ap-southeast-1", "pid"));
                Assert.True(forwarder is { } pid && LabController.IsAlive(pid), "the delaying forwarder does not run");
                Assert.Null(LabController.TryReadPid(lab.State.ResolverDelayFile("ap-northeast-1", "pid")));
                Assert.Equal(new LabResolverDelayStatus("ap-southeast-1", delayMs, forwarder), LabStatusCollector.ResolverDelays(lab).Single());

                var report = await LabTestSupport.VerifyAsync(lab, rounds: 1);
                var dns = report.Rounds[0].Checks.Single(c => c.Id == VerifySuite.Ids.DnsAnswer && c.Target == LabWorldPlan.GeoName);
                var first = double.Parse(FirstLookup().Match(dns.Detail).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                Console.WriteLine($"resolver delay {delayMs} ms on ap-southeast-1, resolveVia {via}: cold lookup of {LabWorldPlan.GeoName} {first} ms");
                if (via == DnsResolveVia.Local)
                {
                    Assert.True(first >= delayMs - 20, dns.Detail);
                    Assert.Equal(EdgeOf(lab, "ap-southeast-1"), await ResolveAsync(lab.RunnerFor("sg-client"), LabWorldPlan.GeoName));

                    // DNS over TCP (what a resolver falls back to for a truncated answer): two queries on one connection, each delayed.
                    var tcp = await lab.RunnerFor("sg-client").RunOkAsync("python3", "-c", DnsQueries.Script, LabWorldPlan.GeoName, lab.Plan.Resolvers.Single(r => r.Region == "ap-southeast-1").Address.ToString(), "tcp", "2");
                    var answers = tcp.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                    Assert.Equal(2, answers.Length);
                    Assert.All(answers, a => Assert.True(int.Parse(a.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) >= delayMs - 20 && a.EndsWith(" " + EdgeOf(lab, "ap-southeast-1"), StringComparison.Ordinal), tcp.StandardOutput));
                }
                else
                {
                    // Not through Singapore's resolver: any answer from it takes at least the delay.
                    Assert.True(first < delayMs - 20, dns.Detail);
                    Assert.Equal(CheckStatus.Pass, dns.Status);
                }

                if (via == DnsResolveVia.Gateway)
                {
                    // A forwarder that died leaves Singapore's resolver answering nothing: lab status says so, unhealthy.
                    using (var process = Process.GetProcessById(forwarder!.Value))
                    {
                        process.Kill();
                        await process.WaitForExitAsync();
                    }

                    var status = await LabStatusCollector.CollectAsync(lab);
                    Assert.Null(status.ResolverDelays.Single().Pid);
                    Assert.False(status.Healthy);
                }
            }
            finally
            {
                await LabController.Default.DownAsync(lab.Id);
            }

            Assert.False(LabController.IsAlive(forwarder!.Value), $"down left the delaying forwarder {forwarder} running");
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("lookup ([0-9.]+) ms first")]
    private static partial System.Text.RegularExpressions.Regex FirstLookup();

    /// <summary>The stub's server for internet names (the servers file's line without a domain), or null (refused).</summary>
    private static string? InternetServer(string serversFile) =>
        File.ReadAllLines(serversFile).SingleOrDefault(l => l.StartsWith("server=", StringComparison.Ordinal) && !l.StartsWith("server=/", StringComparison.Ordinal));

    private static string TunnelAddressOf(RunningLab lab, string gateway) =>
        TunnelPairs.Of(lab.Topology).Single(p => p.Client.Name == "sg-client" && p.Gateway.Name == gateway).GatewayAddress.ToString();

    /// <summary>Packets sent and received by the router end of <paramref name="region"/>'s edge link (the plan's only one there).</summary>
    private static async Task<(long Sent, long Received)> EdgeLinkPacketsAsync(RunningLab lab, string region)
    {
        var link = lab.Plan.EdgeLinks.Single(l => l.Region == region).RouterInterface;
        var result = await new NamespaceRunner(lab.Plan.RouterOf(region).Namespace).RunOkAsync("cat", $"/sys/class/net/{link}/statistics/tx_packets", $"/sys/class/net/{link}/statistics/rx_packets");
        var counts = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(c => long.Parse(c, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return (counts[0], counts[1]);
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
