using Egress.Processes;
using Egress.Host.Rendering;
namespace Egress.Lab.Tests;

public sealed class ParsingTests
{
    [Fact]
    public void ParseNamedCounters_NftJson_PacketsByName()
    {
        const string json = """
            {"nftables": [{"metainfo": {"version": "1.0.9", "release_name": "Old Doc Yak #3", "json_schema_version": 1}},
             {"counter": {"family": "ip", "name": "igw_drop", "table": "lab", "handle": 3, "packets": 0, "bytes": 0}},
             {"counter": {"family": "ip", "name": "pcx_drop", "table": "lab", "handle": 4, "packets": 7, "bytes": 420}}]}
            """;

        var counters = LabStatusCollector.ParseNamedCounters(json);

        Assert.Equal(0, counters["igw_drop"]);
        Assert.Equal(7, counters["pcx_drop"]);
    }

    [Fact]
    public void SumDropCounters_RulesWithCounterAndDrop_CountsOnlyDrops()
    {
        const string json = """
            {"nftables": [
             {"rule": {"family": "ip", "table": "egress", "chain": "forward", "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"counter": {"packets": 100, "bytes": 1}}, {"accept": null}]}},
             {"rule": {"family": "ip", "table": "egress", "chain": "forward", "expr": [{"counter": {"packets": 3, "bytes": 180}}, {"drop": null}]}},
             {"rule": {"family": "ip", "table": "egress", "chain": "input", "expr": [{"counter": {"packets": 2, "bytes": 100}}, {"drop": null}]}}]}
            """;

        Assert.Equal(5, LabStatusCollector.SumDropCounters(json));
    }

    [Fact]
    public void Parse_CheckJsonWithAFailedInvariant_NotOk()
    {
        var result = HostCheck.Parse("sg-client", new CommandResult(1, """{"host":"sg-client","ok":false,"invariants":[{"name":"tunnel.up","ok":false,"detail":"tun0 is down"}],"warnings":[]}""", string.Empty, TimeSpan.Zero));

        Assert.False(result.Passed);
        Assert.Equal("tun0 is down", Assert.Single(result.Failed).Detail);
    }

    [Fact]
    public void Parse_NotJson_FailedWithReason()
    {
        var result = HostCheck.Parse("sg-client", new CommandResult(127, string.Empty, "sh: 1: nft: not found", TimeSpan.Zero));

        Assert.False(result.Passed);
        Assert.Contains("exit 127: sh: 1: nft: not found", result.Problem, StringComparison.Ordinal);
    }
}

public sealed class LabCounterChecksTests
{
    private static LabCounters Counters(long sgOut, long pcx, long igwDrop) => new()
    {
        IgwNatOut = new Dictionary<string, long> { ["sg-client"] = sgOut, ["tokyo-nat"] = 5 },
        IgwNatIn = new Dictionary<string, long> { ["sg-client"] = 0, ["tokyo-nat"] = 0 },
        IgwDrops = new Dictionary<string, long> { ["ap-southeast-1"] = igwDrop, ["ap-northeast-1"] = 0 },
        PeeringDrops = new Dictionary<string, long> { ["ap-southeast-1"] = pcx, ["ap-northeast-1"] = 0 },
        PeeringFragNeededDrops = new Dictionary<string, long>(),
        GatewayForwardDrops = new Dictionary<string, long>(),
    };

    private static readonly Egress.Core.Topology.TopologyModel Seed = Egress.Core.Topology.Examples.Load(Egress.Core.Topology.Examples.Seed);

    [Fact]
    public void Evaluate_CountersUnchanged_EveryCheckPasses()
    {
        var checks = LabCounterChecks.Evaluate(Seed, Counters(3, 0, 0), Counters(3, 0, 0));

        Assert.Equal(5, checks.Count); // sg-client's IGW; peering and IGW drops of both regions
        Assert.All(checks, c => Assert.True(c.Ok));
    }

    [Fact]
    public void Evaluate_ClientNatAndPeeringDropsMoved_FailsAndSaysWhy()
    {
        var checks = LabCounterChecks.Evaluate(Seed, Counters(3, 0, 0), Counters(5, 4, 1));

        Assert.Contains(checks, c => c is { Name: LabCounterChecks.NoClientEgressViaOwnIgw, Ok: false } && c.Detail.Contains("2 connections from sg-client", StringComparison.Ordinal));
        Assert.Contains(checks, c => c is { Name: LabCounterChecks.PeeringDrops, Host: "ap-southeast-1", Ok: false } && c.Detail.Contains("dropped 4 packets on the peering link", StringComparison.Ordinal));
        Assert.Contains(checks, c => c is { Name: LabCounterChecks.IgwDrops, Host: "ap-southeast-1", Ok: false });
        Assert.Contains(checks, c => c is { Name: LabCounterChecks.PeeringDrops, Host: "ap-northeast-1", Ok: true });
    }
}
