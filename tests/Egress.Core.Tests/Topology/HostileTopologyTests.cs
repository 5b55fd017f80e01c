using System.Diagnostics;
using System.Text;
using Egress.Core.Topology;

namespace Egress.Core.Tests.Topology;

/// <summary>Inputs that used to crash the loader (exit 70 in every verb) or exhaust it: each is now a located error.</summary>
public sealed class HostileTopologyTests
{
    private static readonly string Seed = Examples.Text(Examples.Seed);

    [Theory]
    [InlineData("10.0.1.5/24", "has host bits set")]
    [InlineData("banana", "is not an IPv4 prefix")]
    [InlineData("10.0.1.0", "has no prefix length")]
    [InlineData("''", "is empty")]
    [InlineData("10.0.1.0/30", "AWS allows /16 to /28")]
    [InlineData("10.0.1.0/32", "AWS allows /16 to /28")]
    public void Load_InvalidSubnetCidr_ReportsItAtItsLineInsteadOfThrowing(string cidr, string message)
    {
        var result = TopologyLoader.Load(Seed.Replace("cidr: 10.0.1.0/24", "cidr: " + cidr, StringComparison.Ordinal), "t.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Equal("regions[0].subnets[0].cidr", error.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.True(error.Line > 0);
    }

    [Fact]
    public void Load_HostWithEmptySubnetName_IsAnErrorNotAValidTopology()
    {
        var result = TopologyLoader.Load(Seed.Replace("        subnet: public-a\n        privateIp: 10.0.1.10", "        subnet: ''\n        privateIp: 10.0.1.10", StringComparison.Ordinal));

        Assert.Contains(result.Errors, e => e.Path == "regions[0].hosts[0].subnet");
    }

    [Theory]
    [InlineData("''")]
    [InlineData(">")]
    [InlineData("' '")]
    public void Load_EmptyRegionName_IsAnErrorNotAValidTopology(string empty)
    {
        // CsCheck found `name: >` (an empty folded scalar) passing validation: plan then failed at AWS with exit 1 (seed 3jAYuv-EcWZ1).
        var result = TopologyLoader.Load(Seed.Replace("  - name: ap-southeast-1", "  - name: " + empty, StringComparison.Ordinal));

        Assert.Contains(result.Errors, e => e.Path == "regions[0].name" && e.Message.Contains("empty", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_UnpairedSurrogateEscape_IsALocatedErrorNotACrashLater()
    {
        // CsCheck seed 5NpHOG50fE72: a document given as text (not read from a UTF-8 file, which cannot hold one) with a lone
        // surrogate in a name loaded, and writing the topology back (show, lab up's manifest) threw.
        var result = TopologyLoader.Load(Seed.Replace("      - name: public-a\n        cidr: 10.0.1.0/24", "      - name: public-a\ud800\n        cidr: 10.0.1.0/24", StringComparison.Ordinal));

        var error = Assert.Single(result.Errors, e => e.Path == "regions[0].subnets[0].name");
        Assert.Contains("unpaired UTF-16 surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_LargerThanTheCap_IsRefusedBeforeParsing()
    {
        var huge = Seed + "# " + new string('x', TopologyLoader.MaxSize) + "\n";

        var result = TopologyLoader.Load(huge, "t.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains("larger than 1024 KiB", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void Load_JustUnderTheCap_StillLoads()
    {
        var padded = Seed + "# " + new string('x', TopologyLoader.MaxSize - Seed.Length - 10) + "\n";

        Assert.True(TopologyLoader.Load(padded).Succeeded);
    }

    [Theory]
    [InlineData(21)]
    [InlineData(100_000)]
    public void Load_DeepNesting_IsOneLocatedErrorNotAStackOverflow(int depth)
    {
        var text = Seed + "nested: " + new string('[', depth) + new string(']', depth) + "\n";

        var error = Assert.Single(TopologyLoader.Load(text, "t.yaml").Errors);
        Assert.Equal("nested[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]", error.Path);
        Assert.Contains("nesting deeper than 20 levels", error.Message, StringComparison.Ordinal);
        Assert.True(error.Line > 1);
    }

    [Fact]
    public void Load_DuplicateKey_NamesItsLineAndPath()
    {
        var text = Seed.Replace("        role: client\n", "        role: client\n        role: gateway\n", StringComparison.Ordinal);

        var error = Assert.Single(TopologyLoader.Load(text, "t.yaml").Errors);
        Assert.Equal("regions[0].hosts[0].role", error.Path);
        Assert.Contains("appears twice", error.Message, StringComparison.Ordinal);
        Assert.True(error.Line > 0);
    }

    [Theory]
    [InlineData("regions: [a")]
    [InlineData("regions: {a: [b")]
    [InlineData("stack: 'open")]
    public void Load_UnclosedFlowOrQuote_IsASyntaxErrorWithALine(string text)
    {
        var error = Assert.Single(TopologyLoader.Load(text, "t.yaml").Errors);
        Assert.Contains("YAML syntax error", error.Message, StringComparison.Ordinal);
        Assert.True(error.Line > 0);
    }

    [Fact]
    public void Load_AliasBomb_IsBoundedByTheListLimits()
    {
        // Each level repeats the one before 64 times: expanded naively, 64^3 regions.
        var text = new StringBuilder(Seed.Replace("regions:\n", "regions: &r0\n", StringComparison.Ordinal));
        text.Append("lab:\n  latency:\n");
        for (var level = 1; level <= 3; level++)
        {
            text.Append("    - &r").Append(level).Append(" [").Append(string.Join(", ", Enumerable.Repeat($"*r{level - 1}", 64))).Append("]\n");
        }

        var clock = Stopwatch.StartNew();
        var result = TopologyLoader.Load(text.ToString());

        Assert.False(result.Succeeded);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "bounded work, with generous slack for a loaded machine");
    }

    [Fact]
    public void Load_TooManyRegions_NamesTheLimit()
    {
        var regions = string.Concat(Enumerable.Range(0, TopologyLimits.Regions + 1).Select(i => $"  - name: r{i}\n"));

        var result = TopologyLoader.Load("stack: s\nregions:\n" + regions, "t.yaml");

        Assert.Contains(result.Errors, e => e.Path == "regions" && e.Message.Contains("at most 64", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_LongHostileValue_IsShortenedInTheMessage()
    {
        var result = TopologyLoader.Load(Seed.Replace("tunings:\n  bbr: true", "tunings: " + new string('x', 10_000) + "\nxtunings:\n  bbr: true", StringComparison.Ordinal));

        Assert.All(result.Errors, e => Assert.True(e.Message.Length < 500, $"{e.Message.Length} characters"));
    }
}
