using System.Diagnostics;
using System.Globalization;
using Egress.Core.Topology;
using Egress.Host.Rendering;
using Egress.Tests.Shared;

namespace Egress.Host.RootTests;

/// <summary>Issue 24, item 1: fail-closed is a property of the uplink, not of the tunnel's state. The seed (fail-closed,
/// VXLAN) in namespaces, the internet routed back to the client (so a leak would be answered and seen). Each fault damages
/// one part of egress's state; whatever it is, no new packet from the client reaches the router for an address outside
/// the VPCs and link-local (counted in the router's prerouting as it arrives from the client's eth0), not from an ordinary
/// socket, a socket bound to the uplink, a UDP socket or ping. The watcher, when it runs, repairs the damage.</summary>
[Collection(TimingCollection.Name)]
public sealed class FailClosedBehaviourTests
{
    private static readonly string EchoUrl = $"http://{NetnsWorld.InternetAddress}:{NetnsWorld.ListenerPort}/";

    private const string LeakTable = "ekleak";

    private static TopologyModel Seed()
    {
        var seed = Examples.Load(Examples.Seed);
        return seed with { Overlay = seed.Overlay with { Mode = OverlayMode.Vxlan } };
    }

    /// <summary>The faults of issue 24, as commands run in the client's namespace.</summary>
    private static string[] FaultCommand(string fault) => fault switch
    {
        "tunnel-deleted" => ["ip", "link", "del", "eg1"],
        "tunnel-down" => ["ip", "link", "set", "eg1", "down"],
        "address-flushed" => ["ip", "addr", "flush", "dev", "eg1"],
        "halves-deleted" => ["sh", "-c", "ip route del 0.0.0.0/1 && ip route del 128.0.0.0/1"],
        "nft-table-deleted" => ["nft", "delete", "table", "ip", "egress"],
        _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, null),
    };

    private static readonly string[] FaultNames = ["tunnel-deleted", "tunnel-down", "address-flushed", "halves-deleted", "nft-table-deleted"];

    public static TheoryData<string> Faults() => new(FaultNames);

    private static async Task<NetnsWorld> AppliedAsync()
    {
        var world = await NetnsWorld.CreateAsync(Seed(), "ek");
        try
        {
            Assert.True(world.OverlaySupported, "this kernel cannot create vxlan tunnels");
            await world.StartEchoServerAsync(world.Internet, NetnsWorld.InternetAddress, NetnsWorld.ListenerPort);
            await world.RouteInternetToClientAsync();
            foreach (var host in new[] { world.GatewayHost.Name, world.ClientHost.Name })
            {
                var apply = await world.ScriptAsync(host, "apply");
                Assert.True(apply.Succeeded, $"{host} apply: {apply.StandardError}");
            }

            var fetched = await world.FetchAsync(world.Client, EchoUrl);
            Assert.True(fetched.Succeeded, $"control: egress via the gateway works before the fault: {fetched.StandardError}");
            Assert.Equal(world.GatewayHost.PrivateIp.ToString(), fetched.StandardOutput.Trim());
            // Every IPv4 packet from the client's eth0 to an address outside the VPCs and link-local: what must not leave.
            await world.CountAsync(world.Router, LeakTable, "iifname \"vpca\" ip daddr != { 10.0.0.0/8, 169.254.0.0/16 }");
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    /// <summary>New traffic of every kind towards the internet from the client: an ordinary connection, one bound to the
    /// uplink, UDP from an unbound socket and ping. Returns what got an answer (nothing should).</summary>
    private static async Task<List<string>> TryEveryWayOutAsync(NetnsWorld world)
    {
        var answered = new List<string>();
        var plain = await world.FetchAsync(world.Client, EchoUrl, seconds: 2);
        if (plain.Succeeded && plain.StandardOutput.Trim() == world.ClientHost.PrivateIp.ToString())
        {
            answered.Add($"curl from the client's own address: {plain.StandardOutput}");
        }

        var bound = await world.Exec(world.Client, "curl", "-sS", "--max-time", "2", "--interface", "eth0", EchoUrl);
        if (bound.Succeeded)
        {
            answered.Add($"curl --interface eth0: {bound.StandardOutput}");
        }

        await world.Exec(world.Client, "python3", "-c",
            $"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('{NetnsWorld.InternetAddress}', 5353))");
        var ping = await world.Exec(world.Client, "ping", "-n", "-c", "1", "-W", "1", "-I", "eth0", NetnsWorld.InternetAddress);
        if (ping.Succeeded)
        {
            answered.Add("ping -I eth0");
        }

        return answered;
    }

    [RootTheory]
    [MemberData(nameof(Faults))]
    public async Task Apply_FaultWithNoWatcher_NothingNewLeavesTheUplink(string fault)
    {
        await using var world = await AppliedAsync();

        await world.ExecOk(world.Client, FaultCommand(fault));
        var answered = await TryEveryWayOutAsync(world);
        var plain = await world.FetchAsync(world.Client, EchoUrl, seconds: 2);

        Assert.Empty(answered);
        Assert.False(plain.Succeeded && plain.StandardOutput.Trim() == world.ClientHost.PrivateIp.ToString(), $"{fault}: the client's traffic left from its own address");
        var leaked = await world.CountedAsync(world.Router, LeakTable);
        Assert.True(leaked == 0, $"{fault}: {leaked} packets from the client left its uplink for the internet\n{await world.DumpAsync(world.Client)}");
    }

    [RootFact]
    public async Task Apply_WatcherKilledThenTunnelDeleted_NothingLeavesAndCheckSaysWhy()
    {
        await using var world = await AppliedAsync();
        var watcher = world.StartWatcher(_ => { });
        await WaitUntilAsync(() => File.Exists(Path.Combine(world.Directory, "run", world.ClientHost.Name, "failover")), "the watcher's first round");
        watcher.Kill();
        await watcher.WaitForExitAsync();

        await world.ExecOk(world.Client, FaultCommand("tunnel-deleted"));
        await Task.Delay(1000); // a watcher would have repaired it by now: this one is dead
        var answered = await TryEveryWayOutAsync(world);
        var check = CheckReport.Parse((await world.ScriptAsync(world.ClientHost.Name, "check")).StandardOutput);

        Assert.Empty(answered);
        Assert.Equal(0, await world.CountedAsync(world.Router, LeakTable));
        Assert.Contains(check.Failures, f => f.Name == "failover.watcher");
        Assert.Contains(check.Failures, f => f is { Name: "tunnel.up", Detail: "eg1 does not exist" });
        Assert.Contains(check.Invariants, i => i is { Name: "killswitch.uplink", Ok: true });
    }

    [RootFact]
    public async Task Watch_EveryFaultInTurn_NothingLeavesMeanwhileAndTheWatcherRepairsIt()
    {
        await using var world = await AppliedAsync();
        var log = new List<string>();
        var watcher = world.StartWatcher(line =>
        {
            lock (log)
            {
                log.Add(line);
            }
        });
        string Log()
        {
            lock (log)
            {
                return string.Join('\n', log);
            }
        }

        int Repaired()
        {
            lock (log)
            {
                return log.Count(l => l.EndsWith(": repaired", StringComparison.Ordinal));
            }
        }

        await WaitUntilAsync(() => File.Exists(Path.Combine(world.Directory, "run", world.ClientHost.Name, "failover")), "the watcher's first round");
        foreach (var fault in FaultNames)
        {
            var before = Repaired();
            await world.ExecOk(world.Client, FaultCommand(fault));
            // No answer from the client's own address while the damage lasts (the watcher may already have repaired it:
            // then the answer comes from the gateway, which is fine).
            for (var i = 0; i < 3; i++)
            {
                var plain = await world.FetchAsync(world.Client, EchoUrl, seconds: 1);
                Assert.False(plain.Succeeded && plain.StandardOutput.Trim() == world.ClientHost.PrivateIp.ToString(), $"{fault}: the client's traffic left from its own address");
            }

            await WaitUntilAsync(() => Repaired() > before, $"the watcher repairing {fault}", TimeSpan.FromSeconds(5), Log);
            var fetched = await WaitForEgressAsync(world);
            Assert.True(fetched == world.GatewayHost.PrivateIp.ToString(), $"{fault}: after the repair egress leaves via the gateway, got {fetched}\n{Log()}");
            Assert.Equal(0, await world.CountedAsync(world.Router, LeakTable));
        }

        var check = CheckReport.Parse((await world.ScriptAsync(world.ClientHost.Name, "check")).StandardOutput);
        Assert.True(check.Ok, string.Join("; ", check.Failures.Select(f => $"{f.Name}: {f.Detail}")) + "\n" + Log());
        Assert.DoesNotContain("cannot repair", Log(), StringComparison.Ordinal);
        Assert.False(watcher.HasExited, Log());
    }

    [RootFact]
    public async Task Apply_MarkedSockets_DoNotLeaveTheUplinkButReachTheVpc()
    {
        await using var world = await AppliedAsync();

        var ping = await world.Exec(world.Client, "ping", "-n", "-m", "1", "-c", "1", "-W", "1", NetnsWorld.InternetAddress);
        await world.Exec(world.Client, "python3", "-c",
            $"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 1); s.sendto(b'x', ('{NetnsWorld.InternetAddress}', 5353))");
        var tcp = await world.Exec(world.Client, "python3", "-c",
            "import socket, sys\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 1)\ns.settimeout(2)\n" +
            $"s.connect(('{NetnsWorld.InternetAddress}', {NetnsWorld.ListenerPort}))\ns.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\nprint(s.recv(4096).decode())\n");
        var vpc = await world.Exec(world.Client, "ping", "-n", "-m", "1", "-c", "1", "-W", "2", world.GatewayHost.PrivateIp.ToString());

        Assert.False(ping.Succeeded, $"ping -m 1 got an answer from the internet: {ping.StandardOutput}");
        Assert.False(tcp.Succeeded, $"a TCP socket with SO_MARK 1 reached the internet: {tcp.StandardOutput}");
        Assert.Equal(0, await world.CountedAsync(world.Router, LeakTable));
        Assert.True(vpc.Succeeded, $"a marked socket still reaches the VPC (the gateway's private address): {vpc.StandardOutput}{vpc.StandardError}");
    }

    /// <summary>Sends one IPv4/UDP frame to port 9999 of <c>sys.argv[3]</c> by AF_PACKET on eth0, from the client's address to
    /// the router's MAC (sys.argv[1], sys.argv[2]): no IP-stack hook sees it.</summary>
    private const string RawFrame = """
        import socket, struct, sys
        def csum(b):
            s = sum(struct.unpack('!10H', b))
            s = (s >> 16) + (s & 0xffff); s += s >> 16
            return ~s & 0xffff
        src, dst = socket.inet_aton(sys.argv[2]), socket.inet_aton(sys.argv[3])
        udp = struct.pack('!HHHH', 40000, 9999, 9, 0) + b'x'
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind(('eth0', 0))
        mac = open('/sys/class/net/eth0/address').read().strip()
        s.send(bytes.fromhex(sys.argv[1].replace(':', '')) + bytes.fromhex(mac.replace(':', '')) + b'\x08\x00' + ip + udp)
        """;

    [RootFact]
    public async Task Apply_AfPacketFrameToTheRoutersMac_DoesNotLeaveButOneToTheVpcDoes()
    {
        await using var world = await AppliedAsync();
        await world.CountAsync(world.Router, "ekraw", "iifname \"vpca\" udp dport 9999");
        var link = (await world.ExecOk(world.Router, "ip", "-o", "link", "show", "dev", "vpca")).StandardOutput;
        var mac = link[(link.IndexOf("link/ether ", StringComparison.Ordinal) + 11)..].Split(' ')[0];
        var own = world.ClientHost.PrivateIp.ToString();

        var internet = await world.Exec(world.Client, "python3", "-c", RawFrame, mac, own, NetnsWorld.InternetAddress);
        var vpc = await world.Exec(world.Client, "python3", "-c", RawFrame, mac, own, world.GatewayHost.PrivateIp.ToString());
        await Task.Delay(200);
        var check = CheckReport.Parse((await world.ScriptAsync(world.ClientHost.Name, "check")).StandardOutput);

        Assert.True(vpc.Succeeded, vpc.StandardError);
        // The egress hook's drop reaches the sender as ENOBUFS (dev_queue_xmit's NET_XMIT_DROP).
        Assert.True(internet.Succeeded || internet.StandardError.Contains("No buffer space", StringComparison.Ordinal), internet.StandardError);
        Assert.Equal(0, await world.CountedAsync(world.Router, LeakTable));
        Assert.Equal(1, await world.CountedAsync(world.Router, "ekraw")); // the VPC frame: the way is open, only the internet is not
        Assert.Contains("hook egress", check.Invariants.Single(i => i.Name == "killswitch.uplink").Detail, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Check_PlainFailClosed_KillSwitchHoldsAndIsNotAFinding()
    {
        await using var world = await AppliedAsync();
        var log = new List<string>();
        world.StartWatcher(line =>
        {
            lock (log)
            {
                log.Add(line);
            }
        });
        await world.ExecOk(world.Router, "ip", "link", "set", world.RouterLinkOf(world.GatewayHost.Name), "down"); // the gateway is cut
        await WaitUntilAsync(() => { lock (log) { return log.Any(l => l.Contains("fail-closed: every gateway is down", StringComparison.Ordinal)); } }, "fail-closed");

        var answered = await TryEveryWayOutAsync(world);
        var check = CheckReport.Parse((await world.ScriptAsync(world.ClientHost.Name, "check")).StandardOutput);

        Assert.Empty(answered);
        Assert.Equal(0, await world.CountedAsync(world.Router, LeakTable));
        var killSwitch = check.Invariants.Single(i => i.Name == "killswitch.uplink");
        Assert.True(killSwitch.Ok, killSwitch.Detail);
        Assert.Contains(check.Failures, f => f.Name == "failover.active-gateway" && f.Detail.Contains("egress refused (fail-closed)", StringComparison.Ordinal));
    }

    /// <summary>The echo's answer to the client (the address it saw), retried for up to 5 s; null if none came.</summary>
    private static async Task<string?> WaitForEgressAsync(NetnsWorld world)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            var fetched = await world.FetchAsync(world.Client, EchoUrl, seconds: 1);
            if (fetched.Succeeded)
            {
                return fetched.StandardOutput.Trim();
            }

            await Task.Delay(100);
        }

        return null;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(5)))
            {
                Assert.Fail($"no {what} within {(timeout ?? TimeSpan.FromSeconds(5)).TotalSeconds.ToString(CultureInfo.InvariantCulture)} s\n{describe?.Invoke()}");
            }

            await Task.Delay(20);
        }
    }
}
