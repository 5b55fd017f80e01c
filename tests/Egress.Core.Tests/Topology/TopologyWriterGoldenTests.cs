using Egress.Core.Topology;

namespace Egress.Core.Tests.Topology;

/// <summary>`egress show` of every example, YAML and JSON, byte for byte: the writer walks its tree event by event (no
/// reflection), and these files are what the reflection-based serializer wrote before, plus the JSON's schemaVersion.</summary>
public class TopologyWriterGoldenTests
{
    public static TheoryData<string> Names => new() { Examples.Seed, "three-region", "failover" };

    [Theory]
    [MemberData(nameof(Names))]
    public void ToYaml_Example_MatchesGolden(string name) =>
        Assert.Equal(Golden($"show-{name}.yaml"), TopologyWriter.ToYaml(Examples.Load(name)));

    [Theory]
    [MemberData(nameof(Names))]
    public void ToJson_Example_MatchesGoldenWithSchemaVersion(string name) =>
        Assert.Equal(Golden($"show-{name}.json"), TopologyWriter.ToJson(Examples.Load(name)));

    [Theory]
    [InlineData("true")]
    [InlineData("1500")]
    [InlineData("null")]
    [InlineData("")]
    [InlineData("0x1f")]
    public void ToYaml_StringThatReadsAsAnotherType_IsQuotedAndReadsBack(string ami)
    {
        var topology = Examples.Load(Examples.Seed);
        var host = topology.Regions[0].Hosts[0] with { Ami = ami };
        var changed = topology with { Regions = [topology.Regions[0] with { Hosts = [host] }, .. topology.Regions.Skip(1)] };

        var yaml = TopologyWriter.ToYaml(changed);

        Assert.Contains($"ami: \"{ami}\"\n", yaml, StringComparison.Ordinal);
    }

    private static string Golden(string file) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Topology", "Golden", file));
}
