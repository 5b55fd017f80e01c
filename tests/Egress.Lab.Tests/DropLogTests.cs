using Egress.Lab.World;

namespace Egress.Lab.Tests;

public class DropLogTests
{
    private const string Before = """
        {"nftables": [{"metainfo": {"version": "1.0.6"}}, {"counter": {"family": "ip", "name": "igw_drop", "table": "lab", "packets": 4, "bytes": 200}},
        {"set": {"family": "ip", "name": "igw_drop_log_rst", "table": "lab", "type": ["ipv4_addr", "inet_service", "ipv4_addr", "inet_service"],
          "elem": [{"elem": {"val": {"concat": ["192.168.250.2", 49712, "192.0.2.10", 443]}, "counter": {"packets": 1, "bytes": 40}}}]}}]}
        """;

    private const string After = """
        {"nftables": [{"metainfo": {"version": "1.0.6"}}, {"counter": {"family": "ip", "name": "igw_drop", "table": "lab", "packets": 9, "bytes": 400}},
        {"set": {"family": "ip", "name": "igw_drop_log_rst", "table": "lab", "type": ["ipv4_addr", "inet_service", "ipv4_addr", "inet_service"],
          "elem": [{"elem": {"val": {"concat": ["192.168.250.2", 49712, "192.0.2.10", 443]}, "counter": {"packets": 4, "bytes": 160}}}]}},
        {"set": {"family": "ip", "name": "igw_drop_log_icmp", "table": "lab", "type": ["ipv4_addr", "ipv4_addr", "icmp_type"],
          "elem": [{"elem": {"val": {"concat": ["192.168.250.2", "192.0.2.1", "echo-reply"]}, "counter": {"packets": 2, "bytes": 168}}}]}},
        {"set": {"family": "ip", "name": "sg_drop_tokyo_nat_log_udp", "table": "lab", "type": ["ipv4_addr", "inet_service", "ipv4_addr", "inet_service"],
          "elem": [{"elem": {"val": {"concat": ["10.1.1.66", 40000, "10.1.1.10", 4789]}, "counter": {"packets": 3, "bytes": 300}}}]}},
        {"set": {"family": "ip", "name": "pcx_drop_log_ip", "table": "lab", "type": ["ipv4_addr", "ipv4_addr", "inet_proto"]}}]}
        """;

    [Fact]
    public void Parse_NftJson_NamesEachPacketKindByDropPoint()
    {
        var flows = LabDropLog.Parse(After);

        Assert.Equal(
            ["igw_drop TCP RST 192.168.250.2:49712 → 192.0.2.10:443 ×4", "igw_drop ICMP echo-reply 192.168.250.2 → 192.0.2.1 ×2", "sg_drop_tokyo_nat UDP 10.1.1.66:40000 → 10.1.1.10:4789 ×3"],
            flows.Select(f => $"{f.Point} {f}"));
    }

    [Fact]
    public void Since_TwoReadings_GivesOnlyWhatWasDroppedBetweenThemMostFirst()
    {
        var since = LabDropLog.Since(LabDropLog.Parse(Before), LabDropLog.Parse(After), "igw_drop");

        Assert.Equal(["TCP RST 192.168.250.2:49712 → 192.0.2.10:443 ×3", "ICMP echo-reply 192.168.250.2 → 192.0.2.1 ×2"], since.Select(f => f.ToString()));
    }

    [Fact]
    public void Evaluate_IgwDropsWithLoggedPackets_DetailNamesThem()
    {
        var topology = Core.Topology.Examples.Load(Core.Topology.Examples.Seed);
        LabCounters Counters(long drops, string json) => new()
        {
            IgwNatOut = new Dictionary<string, long>(),
            IgwNatIn = new Dictionary<string, long>(),
            IgwDrops = new Dictionary<string, long> { ["ap-southeast-1"] = drops },
            PeeringDrops = new Dictionary<string, long>(),
            PeeringFragNeededDrops = new Dictionary<string, long>(),
            GatewayForwardDrops = new Dictionary<string, long>(),
            Dropped = new Dictionary<string, IReadOnlyList<DroppedFlow>> { ["ap-southeast-1"] = LabDropLog.Parse(json) },
        };

        var check = Assert.Single(LabCounterChecks.Evaluate(topology, Counters(4, Before), Counters(9, After)), c => c.Name == LabCounterChecks.IgwDrops);

        Assert.False(check.Ok);
        Assert.Equal("the ap-southeast-1 IGW dropped 5 internet-bound packets from addresses without a public IP: TCP RST 192.168.250.2:49712 → 192.0.2.10:443 ×3; ICMP echo-reply 192.168.250.2 → 192.0.2.1 ×2", check.Detail);
    }

    [Theory]
    [InlineData("1234 5678", true)]
    [InlineData("1234", false)]
    [InlineData("x 5", false)]
    [InlineData("", false)]
    public void LabOwner_Parse_TakesPidAndStartTicksOnly(string text, bool parses) =>
        Assert.Equal(parses, LabOwner.Parse(text) is not null);

    [Fact]
    public void LabOwner_Current_IsAliveAndAnotherStartTimeIsNot()
    {
        Assert.True(LabOwner.Current.IsAlive);
        Assert.False((LabOwner.Current with { StartTicks = LabOwner.Current.StartTicks + 1 }).IsAlive);
    }
}
