using System.Diagnostics;
using System.Text.RegularExpressions;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Tests.Shared;

namespace Egress.Lab.RootTests;

/// <summary>examples/failover.yaml in the lab: `up` starts the client's watcher; `lab fail`/`lab heal` cut and restore
/// a gateway; the IP echo tells which Elastic IP the traffic leaves from.</summary>
[Collection(FailoverTiming.Name)]
public sealed partial class FailoverLabTests
{
    /// <summary>bench/failover.sh measures the outage (about 0.8 s idle); this bound proves the watcher moves egress, with
    /// slack for a loaded CI machine (2215 ms was seen there against an earlier 2000 ms bound).</summary>
    private static readonly TimeSpan MaxOutage = TimeSpan.FromMilliseconds(3000);

    [RootFact]
    public async Task FailPrimary_RequestsEvery20Ms_MoveToTheStandbysAddressPromptly()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Failover));
        try
        {
            var primary = lab.PublicAddressOf("tokyo-nat");
            var standby = lab.PublicAddressOf("tokyo-nat-c");
            await WaitForActiveAsync(lab, "tokyo-nat");
            Assert.Equal(primary, await EchoAsync(lab));

            var samples = await SampleAsync(lab, () => LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat", fail: true));

            var outage = samples.Outage(primary, standby);
            Assert.True(outage < MaxOutage, samples.Describe(outage) + "\n" + File.ReadAllText(lab.State.WatcherLog("sg-client")));
            Assert.Equal(standby, samples.List[^1].Ip);
            var status = LabStatusCollector.Failover(lab).Single();
            Assert.Equal(("sg-client", "tokyo-nat-c"), (status.Client, status.ActiveGateway));
            Assert.NotNull(status.WatcherPid);
            Assert.Contains("tokyo-nat down", status.GatewayStates);

            // Verify judges the gateway that is active now (identity and path), not egressVia[0].
            var report = await LabTestSupport.VerifyAsync(lab, rounds: 1);
            var sg = report.Rounds[0].Checks.Where(c => c.Host == "sg-client").ToList();
            Assert.True(sg.Single(c => c.Id == "egress.ip").Status == Egress.Verify.CheckStatus.Pass, LabTestSupport.Describe(report));
            Assert.True(sg.Single(c => c.Id == "path.first-hop").Status == Egress.Verify.CheckStatus.Pass, LabTestSupport.Describe(report));
            Assert.Equal(("tokyo-nat-c", standby), (report.Egress.Single().Gateway, report.Egress.Single().Observed?.Ip));

            await LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat", fail: false);
            await WaitForActiveAsync(lab, "tokyo-nat", TimeSpan.FromSeconds(10)); // upAfter 1 s + hold-down 5 s
            Assert.Equal(primary, await EchoAsync(lab));
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }

        Assert.Null(LabController.TryReadPid(lab.State.WatcherPid("sg-client")) is { } pid && LabController.IsAlive(pid) ? pid : null);
    }

    [RootFact]
    public async Task FailEveryGateway_FailClosed_NothingLeavesFromSingaporeAndInboundStillAnswers()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(LabTestSupport.WithSshFromInternet(Examples.Load(Examples.Failover)));
        try
        {
            await WaitForActiveAsync(lab, "tokyo-nat");
            var before = (await LabStatusCollector.CountersAsync(lab)).IgwNatOut["sg-client"];

            await LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat", fail: true);
            await LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat-c", fail: true);
            await WaitForActiveAsync(lab, "-");
            for (var i = 0; i < 5; i++)
            {
                Assert.Null(await EchoAsync(lab));
            }

            Assert.Equal(before, (await LabStatusCollector.CountersAsync(lab)).IgwNatOut["sg-client"]);
            // An SSH-like connection from the internet to the client's public address is still answered.
            await using var listener = new Listener(lab);
            var inbound = await lab.InternetRunner().RunAsync(new CommandSpec("curl", ["-sS", "--max-time", "3", $"http://{lab.PublicAddressOf("sg-client")}:22/"]));
            Assert.True(inbound.Succeeded, inbound.StandardError);
            var check = await LabStatusCollector.CheckAsync(lab, "sg-client");
            Assert.False(check.Passed);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    [RootFact]
    public async Task FailEveryGateway_FailOpen_EgressResumesFromSingaporeWithinTheSameBound()
    {
        LabTestSupport.RequirePrerequisites();
        var topology = Examples.Load(Examples.Failover);
        var lab = await LabTestSupport.UpAsync(topology with { Failover = topology.Failover with { Policy = FailurePolicy.FailOpen } });
        try
        {
            var primary = lab.PublicAddressOf("tokyo-nat");
            var own = lab.PublicAddressOf("sg-client");
            await WaitForActiveAsync(lab, "tokyo-nat");

            var samples = await SampleAsync(lab, async () =>
            {
                await LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat", fail: true);
                await LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat-c", fail: true);
            });

            var outage = samples.Outage(primary, own);
            Assert.True(outage < MaxOutage, samples.Describe(outage) + "\n" + File.ReadAllText(lab.State.WatcherLog("sg-client")));
            Assert.Equal(own, samples.List[^1].Ip);
            Assert.Contains("FAIL-OPEN", await File.ReadAllTextAsync(lab.State.WatcherLog("sg-client")), StringComparison.Ordinal);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    [RootFact]
    public async Task WatcherKilled_TheLabRestartsItAndAGatewayCutStillFailsOver()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Failover));
        try
        {
            await WaitForActiveAsync(lab, "tokyo-nat");
            var killed = LabStatusCollector.Failover(lab).Single().WatcherPid!.Value;
            Process.GetProcessById(killed).Kill(); // SIGKILL: no trap, no clean-up

            var clock = Stopwatch.StartNew();
            while (LabStatusCollector.Failover(lab).Single() is var f && (f.WatcherPid is null || f.WatcherPid == killed))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the watcher was not restarted: {f}\n{File.ReadAllText(lab.State.WatcherLog("sg-client"))}");
                await Task.Delay(50);
            }

            Assert.True((await LabStatusCollector.CollectAsync(lab)).Failover.Single().Healthy);
            await Task.Delay(1500); // the restarted watcher's first rounds
            await LabController.Default.SetGatewayFailedAsync(lab, "tokyo-nat", fail: true);
            await WaitForActiveAsync(lab, "tokyo-nat-c", TimeSpan.FromSeconds(10));
            Assert.Equal(lab.PublicAddressOf("tokyo-nat-c"), await EchoAsync(lab));
            Assert.Contains("restarts it", await File.ReadAllTextAsync(lab.State.WatcherLog("sg-client")), StringComparison.Ordinal);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    [RootFact]
    public async Task WatcherAndItsSupervisorKilled_LabStatusSaysUnhealthyAndExits1()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Failover));
        try
        {
            await WaitForActiveAsync(lab, "tokyo-nat");
            var supervisor = LabController.TryReadPid(lab.State.WatcherSupervisorPid("sg-client"))!.Value;
            Process.GetProcessById(supervisor).Kill();
            await Process.GetProcessById(supervisor).WaitForExitAsync();
            Process.GetProcessById(LabStatusCollector.Failover(lab).Single().WatcherPid!.Value).Kill();
            await Task.Delay(200);

            var status = await LabStatusCollector.CollectAsync(lab);
            var cli = await ProcessRunner.Instance.RunAsync(new CommandSpec(LabTestSupport.ServicesCommand("x").Program,
                [Path.Combine(AppContext.BaseDirectory, "egress.dll"), "lab", "status", "--id", lab.Id]) { Timeout = TimeSpan.FromMinutes(2) });

            Assert.False(status.Healthy);
            Assert.Null(status.Failover.Single().WatcherPid);
            Assert.Equal(1, cli.ExitCode);
            // lab status breaks long lines between words to fit 80 columns (CliText): read its words, not its lines.
            Assert.Contains("watcher NOT running and not supervised", System.Text.RegularExpressions.Regex.Replace(cli.StandardOutput, @"\s+", " "), StringComparison.Ordinal);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    /// <summary>An IP-echo request from the client every 20 ms (each gives up after 0.3 s) for 4.5 s after <paramref name="cut"/>,
    /// which starts after 0.5 s.</summary>
    private static async Task<Samples> SampleAsync(RunningLab lab, Func<Task> cut)
    {
        var samples = new List<(TimeSpan At, string? Ip)>();
        var clock = Stopwatch.StartNew();
        TimeSpan? cutAt = null;
        while (cutAt is null || clock.Elapsed - cutAt < TimeSpan.FromSeconds(4.5))
        {
            if (cutAt is null && clock.Elapsed > TimeSpan.FromMilliseconds(500))
            {
                cutAt = clock.Elapsed;
                await cut();
            }

            var started = clock.Elapsed;
            samples.Add((clock.Elapsed, await EchoAsync(lab)));
            var wait = TimeSpan.FromMilliseconds(20) - (clock.Elapsed - started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }

        return new Samples(samples, cutAt.Value);
    }

    /// <summary>What <see cref="SampleAsync"/> saw, and when the cut began.</summary>
    private sealed record Samples(List<(TimeSpan At, string? Ip)> List, TimeSpan CutAt)
    {
        /// <summary>From the cut (or the last request that still left by <paramref name="before"/>, if later: a loaded
        /// machine may apply the cut late) to the first request that leaves by <paramref name="after"/>. Measured from the
        /// last sample before the cut instead, the time a slow request or the cut's own commands took on a loaded machine
        /// counted as outage (2215 ms in a CI run whose outage from the cut was about 1.6 s).</summary>
        public TimeSpan Outage(string? before, string? after) =>
            List.First(s => s.Ip == after).At - (List.Where(s => s.Ip == before).Select(s => s.At).Append(CutAt).Max());

        public string Describe(TimeSpan outage) => $"outage {outage.TotalMilliseconds:0} ms (cut at {CutAt.TotalMilliseconds:0} ms)\n" +
            string.Join('\n', List.Select(s => $"{s.At.TotalMilliseconds:0} {s.Ip ?? "fail"}"));
    }

    private static async Task<string?> EchoAsync(RunningLab lab)
    {
        var result = await lab.RunnerFor("sg-client").RunAsync(new CommandSpec("curl", ["-sS", "--max-time", "0.3", "https://ipinfo.io/json"]));
        return result.Succeeded && IpField().Match(result.StandardOutput) is { Success: true } m ? m.Groups[1].Value : null;
    }

    private static async Task WaitForActiveAsync(RunningLab lab, string gateway, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (LabStatusCollector.Failover(lab).Single().ActiveGateway != gateway)
        {
            Assert.True(clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(5)),
                $"the watcher never reported {gateway} active: {LabStatusCollector.Failover(lab).Single()}\n{(File.Exists(lab.State.WatcherLog("sg-client")) ? File.ReadAllText(lab.State.WatcherLog("sg-client")) : "(no log)")}");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex("\"ip\":\\s*\"([0-9.]+)\"")]
    private static partial Regex IpField();

    /// <summary>An HTTP answer on the client's port 22 (python; the port its security group opens), killed by PID at dispose.</summary>
    private sealed class Listener : IAsyncDisposable
    {
        private readonly Process _process;

        public Listener(RunningLab lab)
        {
            var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true };
            foreach (var a in new[] { "netns", "exec", lab.Plan.HostNamed("sg-client").Namespace, "python3", "-u", "-c",
                "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',22))\ns.listen(4)\nprint('ready',flush=True)\nwhile True:\n c,a=s.accept()\n c.recv(4096)\n c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')\n c.close()\n" })
            {
                info.ArgumentList.Add(a);
            }

            _process = Process.Start(info)!;
            _ = _process.StandardOutput.ReadLine();
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }
    }
}

/// <summary>The failover tests judge an outage against a bound from requests every 20 ms; they run alone, not beside the
/// other lab tests, whose load stretched a sample to half a second and an outage past the bound.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FailoverTiming
{
    public const string Name = "failover timing";
}
