using Egress.Core.Topology;
using Egress.Lab.World;
using Egress.Processes;
using Egress.Tests.Shared;

namespace Egress.Lab.RootTests;

/// <summary>The lab refuses what AWS would and names what it drops: security groups at each host's VPC port (from the
/// same rules the AWS planner builds), and drop counters that record the packets they drop.</summary>
public sealed class LabSecurityTests(SeedLabFixture fixture) : IClassFixture<SeedLabFixture>
{
    private RunningLab Lab => fixture.Lab;

    [RootFact]
    public async Task Stranger_InTokyoVpcSendingOverlayToTheGateway_IsRefusedByItsSecurityGroupAndTheClientStillWorks()
    {
        var before = await LabStatusCollector.CountersAsync(Lab);
        var stranger = await Scratch.JoinAsync(Lab, "ap-northeast-1", "10.1.1.66");
        try
        {
            // The client's overlay, spoofed: VXLAN to the gateway's port 4789 carrying the client's inner tunnel address.
            await stranger.Runner.RunOkAsync("ip", "link", "add", "vx0", "type", "vxlan", "id", "1", "remote", "10.1.1.10", "local", "10.1.1.66", "dstport", "4789", "dev", "eth0");
            await stranger.Runner.RunOkAsync("ip", "addr", "add", "192.168.250.2/30", "dev", "vx0");
            await stranger.Runner.RunOkAsync("ip", "link", "set", "vx0", "up");
            var ping = await stranger.Runner.RunAsync(CommandSpec.Of("ping", "-c", "3", "-i", "0.2", "-W", "1", "192.168.250.1"));

            var after = await LabStatusCollector.CountersAsync(Lab);
            var check = Assert.Single(LabCounterChecks.Evaluate(Lab.Topology, before, after), c => c.Name == LabCounterChecks.SecurityGroupDrops && c.Host == "tokyo-nat");
            Assert.NotEqual(0, ping.ExitCode);
            Assert.True(after.SecurityGroupDrops["tokyo-nat"] - before.SecurityGroupDrops["tokyo-nat"] >= 3, check.Detail);
            Assert.False(check.Ok);
            Assert.Matches(@"UDP 10\.1\.1\.66:\d+ → 10\.1\.1\.10:4789", check.Detail);
            Assert.Equal(before.SecurityGroupDrops["sg-client"], after.SecurityGroupDrops["sg-client"]);
        }
        finally
        {
            await stranger.DisposeAsync();
        }

        var echo = await Lab.RunnerFor("sg-client").RunOkAsync("curl", "-sS", "--max-time", "5", "https://ipinfo.io/json");
        Assert.Contains("\"ip\":\"198.51.100.74\"", echo.StandardOutput, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task IgwDrop_OfATunnelSourcedReset_TheCheckNamesThePacket()
    {
        // What a client that routes replies to tunnel-borne traffic out of its uplink sends: a RST whose source is its
        // tunnel address. Injected from a scratch host in the Singapore VPC, so no host's own filters are in the way.
        var before = await LabStatusCollector.CountersAsync(Lab);
        var sender = await Scratch.JoinAsync(Lab, "ap-southeast-1", "10.0.1.77");
        try
        {
            await sender.Runner.RunOkAsync("ip", "addr", "add", "192.168.250.2/32", "dev", "lo");
            await sender.Runner.RunOkAsync("python3", "-c",
                "import socket, struct\n" +
                "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)\n" +
                "s.bind(('192.168.250.2', 0))\n" +
                "for _ in range(3): s.sendto(struct.pack('!HHIIBBHHH', 49712, 443, 1, 0, 5 << 4, 0x04, 0, 0, 0), ('192.0.2.10', 0))\n");
            await Task.Delay(200);

            var after = await LabStatusCollector.CountersAsync(Lab);
            var check = Assert.Single(LabCounterChecks.Evaluate(Lab.Topology, before, after), c => c.Name == LabCounterChecks.IgwDrops && c.Host == "ap-southeast-1");

            Assert.False(check.Ok);
            Assert.Contains("TCP RST 192.168.250.2:49712 → 192.0.2.10:443 ×3", check.Detail, StringComparison.Ordinal);
        }
        finally
        {
            await sender.DisposeAsync();
        }
    }

    [RootFact]
    public async Task Internet_OverlayWithTheClientsPrivateSourceToTheGatewaysEip_IsDroppedAndCountedByTheIgwAndNothingLeavesNated()
    {
        // Issue 24, item 3, as reported: from the lab's internet, overlay packets whose outer source is the client's
        // private address, to the gateway's Elastic IP, carrying 192.168.250.2 -> 192.0.2.1 (VXLAN, and ipip and gre too).
        const int port = 47999;
        var eip = Lab.PublicAddressOf("tokyo-nat")!;
        var router = new NamespaceRunner(Lab.Plan.RouterOf("ap-northeast-1").Namespace);
        var mac = (await Lab.RunnerFor("tokyo-nat").RunOkAsync("cat", "/sys/class/net/eg1/address")).StandardOutput.Trim();
        var internet = Lab.InternetRunner();
        var before = await LabStatusCollector.CountersAsync(Lab);
        var bogonBefore = await CounterAsync(router, LabWorldPlanner.IgwBogonDropCounter);
        await internet.RunOkAsync("nft", "add", "table", "ip", "eoforged");
        try
        {
            await internet.RunOkAsync("nft", "add", "chain", "ip", "eoforged", "seen", "{ type filter hook prerouting priority -300; policy accept; }");
            await internet.RunOkAsync("nft", "add", "rule", "ip", "eoforged", "seen", "udp", "dport", $"{port}", "counter");
            foreach (var mode in new[] { "vxlan", "ipip", "gre" })
            {
                await internet.RunOkAsync(ForgedOverlay.Command(mode, "10.0.1.10", eip, 1, "192.168.250.2", "192.0.2.1", port, mac));
            }

            // Control: a public outer source is not the IGW's to drop (the gateway's security group refuses it).
            await internet.RunOkAsync(ForgedOverlay.Command("vxlan", "192.0.2.1", eip, 1, "192.168.250.2", "192.0.2.1", port, mac));
            await Task.Delay(300);

            var seen = (await internet.RunOkAsync("nft", "list", "chain", "ip", "eoforged", "seen")).StandardOutput;
            var after = await LabStatusCollector.CountersAsync(Lab);
            var dropped = LabDropLog.Since(before.Dropped["ap-northeast-1"], after.Dropped["ap-northeast-1"], LabWorldPlanner.IgwBogonDropCounter);
            Assert.Contains("counter packets 0 ", seen, StringComparison.Ordinal); // nothing reached 192.0.2.1, NATed or not
            Assert.Equal(9, await CounterAsync(router, LabWorldPlanner.IgwBogonDropCounter) - bogonBefore);
            Assert.Contains(dropped, f => f.Packet.StartsWith($"UDP 10.0.1.10:40001 → {eip}:4789", StringComparison.Ordinal) && f.Packets == 3);
            Assert.Equal(6, dropped.Where(f => f.Packet.StartsWith("IP protocol", StringComparison.Ordinal)).Sum(f => f.Packets));
            Assert.DoesNotContain(dropped, f => f.Packet.Contains("192.0.2.1:", StringComparison.Ordinal));
            Assert.True(after.SecurityGroupDrops["tokyo-nat"] - before.SecurityGroupDrops["tokyo-nat"] >= 3, "control: the public-sourced VXLAN reached the gateway's security group");
        }
        finally
        {
            await internet.RunAsync(CommandSpec.Of("nft", "delete", "table", "ip", "eoforged"));
        }

        var echo = await Lab.RunnerFor("sg-client").RunOkAsync("curl", "-sS", "--max-time", "5", "https://ipinfo.io/json");
        Assert.Contains($"\"ip\":\"{eip}\"", echo.StandardOutput, StringComparison.Ordinal);
    }

    private static async Task<long> CounterAsync(ICommandRunner router, string name)
    {
        var text = (await router.RunOkAsync("nft", "list", "counter", "ip", "lab", name)).StandardOutput;
        var at = text.IndexOf("packets ", StringComparison.Ordinal);
        return long.Parse(text[(at + 8)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A namespace of the test's own joined to a region's VPC router like a host (a veth port with the subnet's
    /// router address and a /32 route), as another instance in that subnet would be. Its name carries the lab's prefix,
    /// so `lab down` removes it too; dispose removes it now.</summary>
    private sealed class Scratch : IAsyncDisposable
    {
        private Scratch(string ns) => Runner = new NamespaceRunner(ns);

        public NamespaceRunner Runner { get; }

        public static async Task<Scratch> JoinAsync(RunningLab lab, string region, string address)
        {
            var ns = LabNames.NamespacePrefix(lab.Id) + "x-scratch";
            var router = lab.Plan.RouterOf(region).Namespace;
            var subnet = lab.Topology.Regions.Single(r => r.Name == region).Subnets[0];
            var root = ProcessRunner.Instance;
            await root.RunOkAsync("ip", "netns", "add", ns);
            var scratch = new Scratch(ns);
            await root.RunOkAsync("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", "vpcx9", "netns", router);
            await root.RunOkAsync("ip", "-n", ns, "link", "set", "lo", "up");
            await root.RunOkAsync("ip", "-n", ns, "addr", "add", $"{address}/{subnet.Cidr.PrefixLength}", "dev", "eth0");
            await root.RunOkAsync("ip", "-n", ns, "link", "set", "eth0", "up");
            await root.RunOkAsync("ip", "-n", ns, "route", "add", "default", "via", subnet.Router.ToString());
            await root.RunOkAsync("ip", "-n", router, "addr", "add", $"{subnet.Router}/32", "dev", "vpcx9");
            await root.RunOkAsync("ip", "-n", router, "link", "set", "vpcx9", "up");
            await root.RunOkAsync("ip", "-n", router, "route", "add", $"{address}/32", "dev", "vpcx9");
            return scratch;
        }

        public async ValueTask DisposeAsync() =>
            await ProcessRunner.Instance.RunAsync(CommandSpec.Of("ip", "netns", "del", Runner.Namespace));
    }
}
