using Egress.Core.Topology;
using Egress.Lab.Services;

namespace Egress.Lab.Tests;

/// <summary>`lab up --resolver-delay REGION=MS`: what it accepts, and the message for what it does not.</summary>
public sealed class LabResolverDelayTests
{
    [Fact]
    public void Parse_RegionsOfTheTopology_DelayPerRegion()
    {
        var delays = LabResolverDelay.Parse(["ap-southeast-1=300", "ap-northeast-1=1"], Examples.Load(Examples.Seed));

        Assert.Equal(300, delays["ap-southeast-1"]);
        Assert.Equal(1, delays["ap-northeast-1"]);
        Assert.Empty(LabResolverDelay.Parse([], Examples.Load(Examples.Seed)));
    }

    [Theory]
    [InlineData("ap-southeast-1")]
    [InlineData("ap-southeast-1=")]
    [InlineData("=300")]
    [InlineData("ap-southeast-1=0")]
    [InlineData("ap-southeast-1=-5")]
    [InlineData("ap-southeast-1=10001")]
    [InlineData("ap-southeast-1=300ms")]
    public void Parse_BadValue_SaysTheFormAndTheRange(string value)
    {
        var ex = Assert.Throws<LabException>(() => LabResolverDelay.Parse([value], Examples.Load(Examples.Seed)));

        Assert.Equal($"--resolver-delay '{value}': give REGION=MS with a region of the topology and 1 to 10000 milliseconds, e.g. --resolver-delay ap-southeast-1=300.", ex.Message);
    }

    [Fact]
    public void Parse_UnknownRegion_NamesTheTopologysRegions()
    {
        var ex = Assert.Throws<LabException>(() => LabResolverDelay.Parse(["us-east-1=300"], Examples.Load(Examples.Seed)));

        Assert.Equal("--resolver-delay us-east-1=300: the topology has no region us-east-1; its regions: ap-southeast-1, ap-northeast-1.", ex.Message);
    }

    [Fact]
    public void Parse_RegionTwice_Refused()
    {
        var ex = Assert.Throws<LabException>(() => LabResolverDelay.Parse(["ap-southeast-1=300", "ap-southeast-1=200"], Examples.Load(Examples.Seed)));

        Assert.Contains("names ap-southeast-1 twice", ex.Message, StringComparison.Ordinal);
    }
}
