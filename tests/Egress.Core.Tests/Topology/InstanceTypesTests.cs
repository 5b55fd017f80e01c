using System.Text.RegularExpressions;
using Egress.Core.Topology;

namespace Egress.Core.Tests.Topology;

/// <summary>Instance type names are read by a loop (a regex JIT-compiled framework code on every start); it accepts
/// what the regex it replaced accepted, bar a trailing newline, and finds the same architecture.</summary>
public sealed partial class InstanceTypesTests
{
    [GeneratedRegex("^(?<family>[a-z]+)(?<gen>[0-9]+)(?<attrs>[a-z-]*)\\.(?<size>nano|micro|small|medium|large|metal|[0-9]*xlarge|metal-[0-9]+xl)$")]
    private static partial Regex FormerPattern();

    public static TheoryData<string> Names() =>
    [
        "t3.small", "t3.micro", "t4g.nano", "c7gn.medium", "m6gd.large", "m5.2xlarge", "m5.xlarge", "c6in.32xlarge", "r7iz.metal-16xl",
        "u-6tb1.metal", "m7i-flex.large", "a1.metal", "t3", "t3.", ".small", "3t.small", "T3.small", "t3.Small", "t.small", "t3g",
        "t3.smal", "t3.smalll", "t3.metal-xl", "t3.metal-x1l", "t3.2x", "t3.x2large", "t3..small", "t3.small.", "t3-.small", "t3g-x.small",
        "t3 .small", " t3.small", "", "t3.smallxlarge", "t3.metal-16", "t3.metal-16xlx", "ab12cd.12xlarge", "t3.small\r", "t3\u00e9.small",
    ];

    [Theory]
    [MemberData(nameof(Names))]
    public void IsWellFormed_AgreesWithTheFormerRegex(string name)
    {
        Assert.Equal(FormerPattern().IsMatch(name), InstanceTypes.IsWellFormed(name));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ArchitectureOf_AgreesWithTheFormerRegex(string name)
    {
        var match = FormerPattern().Match(name);
        var expected = match.Success && match.Groups["attrs"].Value.Contains('g', StringComparison.Ordinal) ? CpuArchitecture.Arm64 : CpuArchitecture.Amd64;

        Assert.Equal(expected, InstanceTypes.ArchitectureOf(name));
    }

    [Fact]
    public void IsWellFormed_TrailingNewline_IsRefused()
    {
        Assert.Matches(FormerPattern(), "t3.small\n"); // '$' matched before a final newline
        Assert.False(InstanceTypes.IsWellFormed("t3.small\n"));
    }
}
