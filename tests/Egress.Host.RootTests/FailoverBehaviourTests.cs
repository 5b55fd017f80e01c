using System.Diagnostics;
using System.Globalization;
using Egress.Core.Topology;
using Egress.Host.Rendering;
using Egress.Tests.Shared;

namespace Egress.Host.RootTests;

/// <summary>examples/failover.yaml (VXLAN) in namespaces: the client, its primary and its standby gateway (another AZ of
/// Tokyo), the router and the internet, with the client's watcher (<c>egress-host watch</c>) running. Cutting a gateway
/// sets its eth0 down; the echo server answers with the address it sees (no IGW NAT here: a gateway's private IP, or
/// the client's own for egress that left directly).</summary>
public sealed class FailoverBehaviourTests
{
    /// <summary>The bound the tests hold the outage to: bench/failover.sh measures the figure (about 0.8 s); the
    /// slack is for a loaded CI machine, where the watcher's 200 ms rounds stretch.</summary>
    private static readonly TimeSpan MaxOutage = TimeSpan.FromMilliseconds(2000);

    private static readonly string EchoUrl = $"http://{NetnsWorld.InternetAddress}:{NetnsWorld.ListenerPort}/";

    private static TopologyModel Failover(Func<FailoverSettings, FailoverSettings>? change = null)
    {
        var t = Examples.Load(Examples.Failover);
        return t with
        {
            Overlay = t.Overlay with { Mode = OverlayMode.Vxlan },
            Failover = change is null ? t.Failover : change(t.Failover),
        };
    }

    private static async Task<Running> StartAsync(TopologyModel topology, bool routeInternetToClient = false)
    {
        var world = await NetnsWorld.CreateAsync(topology, "ef");
        Running? running = null;
        try
        {
            Assert.True(world.OverlaySupported, "this kernel cannot create vxlan tunnels");
            await world.StartEchoServerAsync(world.Internet, NetnsWorld.InternetAddress, NetnsWorld.ListenerPort);
            if (routeInternetToClient)
            {
                // Stands in for the client's public IP: the internet can reach it, and its own direct egress can return.
                await world.ExecOk(world.Internet, "ip", "route", "add", world.Topology.SubnetOf(world.ClientHost).Cidr.ToString(), "via", NetnsWorld.RouterInternetAddress);
            }

            foreach (var host in world.GatewayHosts.Append(world.ClientHost))
            {
                var apply = await world.ScriptAsync(host.Name, "apply");
                Assert.True(apply.Succeeded, $"{host.Name} apply: {apply.StandardError}");
            }

            running = new Running(world);
            running.StartWatcher();
            await running.WaitForAsync(s => s.StartsWith("egress-host[sg-client]: watching", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
            var state = Path.Combine(world.Directory, "run", world.ClientHost.Name, "failover");
            for (var i = 0; i < 100 && !File.Exists(state); i++)
            {
                await Task.Delay(20); // the first round writes the state file
            }

            Assert.True(File.Exists(state), $"the watcher wrote no state file after its first round:\n{running.Log}");
            return running;
        }
        catch
        {
            if (running is not null)
            {
                await running.DisposeAsync(); // stops the watcher, then the world
            }
            else
            {
                await world.DisposeAsync();
            }

            throw;
        }
    }

    [RootFact]
    public async Task Watch_PrimaryCut_TrafficMovesToTheStandbyPromptly()
    {
        await using var r = await StartAsync(Failover());
        var primary = r.World.GatewayHosts[0].PrivateIp.ToString();
        var standby = r.World.GatewayHosts[1].PrivateIp.ToString();
        Assert.Equal(primary, await r.FetchAsync());
        var healthy = await r.CheckAsync();
        Assert.True(healthy.Ok, string.Join("; ", healthy.Failures.Select(f => $"{f.Name}: {f.Detail}")));
        Assert.Equal("tokyo-nat", healthy.ActiveGateway);
        Assert.Contains("watcher: up", healthy.Invariants.Single(i => i.Name == "failover.gateway.tokyo-nat-c").Detail, StringComparison.Ordinal);

        var samples = await r.SampleAsync(TimeSpan.FromSeconds(4), cutAfter: TimeSpan.FromMilliseconds(500), cut: () => r.CutAsync(0));

        var lastPrimary = samples.Last(s => s.Body == primary).At;
        var firstStandby = samples.First(s => s.Body == standby).At;
        Assert.True(firstStandby > lastPrimary);
        Assert.True(firstStandby - lastPrimary < MaxOutage, $"outage {(firstStandby - lastPrimary).TotalMilliseconds:0} ms\n{r.Log}");
        Assert.Equal(standby, samples[^1].Body);
        Assert.DoesNotContain(samples.SkipWhile(s => s.Body != standby), s => s.Body == primary);
        var check = await r.CheckAsync();
        Assert.False(check.Ok, "the primary is down: check must say so");
        Assert.Equal(["failover.gateway.tokyo-nat"], check.Failures.Select(f => f.Name));
        Assert.Contains("tokyo-nat-c", check.Invariants.Single(i => i.Name == "failover.active-gateway").Detail, StringComparison.Ordinal);
        Assert.Contains("gateway tokyo-nat down: 3 missed probes", r.Log, StringComparison.Ordinal);
        Assert.Contains("egress via tokyo-nat-c (eg2 192.168.250.5): tokyo-nat is down", r.Log, StringComparison.Ordinal);
        Assert.Contains("active tokyo-nat-c ", await r.StateAsync(), StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Watch_EveryGatewayCutFailClosed_NothingLeavesFromTheClientAndInboundStillWorks()
    {
        await using var r = await StartAsync(Failover(), routeInternetToClient: true);
        await CountClientEgressAsync(r);

        await r.CutAsync(0);
        await r.CutAsync(1);
        await r.WaitForAsync(l => l.Contains("fail-closed: every gateway is down", StringComparison.Ordinal), TimeSpan.FromSeconds(3));
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(await r.FetchAsync());
        }

        Assert.Equal(0, await ClientEgressPacketsAsync(r));
        Assert.StartsWith("prohibit 0.0.0.0/1", (await r.World.ExecOk(r.World.Client, "ip", "route", "show", "exact", "0.0.0.0/1")).StandardOutput, StringComparison.Ordinal);
        // An SSH-like connection from the internet to the client is answered (via the uplink, by its mark).
        await r.World.StartEchoServerAsync(r.World.Client, r.World.ClientHost.PrivateIp.ToString(), 2222);
        var inbound = await r.World.Exec(r.World.Internet, "curl", "-sS", "--max-time", "3", $"http://{r.World.ClientHost.PrivateIp}:2222/");
        Assert.True(inbound.Succeeded, inbound.StandardError);
        Assert.Equal(NetnsWorld.InternetAddress, inbound.StandardOutput.Trim());
        var check = await r.CheckAsync();
        Assert.False(check.Ok);
        Assert.Contains("egress refused (fail-closed)", check.Invariants.Single(i => i.Name == "failover.active-gateway").Detail, StringComparison.Ordinal);
        Assert.Contains("active - ", await r.StateAsync(), StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Watch_EveryGatewayCutFailOpen_EgressResumesFromTheClientsOwnAddress()
    {
        await using var r = await StartAsync(Failover(f => f with { Policy = FailurePolicy.FailOpen }), routeInternetToClient: true);
        var primary = r.World.GatewayHosts[0].PrivateIp.ToString();
        var own = r.World.ClientHost.PrivateIp.ToString();

        var samples = await r.SampleAsync(TimeSpan.FromSeconds(4), cutAfter: TimeSpan.FromMilliseconds(500), cut: async () =>
        {
            await r.CutAsync(0);
            await r.CutAsync(1);
        });

        var outage = samples.First(s => s.Body == own).At - samples.Last(s => s.Body == primary).At;
        Assert.True(outage < MaxOutage, $"outage {outage.TotalMilliseconds:0} ms\n{r.Log}");
        Assert.Equal(own, samples[^1].Body);
        Assert.Contains("FAIL-OPEN: every gateway is down", r.Log, StringComparison.Ordinal);
        Assert.Equal(string.Empty, (await r.World.ExecOk(r.World.Client, "ip", "route", "show", "exact", "0.0.0.0/1")).StandardOutput);
    }

    [RootFact]
    public async Task Watch_PrimaryHealed_FailsBackOnlyAfterTheHoldDown()
    {
        await using var r = await StartAsync(Failover(f => f with { HoldDownMs = 2000 }));
        var primary = r.World.GatewayHosts[0].PrivateIp.ToString();
        await r.CutAsync(0);
        await r.WaitForAsync(l => l.Contains("egress via tokyo-nat-c", StringComparison.Ordinal), TimeSpan.FromSeconds(3));

        await r.HealAsync(0);
        var samples = await r.SampleAsync(TimeSpan.FromSeconds(8), stopWhen: s => s.Body == primary);

        var back = samples.FirstOrDefault(s => s.Body == primary)?.At;
        Assert.True(back is not null, $"no failback within 8 s; last answer {samples[^1].Body}\n{r.Log}\n{await r.StateAsync()}");
        // upAfter 5 × 200 ms to be up again, then the 2 s hold-down: never before 3 s after the heal.
        Assert.True(back >= TimeSpan.FromMilliseconds(2900), $"failback after {back.Value.TotalMilliseconds:0} ms\n{r.Log}");
        Assert.True(back < TimeSpan.FromMilliseconds(6000), $"failback after {back.Value.TotalMilliseconds:0} ms\n{r.Log}");
        // The log line follows the route change: wait for it rather than race it.
        await r.WaitForAsync(l => l.Contains("egress via tokyo-nat (eg1 192.168.250.1): failback: up for ", StringComparison.Ordinal), TimeSpan.FromSeconds(2));
        Assert.Contains("gateway tokyo-nat up: 5 answers in a row", r.Log, StringComparison.Ordinal);
        var check = await r.CheckAsync();
        Assert.True(check.Ok, string.Join("; ", check.Failures.Select(f => $"{f.Name}: {f.Detail}")));
    }

    [RootFact]
    public async Task Watch_GatewayDroppingEveryOtherProbe_NeverFlaps()
    {
        await using var r = await StartAsync(Failover(f => f with { HoldDownMs = 0 }));
        var primaryNs = r.World.NamespaceOf("tokyo-nat");
        await DropEveryOtherEchoAsync(primaryNs);

        // Up and active: misses never come three in a row, so it stays.
        await Task.Delay(3000);
        Assert.DoesNotContain("gateway tokyo-nat", r.Log, StringComparison.Ordinal);

        // Down, then back but still losing every other probe: five answers in a row never happen, so no failback.
        await r.CutAsync(0);
        await r.WaitForAsync(l => l.Contains("egress via tokyo-nat-c", StringComparison.Ordinal), TimeSpan.FromSeconds(3));
        await r.HealAsync(0);
        await Task.Delay(4000);

        Assert.DoesNotContain("gateway tokyo-nat up", r.Log, StringComparison.Ordinal);
        Assert.Single(r.LogLines, l => l.Contains("egress via", StringComparison.Ordinal));
        Assert.Contains("active tokyo-nat-c ", await r.StateAsync(), StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Watch_DownWhileRunning_LeavesNoRouteBehind()
    {
        await using var r = await StartAsync(Failover());

        var down = await r.World.ScriptAsync("sg-client", "down");
        Assert.True(down.Succeeded, down.StandardError);
        await r.WaitForAsync(l => l.Contains("routes left alone", StringComparison.Ordinal), TimeSpan.FromSeconds(3));

        Assert.Equal(string.Empty, (await r.World.ExecOk(r.World.Client, "ip", "route", "show", "table", "all", "proto", "201")).StandardOutput);
    }

    private static async Task DropEveryOtherEchoAsync(string ns)
    {
        var result = await NetnsWorld.Runner.RunAsync(new Execution.CommandSpec("ip", ["netns", "exec", ns, "nft", "-f", "-"])
        {
            StandardInput = "table ip efflaky {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    icmp type echo-request numgen inc mod 2 0 drop\n  }\n}\n",
        });
        Assert.True(result.Succeeded, result.StandardError);
    }

    private static async Task CountClientEgressAsync(Running r)
    {
        var result = await NetnsWorld.Runner.RunAsync(new Execution.CommandSpec("ip", ["netns", "exec", r.World.Internet, "nft", "-f", "-"])
        {
            StandardInput = $"table ip efcount {{\n  chain input {{\n    type filter hook input priority 0; policy accept;\n    ip saddr {r.World.ClientHost.PrivateIp} tcp dport {NetnsWorld.ListenerPort} counter\n  }}\n}}\n",
        });
        Assert.True(result.Succeeded, result.StandardError);
    }

    private static async Task<long> ClientEgressPacketsAsync(Running r)
    {
        var list = await r.World.ExecOk(r.World.Internet, "nft", "list", "table", "ip", "efcount");
        var text = list.StandardOutput;
        var at = text.IndexOf("packets ", StringComparison.Ordinal);
        return long.Parse(text[(at + 8)..].Split(' ')[0], CultureInfo.InvariantCulture);
    }

    internal sealed record Sample(TimeSpan At, string? Body);

    /// <summary>The world with the client's watcher running; disposing stops the watcher (by PID) and the world.</summary>
    private sealed class Running(NetnsWorld world) : IAsyncDisposable
    {
        private readonly List<string> _log = [];
        private Process? _watcher;

        public NetnsWorld World { get; } = world;

        public IReadOnlyList<string> LogLines
        {
            get
            {
                lock (_log)
                {
                    return [.. _log];
                }
            }
        }

        public string Log => string.Join('\n', LogLines);

        public void StartWatcher()
        {
            var script = World.WriteScript(World.ClientHost.Name);
            var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "netns", "exec", World.Client, "sh", script, "watch" })
            {
                info.ArgumentList.Add(argument);
            }

            info.Environment["EGRESS_RUN_DIR"] = Path.Combine(World.Directory, "run");
            info.Environment["EGRESS_NETNS_ONLY"] = "1";
            _watcher = Process.Start(info)!;
            _watcher.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (_log)
                    {
                        _log.Add(e.Data);
                    }
                }
            };
            _watcher.BeginErrorReadLine();
            _watcher.OutputDataReceived += (_, _) => { };
            _watcher.BeginOutputReadLine();
        }

        public async Task WaitForAsync(Func<string, bool> line, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (!LogLines.Any(line))
            {
                if (deadline.Elapsed > timeout)
                {
                    Assert.Fail($"the watcher did not log the expected line within {timeout.TotalSeconds} s:\n{Log}");
                }

                await Task.Delay(20);
            }
        }

        /// <summary>Cuts the gateway off at the router (its VPC link goes down), so the gateway's own routes stay intact
        /// for the heal (setting the gateway's eth0 down would flush its default route).</summary>
        public Task CutAsync(int gateway) => World.ExecOk(World.Router, "ip", "link", "set", World.RouterLinkOf(World.GatewayHosts[gateway].Name), "down");

        public Task HealAsync(int gateway) => World.ExecOk(World.Router, "ip", "link", "set", World.RouterLinkOf(World.GatewayHosts[gateway].Name), "up");

        /// <summary>One request from the client to the echo server; the address it saw, or null when it failed.</summary>
        public async Task<string?> FetchAsync()
        {
            var result = await World.Exec(World.Client, "curl", "-sS", "--max-time", "0.3", EchoUrl);
            return result.Succeeded ? result.StandardOutput.Trim() : null;
        }

        /// <summary>A request every 20 ms (each waits at most 0.3 s) for <paramref name="duration"/>.</summary>
        public async Task<List<Sample>> SampleAsync(TimeSpan duration, TimeSpan? cutAfter = null, Func<Task>? cut = null, Func<Sample, bool>? stopWhen = null)
        {
            var samples = new List<Sample>();
            var clock = Stopwatch.StartNew();
            var cutDone = cut is null;
            while (clock.Elapsed < duration)
            {
                if (!cutDone && clock.Elapsed >= cutAfter)
                {
                    await cut!();
                    cutDone = true;
                }

                var started = clock.Elapsed;
                var sample = new Sample(started, await FetchAsync());
                samples.Add(sample);
                if (stopWhen?.Invoke(sample) == true)
                {
                    break;
                }

                var wait = TimeSpan.FromMilliseconds(20) - (clock.Elapsed - started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }
            }

            return samples;
        }

        public async Task<CheckReport> CheckAsync()
        {
            var check = await World.ScriptAsync(World.ClientHost.Name, "check");
            return CheckReport.Parse(check.StandardOutput);
        }

        public Task<string> StateAsync() => File.ReadAllTextAsync(Path.Combine(World.Directory, "run", World.ClientHost.Name, "failover"));

        public async ValueTask DisposeAsync()
        {
            if (_watcher is not null)
            {
                if (!_watcher.HasExited)
                {
                    _watcher.Kill();
                    await _watcher.WaitForExitAsync();
                }

                _watcher.Dispose();
                await Task.Delay(300); // its last ping and sleep end on their own within one probe interval
            }

            await World.DisposeAsync();
        }
    }
}
