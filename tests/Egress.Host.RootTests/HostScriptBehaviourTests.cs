using System.Diagnostics;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Rendering;
using Egress.Tests.Shared;

namespace Egress.Host.RootTests;

/// <summary>The rendered seed scripts (VXLAN overlay: this kernel has no ipip) applied in network namespaces.</summary>
public sealed class HostScriptBehaviourTests
{
    private static readonly string EchoUrl = $"http://{NetnsWorld.InternetAddress}:{NetnsWorld.ListenerPort}/";

    /// <summary>The overlay modes to run the behaviour tests with: EGRESS_HOST_OVERLAYS (comma-separated), default
    /// vxlan, the one this machine's kernel has. In the full-kernel VM run them all:
    /// <c>EGRESS_HOST_OVERLAYS=ipip,gre,vxlan eng/vm/vm.sh run -- dotnet test tests/Egress.Host.RootTests --no-build</c>.</summary>
    public static TheoryData<OverlayMode> Modes()
    {
        var data = new TheoryData<OverlayMode>();
        foreach (var name in (Environment.GetEnvironmentVariable("EGRESS_HOST_OVERLAYS") ?? "vxlan").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            data.Add(Enum.Parse<OverlayMode>(name, ignoreCase: true));
        }

        return data;
    }

    private static TopologyModel Seed(OverlayMode mode = OverlayMode.Vxlan)
    {
        var seed = Examples.Load(Examples.Seed);
        return seed with { Overlay = seed.Overlay with { Mode = mode } };
    }

    /// <summary>A world for <paramref name="mode"/>; fails naming the mode when the kernel cannot make that tunnel.</summary>
    private static async Task<NetnsWorld> WorldAsync(OverlayMode mode)
    {
        var world = await NetnsWorld.CreateAsync(Seed(mode));
        if (!world.OverlaySupported)
        {
            await world.DisposeAsync();
            Assert.Fail($"this kernel cannot create {mode} tunnels; run the {mode} cases in the full-kernel VM (eng/vm/vm.sh) or set EGRESS_HOST_OVERLAYS=vxlan");
        }

        return world;
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Apply_Seed_ClientTrafficLeavesWithGatewayAddressAndCheckPasses(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        await world.StartEchoServerAsync(world.Internet, NetnsWorld.InternetAddress, NetnsWorld.ListenerPort);
        var before = await world.FetchAsync(world.Client, EchoUrl, seconds: 2);
        Assert.False(before.Succeeded, $"control: without egress the client must not reach the internet (the router does not NAT), got: {before.StandardOutput}");

        await ApplyBothAsync(world);
        await StartWatcherAsync(world); // as systemd does: check counts a client without its watcher as failed
        var fetched = await world.FetchAsync(world.Client, EchoUrl);

        Assert.True(fetched.Succeeded, $"client could not reach the internet via the gateway: {fetched.StandardError}\n{await world.DumpAsync(world.Client)}\n{await world.DumpAsync(world.Gateway)}");
        Assert.Equal(world.GatewayHost.PrivateIp.ToString(), fetched.StandardOutput.Trim());
        foreach (var host in new[] { world.ClientHost.Name, world.GatewayHost.Name })
        {
            var check = await world.ScriptAsync(host, "check");
            var report = CheckReport.Parse(check.StandardOutput);
            Assert.True(check.Succeeded && report.Ok,
                $"{host} check exited {check.ExitCode}; failures: {string.Join("; ", report.Failures.Select(f => $"{f.Name}: {f.Detail}"))}\n{check.StandardError}\n{await world.DumpAsync(world.NamespaceOf(host))}");
            Assert.Equal(host, report.Host);
            Assert.Contains(report.Warnings, w => w.Contains("default_qdisc", StringComparison.Ordinal));
        }

        var status = await world.ScriptAsync(world.GatewayHost.Name, "status");
        Assert.True(status.Succeeded, status.StandardError);
        Assert.Contains($"egress-host {world.GatewayHost.Name} (gateway), uplink eth0, overlay {mode.ToString().ToLowerInvariant()}", status.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("chain postrouting", status.StandardOutput, StringComparison.Ordinal);
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Apply_Twice_ChangesNothing(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        var first = await ApplyBothAsync(world);
        var client = await world.DumpAsync(world.Client);
        var gateway = await world.DumpAsync(world.Gateway);

        var again = await ApplyBothAsync(world);

        AssertSameDump(client, await world.DumpAsync(world.Client), "client after the second apply");
        AssertSameDump(gateway, await world.DumpAsync(world.Gateway), "gateway after the second apply");
        Assert.Contains("table ip egress replaced", first, StringComparison.Ordinal);
        Assert.Contains("sysctl net/ipv4/ip_forward: 0 -> 1", first, StringComparison.Ordinal);
        Assert.DoesNotContain("table ip egress replaced", again, StringComparison.Ordinal); // the table is current: kept with its counters
        Assert.DoesNotContain("sysctl net/", again, StringComparison.Ordinal); // no sysctl changed the second time
        Assert.DoesNotContain("recreating", again, StringComparison.Ordinal);
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Down_AfterApply_RestoresEverythingAndKeepsForeignTables(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        foreach (var ns in new[] { world.Client, world.Gateway })
        {
            await world.ExecOk(ns, "nft", "add", "table", "ip", "foreign");
            await world.ExecOk(ns, "nft", "add", "chain", "ip", "foreign", "keep", "{ type filter hook forward priority 10; policy accept; }");
            await world.ExecOk(ns, "ip", "route", "add", "198.51.100.0/24", "via", ns == world.Client ? "10.0.1.1" : "10.1.1.1");
        }

        var client = await world.DumpAsync(world.Client);
        var gateway = await world.DumpAsync(world.Gateway);
        await ApplyBothAsync(world);
        Assert.NotEqual(client, await world.DumpAsync(world.Client));

        foreach (var host in new[] { world.ClientHost.Name, world.GatewayHost.Name })
        {
            var down = await world.ScriptAsync(host, "down");
            Assert.True(down.Succeeded, $"{host} down exited {down.ExitCode}: {down.StandardError}");
        }

        AssertSameDump(client, await world.DumpAsync(world.Client), "client after down");
        AssertSameDump(gateway, await world.DumpAsync(world.Gateway), "gateway after down");
        Assert.False(Directory.Exists(Path.Combine(world.Directory, "run", world.ClientHost.Name)), "down leaves no state behind");
        var again = await world.ScriptAsync(world.ClientHost.Name, "down");
        Assert.True(again.Succeeded, $"a second down must succeed: {again.StandardError}");
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Apply_ClientTrafficFromAnotherSource_IsCountedAndDroppedNeverLeaksUnNated(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        await world.StartEchoServerAsync(world.Internet, NetnsWorld.InternetAddress, NetnsWorld.ListenerPort);
        await ApplyBothAsync(world);
        await world.ExecOk(world.Internet, "nft", "add", "table", "ip", "watch");
        await world.ExecOk(world.Internet, "nft", "add", "chain", "ip", "watch", "in", "{ type filter hook input priority 0; policy accept; }");
        await world.ExecOk(world.Internet, "nft", "add", "rule", "ip", "watch", "in", "ip", "saddr", "!=", world.GatewayHost.PrivateIp.ToString(), "counter");

        // The client's private IP as source, sent into the tunnel: not a configured client source.
        var fetched = await world.FetchAsync(world.Client, EchoUrl, world.ClientHost.PrivateIp.ToString(), seconds: 2);
        var leaked = (await world.ExecOk(world.Internet, "nft", "list", "chain", "ip", "watch", "in")).StandardOutput;
        var gateway = (await world.ExecOk(world.Gateway, "nft", "list", "chain", "ip", "egress", "prerouting")).StandardOutput;

        Assert.False(fetched.Succeeded, $"traffic from {world.ClientHost.PrivateIp} must not get through: {fetched.StandardOutput}");
        Assert.Contains("counter packets 0 ", leaked, StringComparison.Ordinal);
        // Dropped as it comes out of the tunnel (issue 24: the inner source must be the client's tunnel address), before
        // the forward chain, whose accept holds only that source too.
        var drop = gateway.Split('\n').Single(l => l.Contains("inner source: only", StringComparison.Ordinal));
        Assert.DoesNotContain("counter packets 0 ", drop, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Check_BeforeApply_FailsOnBothHosts()
    {
        await using var world = await NetnsWorld.CreateAsync(Seed());
        foreach (var host in new[] { world.ClientHost.Name, world.GatewayHost.Name })
        {
            var check = await world.ScriptAsync(host, "check");
            var report = CheckReport.Parse(check.StandardOutput);

            Assert.Equal(1, check.ExitCode);
            Assert.False(report.Ok);
            Assert.Contains(report.Failures, f => f.Name == "tunnel.up");
        }
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Check_TunnelDown_FailsAndNamesTheTunnel(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        await ApplyBothAsync(world);

        await world.ExecOk(world.Client, "ip", "link", "set", "eg1", "down");
        var check = await world.ScriptAsync(world.ClientHost.Name, "check");
        var report = CheckReport.Parse(check.StandardOutput);

        Assert.Equal(1, check.ExitCode);
        Assert.False(report.Ok);
        var failure = Assert.Single(report.Failures, f => f.Name == "tunnel.up");
        Assert.Contains("eg1 is down", failure.Detail, StringComparison.Ordinal);
        Assert.Contains(report.Failures, f => f.Name == "route.default-via-tunnel"); // the halves went with the link
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Check_NatTableMissing_FailsAndTrafficStops(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        await world.StartEchoServerAsync(world.Internet, NetnsWorld.InternetAddress, NetnsWorld.ListenerPort);
        await ApplyBothAsync(world);

        await world.ExecOk(world.Gateway, "nft", "delete", "table", "ip", "egress");
        var check = await world.ScriptAsync(world.GatewayHost.Name, "check");
        var report = CheckReport.Parse(check.StandardOutput);
        var fetched = await world.FetchAsync(world.Client, EchoUrl, seconds: 2);

        Assert.Equal(1, check.ExitCode);
        Assert.Equal(["nat.table", "nat.masquerade-covers-tunnel", "forward.only-clients", "overlay.only-clients", "overlay.inner-source", "forward.mss-clamp"], report.Failures.Select(f => f.Name));
        Assert.False(fetched.Succeeded && fetched.StandardOutput.Trim() == world.GatewayHost.PrivateIp.ToString(),
            "without the NAT table the client's traffic must not leave from the gateway's address");
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Apply_ConnectionArrivingOnUplink_IsAnsweredViaTheUplink(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        await world.StartEchoServerAsync(world.Client, world.ClientHost.PrivateIp.ToString(), 8081);
        await ApplyBothAsync(world);
        var url = $"http://{world.ClientHost.PrivateIp}:8081/";

        // From the internet side of the router, like SSH to the client's public IP.
        var answered = await world.FetchAsync(world.Router, url, NetnsWorld.RouterInternetAddress);
        await world.ExecOk(world.Client, "ip", "rule", "del", "priority", "1010");
        var withoutRule = await world.FetchAsync(world.Router, url, NetnsWorld.RouterInternetAddress, seconds: 2);

        Assert.True(answered.Succeeded, $"the reply did not come back via the uplink: {answered.StandardError}\n{await world.DumpAsync(world.Client)}");
        Assert.Equal(NetnsWorld.RouterInternetAddress, answered.StandardOutput.Trim());
        Assert.False(withoutRule.Succeeded, "control: without the fwmark rule the reply goes into the tunnel and is lost");
    }

    [RootFact]
    public async Task Apply_MissingNft_FailsBeforeChangingAnything()
    {
        await using var world = await NetnsWorld.CreateAsync(Seed());
        var bin = Directory.CreateDirectory(Path.Combine(world.Directory, "bin-without-nft")).FullName;
        foreach (var tool in new[] { "ip", "awk", "grep", "sed", "cat", "tr", "mkdir", "rm", "rmdir", "sh" })
        {
            File.CreateSymbolicLink(Path.Combine(bin, tool), Prerequisites.FindOnPath(tool)!);
        }

        var before = await world.DumpAsync(world.Client);

        var apply = await world.ScriptAsync(world.ClientHost.Name, "apply", new Dictionary<string, string> { ["PATH"] = bin });

        Assert.Equal(1, apply.ExitCode);
        Assert.Contains("'nft' is not installed", apply.StandardError, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", apply.StandardError, StringComparison.Ordinal);
        AssertSameDump(before, await world.DumpAsync(world.Client), "client after a failed apply");
    }

    [RootFact]
    public async Task Apply_IpipScript_WorksWhereTheKernelHasIpipElseFailsClearlyAndLeavesNothing()
    {
        var seed = Examples.Load(Examples.Seed); // ipip
        await using var world = await NetnsWorld.CreateAsync(seed);
        var probe = await world.Exec(world.Router, "ip", "link", "add", "ehprobe0", "type", "ipip", "remote", "192.0.2.9");
        var before = await world.DumpAsync(world.Client);

        var apply = await world.ScriptAsync(world.ClientHost.Name, "apply");

        if (probe.Succeeded)
        {
            Assert.True(apply.Succeeded, $"this kernel has ipip, so apply must work: {apply.StandardError}");
        }
        else
        {
            Assert.Equal(1, apply.ExitCode);
            Assert.Contains("does this kernel have ipip?", apply.StandardError, StringComparison.Ordinal);
            Assert.Contains("rolling back", apply.StandardError, StringComparison.Ordinal);
            AssertSameDump(before, await world.DumpAsync(world.Client), "client after apply failed for want of ipip");
        }
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Apply_TrafficArrivingThroughTheTunnel_IsAnsweredThroughItNeverByTheUplink(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        await world.StartEchoServerAsync(world.Internet, NetnsWorld.InternetAddress, NetnsWorld.ListenerPort);
        await ApplyBothAsync(world);
        // Anything leaving the client's uplink with a source other than its own address is a tunnel address on the wrong
        // door: on AWS the Singapore IGW drops it (it has no public IP), and the flow it answers is broken.
        await world.CountAsync(world.Router, "ehwrong", $"iifname \"vpca\" ip saddr != {world.ClientHost.PrivateIp}");
        const int Rounds = 20;
        // The kernel rate-limits ICMP errors (1 s per destination after a small burst); the test wants every one of them.
        await world.ExecOk(world.Client, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/icmp_ratelimit");

        // From the gateway through the tunnel: echo requests, a TCP connection to a closed port (a reset answers it), a
        // UDP datagram to a closed port (an ICMP port-unreachable answers it).
        var probe = await NetnsWorld.Runner.RunAsync(new CommandSpec("ip", ["netns", "exec", world.Gateway, "sh", "-c", $$"""
            p=0 r=0 u=0
            for i in $(seq {{Rounds}}); do
              ping -n -q -c 1 -W 2 192.168.250.2 >/dev/null && p=$((p + 1))
              curl -s --max-time 2 http://192.168.250.2:9/; [ $? = 7 ] && r=$((r + 1))
            done
            u=$(python3 -c '
            import socket
            n = 0
            for i in range({{Rounds}}):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.connect(("192.168.250.2", 9))
                s.send(b"x")
                try: s.recv(16)
                except ConnectionRefusedError: n += 1
                except OSError: pass
            print(n)')
            echo "$p $r $u"
            """]) { Timeout = TimeSpan.FromSeconds(150) });
        var fetched = 0;
        for (var i = 0; i < Rounds; i++)
        {
            var f = await world.FetchAsync(world.Client, EchoUrl);
            fetched += f.Succeeded && f.StandardOutput.Trim() == world.GatewayHost.PrivateIp.ToString() ? 1 : 0;
        }

        var wrong = await world.CountedAsync(world.Router, "ehwrong");
        Assert.True(probe.Succeeded, probe.StandardError);
        Assert.Equal($"{Rounds} {Rounds} {Rounds}", probe.StandardOutput.Trim()); // pings answered, resets and port-unreachables came back
        Assert.Equal(Rounds, fetched);
        Assert.True(wrong == 0, $"{wrong} packets left the client's uplink with a tunnel source\n{await world.DumpAsync(world.Client)}");
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Apply_ProgramBoundToTheUplink_ReachesTheVpcButNotTheInternet(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        await world.StartEchoServerAsync(world.Internet, NetnsWorld.InternetAddress, NetnsWorld.ListenerPort);
        await world.StartEchoServerAsync(world.Gateway, world.GatewayHost.PrivateIp.ToString(), 8082);
        await world.RouteInternetToClientAsync(); // a leak would be answered, as by the client's own IGW and public IP
        await ApplyBothAsync(world);
        await world.CountAsync(world.Internet, "ehleak", $"ip saddr {world.ClientHost.PrivateIp}");

        var bound = await world.Exec(world.Client, "curl", "-sS", "--max-time", "3", "--interface", "eth0", EchoUrl);
        var vpc = await world.Exec(world.Client, "curl", "-sS", "--max-time", "3", "--interface", "eth0", $"http://{world.GatewayHost.PrivateIp}:8082/");
        var tunnel = await world.FetchAsync(world.Client, EchoUrl);
        var check = CheckReport.Parse((await world.ScriptAsync(world.ClientHost.Name, "check")).StandardOutput);

        Assert.False(bound.Succeeded, $"curl --interface eth0 left by the uplink: {bound.StandardOutput}");
        Assert.Equal(7, bound.ExitCode); // refused at once (admin-prohibited), not a timeout
        Assert.Equal(0, await world.CountedAsync(world.Internet, "ehleak"));
        Assert.True(vpc.Succeeded, $"the VPC stays reachable from the uplink: {vpc.StandardError}");
        Assert.Equal(world.ClientHost.PrivateIp.ToString(), vpc.StandardOutput.Trim());
        Assert.Equal(world.GatewayHost.PrivateIp.ToString(), tunnel.StandardOutput.Trim());
        var killSwitch = check.Invariants.Single(i => i.Name == "killswitch.uplink");
        Assert.True(killSwitch.Ok, killSwitch.Detail);
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Apply_StrangerInTheGatewaysVpcSendingAsTheClient_IsNotForwardedAndTakesNothingOver(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        await world.StartEchoServerAsync(world.Internet, NetnsWorld.InternetAddress, NetnsWorld.ListenerPort);
        var stranger = await world.AddStrangerInGatewayVpcAsync();
        await ApplyBothAsync(world);
        var clientMac = (await world.ExecOk(world.Client, "cat", "/sys/class/net/eg1/address")).StandardOutput.Trim();
        Assert.Equal(world.GatewayHost.PrivateIp.ToString(), (await world.FetchAsync(world.Client, EchoUrl)).StandardOutput.Trim());
        await world.CountAsync(world.Internet, "ehspoof", "tcp dport 8081"); // only the stranger targets this port

        // The stranger builds the client's side of the tunnel: the same tunnel id and inner address, its own outer source.
        string[] link = mode switch
        {
            OverlayMode.Vxlan => ["type", "vxlan", "id", "1", "local", stranger, "remote", world.GatewayHost.PrivateIp.ToString(), "dstport", "4789"],
            OverlayMode.Gre => ["type", "gre", "local", stranger, "remote", world.GatewayHost.PrivateIp.ToString(), "key", "1"],
            _ => ["type", "ipip", "local", stranger, "remote", world.GatewayHost.PrivateIp.ToString()],
        };
        await world.ExecOk(world.Stranger, ["ip", "link", "add", "eg1", .. link]);
        await world.ExecOk(world.Stranger, "ip", "addr", "add", "192.168.250.2/30", "dev", "eg1");
        await world.ExecOk(world.Stranger, "ip", "link", "set", "eg1", "up");
        await world.ExecOk(world.Stranger, "ip", "route", "add", $"{NetnsWorld.InternetAddress}/32", "via", "192.168.250.1");
        await world.Exec(world.Stranger, "ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", "192.168.250.1");
        var spoofed = await world.Exec(world.Stranger, "curl", "-sS", "--max-time", "2", $"http://{NetnsWorld.InternetAddress}:8081/");

        var forwarded = await world.CountedAsync(world.Internet, "ehspoof");
        var refused = (await world.Exec(world.Gateway, "nft", "list", "chain", "ip", "egress", "input")).StandardOutput;
        var gatewayNeighbour = (await world.ExecOk(world.Gateway, "ip", "neigh", "show", "192.168.250.2", "dev", "eg1")).StandardOutput;
        var fdb = mode == OverlayMode.Vxlan ? (await world.ExecOk(world.Gateway, "bridge", "fdb", "show", "dev", "eg1")).StandardOutput : string.Empty;
        var after = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            after.Add((await world.FetchAsync(world.Client, EchoUrl)).StandardOutput.Trim());
        }

        Assert.False(spoofed.Succeeded, $"the gateway relayed for a stranger: {spoofed.StandardOutput}");
        Assert.True(forwarded == 0, $"{forwarded} packets of the stranger reached the internet through the gateway");
        Assert.DoesNotContain(stranger, fdb, StringComparison.Ordinal); // VXLAN learned no endpoint
        Assert.True(gatewayNeighbour.Length == 0 || gatewayNeighbour.Contains(clientMac, StringComparison.Ordinal), $"the gateway now reaches 192.168.250.2 at {gatewayNeighbour}, not the client's {clientMac}");
        Assert.All(after, a => Assert.Equal(world.GatewayHost.PrivateIp.ToString(), a));
        var drop = refused.Split('\n').SingleOrDefault(l => l.Contains("overlay packets only from", StringComparison.Ordinal));
        Assert.True(drop is not null && !drop.Contains("counter packets 0 ", StringComparison.Ordinal), $"the gateway's own firewall did not count the stranger's overlay packets:\n{refused}");
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Apply_ThreeAtOnce_AllSucceedAndTheClientEgresses(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        await world.StartEchoServerAsync(world.Internet, NetnsWorld.InternetAddress, NetnsWorld.ListenerPort);
        var gateway = await world.ScriptAsync(world.GatewayHost.Name, "apply");
        Assert.True(gateway.Succeeded, gateway.StandardError);

        for (var round = 0; round < 2; round++)
        {
            var applies = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => world.ScriptAsync(world.ClientHost.Name, "apply")));
            var fetched = await world.FetchAsync(world.Client, EchoUrl);

            Assert.All(applies, a => Assert.True(a.Succeeded, $"a concurrent apply failed (round {round}): {a.StandardError}"));
            Assert.DoesNotContain(applies, a => a.StandardError.Contains("rolling back", StringComparison.Ordinal));
            Assert.Equal(world.GatewayHost.PrivateIp.ToString(), fetched.StandardOutput.Trim());
            var down = await world.ScriptAsync(world.ClientHost.Name, "down");
            Assert.True(down.Succeeded, down.StandardError);
        }
    }

    [RootFact]
    public async Task Apply_LockHeldByAnotherRun_WaitsThenGivesUpNamingTheHolderAndChangesNothing()
    {
        await using var world = await NetnsWorld.CreateAsync(Seed());
        var run = Directory.CreateDirectory(Path.Combine(world.Directory, "run")).FullName;
        var lockFile = Path.Combine(run, $"{world.ClientHost.Name}.lock");
        await File.WriteAllTextAsync(lockFile, "apply, pid 4242, since 2026-12-01T08:00:00Z\n");
        var before = await world.DumpAsync(world.Client);

        using (var holder = Process.Start("flock", [lockFile, "sleep", "30"]))
        {
            await WaitUntilLockedAsync(lockFile);
            var apply = await world.ScriptAsync(world.ClientHost.Name, "apply", new Dictionary<string, string> { ["EGRESS_LOCK_WAIT"] = "1" });
            var down = await world.ScriptAsync(world.ClientHost.Name, "down", new Dictionary<string, string> { ["EGRESS_LOCK_WAIT"] = "1" });
            holder.Kill();
            await holder.WaitForExitAsync();

            Assert.Equal(1, apply.ExitCode);
            Assert.Contains("waiting up to 1s", apply.StandardError, StringComparison.Ordinal);
            Assert.Contains("still holds", apply.StandardError, StringComparison.Ordinal);
            Assert.Contains("apply, pid 4242, since 2026-12-01T08:00:00Z", apply.StandardError, StringComparison.Ordinal);
            Assert.Contains("nothing was changed", apply.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain("rolling back", apply.StandardError, StringComparison.Ordinal);
            Assert.Equal(1, down.ExitCode);
            AssertSameDump(before, await world.DumpAsync(world.Client), "client after apply and down gave up waiting");
        }

        // A holder that finishes in time is waited for.
        using (var brief = Process.Start("flock", [lockFile, "sleep", "1"]))
        {
            await WaitUntilLockedAsync(lockFile);
            var apply = await world.ScriptAsync(world.ClientHost.Name, "apply");
            await brief.WaitForExitAsync();

            Assert.True(apply.Succeeded, apply.StandardError);
            Assert.Contains("waiting up to 30s", apply.StandardError, StringComparison.Ordinal);
        }
    }

    /// <summary>Issue 23: two namespace worlds on one machine sharing a run directory (as two sharing the default
    /// /run/egress would). The second world's apply used to take the first world's dnsmasq, named by the shared
    /// dnsmasq.pid, for its own: it started none, and its check passed dns.stub for a process it did not own. Each world
    /// now runs its own stub and forwarder, each check judges its own, and each down stops only its own.</summary>
    [RootFact]
    public async Task Apply_TwoWorldsSharingARunDirectory_EachRunsJudgesAndStopsOnlyItsOwnDnsmasq()
    {
        Prerequisites.RequireProgram("dnsmasq", "dnsmasq-base");
        await using var first = await NetnsWorld.CreateAsync(Seed());
        await using var second = await NetnsWorld.CreateAsync(Seed());
        var shared = new Dictionary<string, string> { ["EGRESS_RUN_DIR"] = Path.Combine(first.Directory, "shared-run") };

        await ApplyBothAsync(first, shared);
        var secondApply = await ApplyBothAsync(second, shared);

        var stubs = new Dictionary<NetnsWorld, int>();
        foreach (var world in new[] { first, second })
        {
            var stub = Assert.Single(await DnsmasqPidsAsync(world.Client)); // the second world's used to be none
            var forwarder = Assert.Single(await DnsmasqPidsAsync(world.Gateway));
            stubs[world] = stub;
            var client = CheckReport.Parse((await world.ScriptAsync(world.ClientHost.Name, "check", shared)).StandardOutput);
            var gateway = CheckReport.Parse((await world.ScriptAsync(world.GatewayHost.Name, "check", shared)).StandardOutput);

            Assert.Equal(new CheckInvariant("dns.stub", true, $"dnsmasq pid {stub}"), client.Invariants.Single(i => i.Name == "dns.stub"));
            Assert.True(client.Invariants.Single(i => i.Name == "dns.via-gateway").Ok, string.Join("; ", client.Failures));
            var forwarding = gateway.Invariants.Single(i => i.Name == "dns.forwarder");
            Assert.True(forwarding.Ok, forwarding.Detail);
            Assert.StartsWith($"dnsmasq pid {forwarder} on ", forwarding.Detail, StringComparison.Ordinal);
        }

        Assert.Contains("another network namespace's (a world sharing", secondApply, StringComparison.Ordinal);
        var down = await first.ScriptAsync(first.ClientHost.Name, "down", shared);

        Assert.True(down.Succeeded, down.StandardError);
        Assert.Empty(await DnsmasqPidsAsync(first.Client));
        Assert.Equal([stubs[second]], await DnsmasqPidsAsync(second.Client));
        var after = CheckReport.Parse((await second.ScriptAsync(second.ClientHost.Name, "check", shared)).StandardOutput);
        Assert.Equal(new CheckInvariant("dns.stub", true, $"dnsmasq pid {stubs[second]}"), after.Invariants.Single(i => i.Name == "dns.stub"));
        down = await second.ScriptAsync(second.ClientHost.Name, "down", shared);
        Assert.True(down.Succeeded, down.StandardError);
        Assert.Empty(await DnsmasqPidsAsync(second.Client));
        Assert.False(File.Exists(Path.Combine(first.Directory, "shared-run", first.ClientHost.Name, "dnsmasq.pid")));
    }

    /// <summary>The pids of the dnsmasq processes in <paramref name="ns"/>.</summary>
    private static async Task<List<int>> DnsmasqPidsAsync(string ns)
    {
        var pids = await NetnsWorld.Runner.RunAsync(CommandSpec.Of("ip", "netns", "pids", ns));
        return [.. pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(pid => File.Exists($"/proc/{pid}/comm") && File.ReadAllText($"/proc/{pid}/comm").Trim() == "dnsmasq")
            .Select(pid => int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture))];
    }

    private static async Task WaitUntilLockedAsync(string lockFile)
    {
        for (var i = 0; i < 100; i++)
        {
            var probe = await NetnsWorld.Runner.RunAsync(CommandSpec.Of("flock", "-n", lockFile, "true"));
            if (!probe.Succeeded)
            {
                return;
            }

            await Task.Delay(20);
        }

        Assert.Fail("the test's lock holder never took the lock");
    }

    /// <summary>Starts the client's watcher (killed at dispose) and waits for its pid file, as systemd would have it running.</summary>
    private static async Task StartWatcherAsync(NetnsWorld world)
    {
        world.StartWatcher(_ => { });
        var pid = Path.Combine(world.Directory, "run", world.ClientHost.Name, "watch.pid");
        for (var i = 0; i < 250 && !File.Exists(pid); i++)
        {
            await Task.Delay(20);
        }

        Assert.True(File.Exists(pid), "the watcher wrote no pid file");
    }

    private static async Task<string> ApplyBothAsync(NetnsWorld world, IReadOnlyDictionary<string, string>? environment = null)
    {
        var log = new System.Text.StringBuilder();
        foreach (var host in new[] { world.GatewayHost.Name, world.ClientHost.Name })
        {
            var apply = await world.ScriptAsync(host, "apply", environment);
            Assert.True(apply.Succeeded, $"{host} apply exited {apply.ExitCode}:\n{apply.StandardError}\n{await world.DumpAsync(world.NamespaceOf(host))}");
            log.Append(apply.StandardError);
        }

        return log.ToString();
    }

    private static void AssertSameDump(string expected, string actual, string what)
    {
        if (expected != actual)
        {
            var e = expected.Split('\n');
            var a = actual.Split('\n');
            var diff = e.Except(a).Select(l => "- " + l).Concat(a.Except(e).Select(l => "+ " + l));
            Assert.Fail($"{what} differs:\n{string.Join('\n', diff)}\n--- expected ---\n{expected}\n--- actual ---\n{actual}");
        }
    }
}
