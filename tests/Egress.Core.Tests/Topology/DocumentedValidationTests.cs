using System.Diagnostics;
using System.Text;
using Egress.Core.Topology;

namespace Egress.Core.Tests.Topology;

/// <summary>Issue 24 item 5: validation as docs/topology.md documents it (lengths, empty names, addresses inside their
/// subnet and not reserved), YAML tags refused, and a document's alias expansion bounded. Each case was accepted (or,
/// for the alias bomb, took minutes) before.</summary>
public sealed class DocumentedValidationTests
{
    private static readonly string Seed = Examples.Text(Examples.Seed);

    private static string Edit(string from, string to)
    {
        Assert.Contains(from, Seed, StringComparison.Ordinal);
        return Seed.Replace(from, to, StringComparison.Ordinal);
    }

    private static Diagnostic SingleError(string yaml, string path)
    {
        var result = TopologyLoader.Load(yaml, "t.yaml");
        Assert.False(result.Succeeded, "expected the document to be refused");
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Equal("t.yaml", error.File);
        Assert.True(error.Line > 0 && error.Column > 0, $"not located: {error}");
        Assert.False(string.IsNullOrWhiteSpace(error.Hint), $"no fix: {error}");
        return error;
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("''")]
    public void Load_EmptyStackName_IsAnError(string empty)
    {
        // The emulator run of issue 24: 'destroy -f emptystack.yaml' deleted another stack's peering.
        var error = SingleError(Edit("stack: egress-seed", "stack: " + empty), "stack");
        Assert.Contains("the stack name is empty", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, error.Line);
    }

    [Theory]
    [InlineData("abcdefghijabcdefghijabcdefghijab", true)] // 32
    [InlineData("abcdefghijabcdefghijabcdefghijabc", false)] // 33
    [InlineData("a", true)]
    [InlineData("9lives", false)]
    public void Load_StackName_Is1To32CharactersStartingWithALetter(string stack, bool valid)
    {
        var result = TopologyLoader.Load(Edit("stack: egress-seed", "stack: " + stack));

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains(result.Errors, e => e.Path == "stack");
        }
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("''")]
    public void Load_EmptyHostName_IsAnError(string empty)
    {
        var error = SingleError(Edit("      - name: sg-client", "      - name: " + empty), "regions[0].hosts[0].name");
        Assert.Contains("the host name is empty", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(40, true)]
    [InlineData(41, false)]
    public void Load_HostName_IsAtMost40Characters(int length, bool valid)
    {
        var name = "n" + new string('x', length - 1);
        var result = TopologyLoader.Load(Edit("name: tokyo-nat", "name: " + name).Replace("egressVia: [tokyo-nat]", $"egressVia: [{name}]", StringComparison.Ordinal));

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains(result.Errors, e => e.Path == "regions[1].hosts[0].name" && e.Message.Contains("is not a valid host name", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("''", "the subnet name is empty")]
    [InlineData("' '", "the subnet name is empty")]
    [InlineData("\"a\\tb\"", "is not a valid subnet name")]
    public void Load_EmptyOrControlSubnetName_IsAnError(string name, string message)
    {
        var yaml = Edit("      - name: public-a\n        cidr: 10.0.1.0/24", "      - name: " + name + "\n        cidr: 10.0.1.0/24")
            .Replace("        subnet: public-a\n        privateIp: 10.0.1.10", "        privateIp: 10.0.1.10", StringComparison.Ordinal);

        var error = SingleError(yaml, "regions[0].subnets[0].name");
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SubnetNameLongerThan64_IsAnError()
    {
        var name = new string('s', 65);
        var yaml = Edit("      - name: public-a\n        cidr: 10.0.1.0/24", "      - name: " + name + "\n        cidr: 10.0.1.0/24")
            .Replace("        subnet: public-a\n        privateIp: 10.0.1.10", "        subnet: " + name + "\n        privateIp: 10.0.1.10", StringComparison.Ordinal);

        SingleError(yaml, "regions[0].subnets[0].name");
    }

    [Theory]
    [InlineData("''")]
    [InlineData("' '")]
    public void Load_EmptyGatewayReference_SaysItIsEmpty(string empty)
    {
        var error = SingleError(Edit("egressVia: [tokyo-nat]", $"egressVia: [tokyo-nat, {empty}]"), "regions[0].hosts[0].egressVia[1]");
        Assert.Contains("the gateway name is empty", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.0.0.0", "is outside subnet")]
    [InlineData("255.255.255.255", "is outside subnet")]
    [InlineData("10.0.1.0", "(the network address)")]
    [InlineData("10.0.1.1", "(the VPC router)")]
    [InlineData("10.0.1.2", "(the Amazon DNS server)")]
    [InlineData("10.0.1.3", "(reserved by AWS for future use)")]
    [InlineData("10.0.1.255", "(the broadcast address)")]
    [InlineData("10.0.2.10", "is outside subnet")]
    public void Load_PrivateIpOutsideOrReserved_IsAnError(string address, string message)
    {
        var error = SingleError(Edit("privateIp: 10.0.1.10", "privateIp: " + address), "regions[0].hosts[0].privateIp");
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains("from 10.0.1.4 to 10.0.1.254", error.Hint, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.1.4")]
    [InlineData("10.0.1.254")]
    public void Load_PrivateIpAtTheEdgesOfTheUsableRange_IsValid(string address)
    {
        Assert.True(TopologyLoader.Load(Edit("privateIp: 10.0.1.10", "privateIp: " + address)).Succeeded);
    }

    [Fact]
    public void Load_TwoHostsOnZeroAddress_AreNotExemptFromTheDuplicateCheck()
    {
        // 0.0.0.0 used to be the "did not parse" value, skipped by every address check.
        var yaml = Edit("privateIp: 10.0.1.10", "privateIp: 0.0.0.0").Replace("privateIp: 10.1.1.10", "privateIp: 0.0.0.0", StringComparison.Ordinal);

        var errors = TopologyLoader.Load(yaml).Errors.ToList();

        Assert.Contains(errors, e => e.Path == "regions[0].hosts[0].privateIp" && e.Message.Contains("outside subnet", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "regions[1].hosts[0].privateIp" && e.Message.Contains("already used", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0.0.0.0/24")]
    [InlineData("0.255.0.0/16")]
    public void Load_TunnelPoolInThisNetwork_IsAnError(string pool)
    {
        // Tunnel addresses 0.0.0.1 and 0.0.0.2 cannot be a packet's source.
        var error = SingleError(Edit("pool: 192.168.250.0/24", "pool: " + pool), "overlay.pool");
        Assert.Contains("overlaps a reserved range (0.0.0.0/8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_VpcInThisNetwork_IsAnError()
    {
        var yaml = Edit("vpc: 10.0.0.0/16", "vpc: 0.0.0.0/16").Replace("cidr: 10.0.1.0/24", "cidr: 0.0.1.0/24", StringComparison.Ordinal)
            .Replace("privateIp: 10.0.1.10", "privateIp: 0.0.1.10", StringComparison.Ordinal);

        var error = SingleError(yaml, "regions[0].vpc");
        Assert.Contains("overlaps a reserved range", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("stack: egress-seed", "stack: !!map x", "!!map")]
    [InlineData("stack: egress-seed", "stack: !foo egress-seed", "!foo")]
    [InlineData("stack: egress-seed", "stack: !!str egress-seed", "!!str")]
    [InlineData("stack: egress-seed", "stack: ! egress-seed", "!")]
    [InlineData("stack: egress-seed", "stack: !<tag:yaml.org,2002:str> egress-seed", "!<tag:yaml.org,2002:str>")]
    [InlineData("tunings:\n  bbr: true", "tunings: !!map\n  bbr: true", "!!map")]
    [InlineData("tunings:\n  bbr: true", "tunings:\n  bbr: !!bool true", "!!bool")]
    public void Load_ExplicitYamlTag_IsRefusedAtItsPosition(string from, string to, string tag)
    {
        var yaml = Edit(from, to);
        var at = yaml.IndexOf(" " + tag, yaml.IndexOf(to, StringComparison.Ordinal), StringComparison.Ordinal) + 1;
        var line = yaml[..at].Count(ch => ch == '\n') + 1;
        var column = at - yaml.LastIndexOf('\n', at - 1);

        var result = TopologyLoader.Load(yaml, "t.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains($"YAML tag '{tag}' is not allowed", error.Message, StringComparison.Ordinal);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Contains("remove the tag", error.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TagOnAListItem_NamesItsPath()
    {
        var error = Assert.Single(TopologyLoader.Load(Edit("egressVia: [tokyo-nat]", "egressVia: [!!binary tokyo-nat]"), "t.yaml").Errors);

        Assert.Equal("regions[0].hosts[0].egressVia[0]", error.Path);
        Assert.Contains("'!!binary'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The bomb: a region anchor with 200 subnets (one anchored, 199 aliases) repeated 63 times.</summary>
    internal static string AliasBomb()
    {
        var text = new StringBuilder("stack: bomb\nregions:\n  - &r\n    name: ap-southeast-1\n    vpc: 10.0.0.0/16\n    subnets: [&s {cidr: 10.0.1.0/24}");
        text.Append(string.Concat(Enumerable.Repeat(", *s", 199))).Append("]\n");
        text.Append("    hosts: [{name: c, role: client, privateIp: 10.0.1.10, egressVia: [g]}]\n");
        text.Append(string.Concat(Enumerable.Repeat("  - *r\n", 63)));
        return text.ToString();
    }

    [Fact]
    public void Load_AliasBomb_IsRefusedFastWithOneErrorAtTheAlias()
    {
        var text = AliasBomb();
        Assert.InRange(text.Length, 1000, 2000);

        var clock = Stopwatch.StartNew();
        var result = TopologyLoader.Load(text, "bomb.yaml");
        clock.Stop();

        var error = Assert.Single(result.Diagnostics);
        Assert.Contains($"past {YamlGuard.MaxAliasNodes} nodes", error.Message, StringComparison.Ordinal);
        Assert.Contains("alias '*r'", error.Message, StringComparison.Ordinal);
        Assert.Equal("bomb.yaml", error.File);
        Assert.True(error.Line > 8, error.ToString()); // one of the '- *r' lines
        Assert.Equal(5, error.Column);
        Assert.StartsWith("regions[", error.Path, StringComparison.Ordinal);
        Assert.Contains("write the repeated parts out", error.Hint, StringComparison.Ordinal);
        // Measured at a few ms; 5 s is only a sanity bound for a loaded machine (the real figure is in the report).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{clock.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void Load_NestedAliasExpansion_IsCountedThroughEveryLevel()
    {
        // Each level is small as text; the third level's alias is worth 8^3 scalars.
        var text = new StringBuilder(Seed);
        text.Append("x0: &a0 [v, v, v, v, v, v, v, v]\n");
        for (var level = 1; level <= 5; level++)
        {
            text.Append($"x{level}: &a{level} [").Append(string.Join(", ", Enumerable.Repeat($"*a{level - 1}", 8))).Append("]\n");
        }

        var error = Assert.Single(TopologyLoader.Load(text.ToString(), "t.yaml").Errors);
        Assert.Contains("past 20000 nodes", error.Message, StringComparison.Ordinal);
        Assert.Equal("x4[3]", error.Path); // 72 + 584 + 4680 + 4 × 4681 nodes
    }

    [Fact]
    public void Load_AliasOfAGatewayList_LoadsTheSameTopology()
    {
        var three = Examples.Text(Examples.ThreeRegion);
        var first = three.IndexOf("egressVia: [", StringComparison.Ordinal);
        var second = three.IndexOf("egressVia: [", first + 1, StringComparison.Ordinal);
        Assert.True(second > first && first > 0);
        var end = three.IndexOf(']', second);
        var list = three[(first + "egressVia: ".Length)..(three.IndexOf(']', first) + 1)];
        Assert.Equal(list, three[(second + "egressVia: ".Length)..(end + 1)]);
        var aliased = three[..first] + "egressVia: &gw " + three[(first + "egressVia: ".Length)..second] + "egressVia: *gw" + three[(end + 1)..];

        var result = TopologyLoader.Load(aliased);

        Assert.True(result.Succeeded, string.Join('\n', result.Diagnostics));
        Assert.Equal(TopologyWriter.ToYaml(TopologyLoader.Load(three).Require()), TopologyWriter.ToYaml(result.Topology!));
    }

    [Fact]
    public void Load_RepeatedSubnetsWrittenOut_StopsAtTheErrorCapQuickly()
    {
        // No alias: 64 regions of 200 identical subnets is 450 KB of text and, checked pairwise, 2.5 million findings.
        var text = new StringBuilder("stack: big\nregions:\n");
        for (var r = 0; r < 64; r++)
        {
            text.Append("  - name: ap-southeast-1\n    vpc: 10.0.0.0/16\n    subnets:\n");
            for (var s = 0; s < 200; s++)
            {
                text.Append("      - {name: a, cidr: 10.0.1.0/24}\n");
            }

            text.Append("    hosts: [{name: c").Append(r).Append(", role: client, subnet: a, privateIp: 10.0.1.10, egressVia: [g]}]\n");
        }

        Assert.True(text.Length < TopologyLoader.MaxSize);
        var clock = Stopwatch.StartNew();
        var result = TopologyLoader.Load(text.ToString(), "t.yaml");
        clock.Stop();

        var errors = result.Errors.ToList();
        Assert.Equal(TopologyValidator.MaxErrors + 1, errors.Count);
        var last = Assert.Single(errors, e => e.Message.StartsWith($"more than {TopologyValidator.MaxErrors} errors", StringComparison.Ordinal));
        Assert.True(last.Line > 0);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{clock.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void Load_ManyBadSubnets_PoisonedPathsDoNotMakeValidationQuadratic()
    {
        // 12,800 subnets whose CIDR does not parse: each is poisoned, and the pairwise checks look each pair up.
        var text = new StringBuilder("stack: big\nregions:\n");
        for (var r = 0; r < 64; r++)
        {
            text.Append("  - name: ap-southeast-1\n    vpc: 10.0.0.0/16\n    subnets:\n");
            for (var s = 0; s < 200; s++)
            {
                text.Append("      - {name: a").Append(s).Append(", cidr: x}\n");
            }
        }

        var clock = Stopwatch.StartNew();
        var result = TopologyLoader.Load(text.ToString(), "t.yaml");
        clock.Stop();

        Assert.False(result.Succeeded);
        Assert.All(result.Errors, e => Assert.True(e.Line > 0, e.ToString()));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{clock.Elapsed.TotalMilliseconds:0} ms");
    }
}
