using Egress.Core.Net;

namespace Egress.Core.Tests.Net;

public sealed class Ipv4Tests
{
    [Theory]
    [InlineData("10.0.1.10", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("10.0.1", false)]
    [InlineData("10.0.1.256", false)]
    [InlineData("10.0.01.1", false)]
    [InlineData("a.b.c.d", false)]
    [InlineData("", false)]
    public void TryParse_Address_AcceptsOnlyDottedQuads(string text, bool valid)
    {
        Assert.Equal(valid, Ipv4Address.TryParse(text, out var address));
        if (valid)
        {
            Assert.Equal(text, address.ToString());
        }
    }

    [Fact]
    public void Cidr_ContainsAndOverlaps_FollowPrefixArithmetic()
    {
        var vpc = Ipv4Cidr.Parse("10.0.0.0/16");

        Assert.True(vpc.Contains(Ipv4Address.Parse("10.0.255.255")));
        Assert.False(vpc.Contains(Ipv4Address.Parse("10.1.0.0")));
        Assert.True(vpc.Contains(Ipv4Cidr.Parse("10.0.1.0/24")));
        Assert.False(Ipv4Cidr.Parse("10.0.1.0/24").Contains(vpc));
        Assert.True(vpc.Overlaps(Ipv4Cidr.Parse("10.0.0.0/8")));
        Assert.False(vpc.Overlaps(Ipv4Cidr.Parse("10.1.0.0/16")));
        Assert.Equal("10.0.255.255", vpc.Last.ToString());
        Assert.Equal(65536, vpc.Size);
    }

    [Fact]
    public void Cidr_Subnet_CarvesConsecutivePrefixes()
    {
        var pool = Ipv4Cidr.Parse("192.168.250.0/24");

        Assert.Equal("192.168.250.0/30", pool.Subnet(30, 0).ToString());
        Assert.Equal("192.168.250.4/30", pool.Subnet(30, 1).ToString());
        Assert.Equal("192.168.250.252/30", pool.Subnet(30, 63).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Subnet(30, 64));
    }

    [Fact]
    public void Cidr_TryParse_ExplainsHostBits()
    {
        Assert.False(Ipv4Cidr.TryParse("10.0.1.5/24", out _, out var error));

        Assert.Contains("did you mean 10.0.1.0/24?", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Cidr_ZeroPrefix_CoversEverything()
    {
        var all = Ipv4Cidr.Parse("0.0.0.0/0");

        Assert.True(all.Contains(Ipv4Address.Parse("203.0.113.9")));
        Assert.Equal("255.255.255.255", all.Last.ToString());
    }
}
