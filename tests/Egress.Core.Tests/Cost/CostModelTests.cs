using Egress.Core.Cost;
using Egress.Core.Topology;

namespace Egress.Core.Tests.Cost;

public sealed class CostModelTests
{
    private static readonly TopologyModel Seed = Examples.Load(Examples.Seed);

    private static decimal Cents(decimal usd) => Math.Round(usd, 2, MidpointRounding.AwayFromZero);

    [Fact]
    public void Compare_SeedWeek_MatchesTheHandComputedBill()
    {
        // The seed's scenario: one week (168 h), under 1 GB: 1 GB out and 1 GB in. Built-in prices.
        var comparison = CostModel.Compare(Seed, PriceTable.BuiltIn, Traffic.SeedWeek);

        // (1) This topology
        //   sg-client t3.small, ap-southeast-1   168 × 0.0264            =  4.4352
        //   tokyo-nat t3.micro, ap-northeast-1   168 × 0.0136            =  2.2848
        //   public IPv4: sg-client, tokyo-nat    2 × 168 × 0.005         =  1.68
        //   tunnel SG->TYO (IP-in-IP 1500/1480)  1 × 1500/1480 × 0.09    =  0.0912162...
        //   tunnel TYO->SG                        1 × 1500/1480 × 0.09    =  0.0912162...
        //   internet egress from Tokyo           1 × 0.114               =  0.114
        //                                                          total =  8.6964324... ($8.70)
        var overhead = 2 * (1500m / 1480m * 0.09m);
        Assert.Equal(4.4352m + 2.2848m + 1.68m + 0.114m + overhead, comparison.ThisTopology.Total);
        Assert.Equal(8.70m, Cents(comparison.ThisTopology.Total));
        Assert.Equal(7, comparison.ThisTopology.Lines.Count);

        // (2) NAT Gateway in Tokyo via Transit Gateway peering
        //   sg-client t3.small + its public IPv4   4.4352 + 0.84            =  5.2752
        //   TGW attachments: 2 VPC + 2 peering     4 × 168 × 0.07           = 47.04
        //   TGW data: 1 GB in SG, 1 GB in TYO      2 × 0.02                 =  0.04
        //   TGW peering transfer both ways         2 × 0.09                 =  0.18
        //   NAT Gateway Tokyo                      168 × 0.062              = 10.416
        //   its Elastic IP                         168 × 0.005              =  0.84
        //   NAT data, both directions              2 × 0.062                =  0.124
        //   internet egress from Tokyo             1 × 0.114                =  0.114
        //                                                            total  = 64.0292
        Assert.Equal(64.0292m, comparison.TransitGatewayNat.Total);

        // (3) NAT Gateway in Singapore (reference)
        //   sg-client + its public IPv4            5.2752
        //   NAT Gateway Singapore + Elastic IP     168 × 0.059 + 168 × 0.005 = 9.912 + 0.84
        //   NAT data 2 × 0.059, egress 1 × 0.12    0.118 + 0.12
        //                                                            total  = 16.2652
        Assert.Equal(16.2652m, comparison.LocalNatGateway.Total);

        // Savings: (64.0292 − 8.6964) / 64.0292 = 86.42 %; (16.2652 − 8.6964) / 16.2652 = 46.53 %.
        Assert.Equal(86.42m, Math.Round(comparison.SavingsVsTransitGatewayNatPercent, 2));
        Assert.Equal(46.53m, Math.Round(comparison.SavingsVsLocalNatGatewayPercent, 2));
    }

    [Fact]
    public void Compare_SeedsOwnNumbers_SaveAboutNinetyPercentNotForty()
    {
        // The seed's cost section, its own figures: both instances at t3.small's $0.026/h, transfer free under 1 GB,
        // NAT Gateway $0.45/h and $0.045/GB, no public IPv4 charge. Its NAT Gateway sits in the client's region.
        var seedsNumbers = Table(
            (PriceItem.Ec2Instance, "*", "t3.small", 0.026m),
            (PriceItem.Ec2Instance, "*", "t3.micro", 0.026m),
            (PriceItem.PublicIpv4, "*", null, 0m),
            (PriceItem.InterRegionTransfer, "*", null, 0m),
            (PriceItem.InternetEgress, "*", null, 0m),
            (PriceItem.NatGatewayHour, "*", null, 0.45m),
            (PriceItem.NatGatewayData, "*", null, 0.045m),
            (PriceItem.TransitGatewayAttachmentHour, "*", null, 0m),
            (PriceItem.TransitGatewayData, "*", null, 0m));

        var comparison = CostModel.Compare(Seed, seedsNumbers, Traffic.SeedWeek);

        // EC2 approach: 2 × 168 × 0.026 = 8.736 (the seed: "$8.74").
        Assert.Equal(8.736m, comparison.ThisTopology.Total);

        // NAT Gateway approach: 168 × 0.45 = 75.60 plus 2 GB × 0.045 = 0.09, plus the client that still runs:
        // 168 × 0.026 = 4.368; total 80.058. Saving (80.058 − 8.736) / 80.058 = 89.09 % — about 90 %, not "40 %".
        Assert.Equal(80.058m, comparison.LocalNatGateway.Total);
        Assert.Equal(89.09m, Math.Round(comparison.SavingsVsLocalNatGatewayPercent, 2));
    }

    [Fact]
    public void Compare_ThreeRegion_CountsAttachmentsPeeringsAndNatGatewaysPerRegion()
    {
        var topology = Examples.Load(Examples.ThreeRegion);

        var comparison = CostModel.Compare(topology, PriceTable.BuiltIn, Traffic.SeedWeek);

        // TGW: a VPC attachment in each of the 3 regions; peerings SG<->TYO and SYD<->TYO, an attachment on each side.
        var attachments = comparison.TransitGatewayNat.Lines.Where(l => l.Item == PriceItem.TransitGatewayAttachmentHour).ToList();
        Assert.Equal(7, attachments.Count);
        Assert.Equal(3, attachments.Count(l => l.Region == "ap-northeast-1"));

        // One NAT Gateway (Tokyo) carries both clients: 2 × (1 out + 1 in) GB.
        var natData = Assert.Single(comparison.TransitGatewayNat.Lines, l => l.Item == PriceItem.NatGatewayData);
        Assert.Equal(4m, natData.Quantity);

        // Locally, each client region has its own NAT Gateway.
        Assert.Equal(["ap-southeast-1", "ap-southeast-2"],
            comparison.LocalNatGateway.Lines.Where(l => l.Item == PriceItem.NatGatewayHour).Select(l => l.Region));

        // Sydney's requests leave at Sydney's inter-region rate (0.098), Tokyo's responses at Tokyo's (0.09).
        var sydney = comparison.ThisTopology.Lines.Where(l => l.Item == PriceItem.InterRegionTransfer && l.Description.Contains("syd-client", StringComparison.Ordinal)).ToList();
        Assert.Equal([0.098m, 0.09m], sydney.Select(l => l.UnitPrice));
    }

    [Fact]
    public void Compare_ClientInTheGatewaysRegion_HasNoTunnelOrTransitGatewayLines()
    {
        var tokyo = Seed.Regions[1];
        var client = Seed.GetHost("sg-client") with { PrivateIp = Egress.Core.Net.Ipv4Address.Parse("10.1.1.20") };
        var sameRegion = Seed with { Regions = [tokyo with { Hosts = [.. tokyo.Hosts, client] }] };

        var comparison = CostModel.Compare(sameRegion, PriceTable.BuiltIn, Traffic.SeedWeek);

        Assert.DoesNotContain(comparison.Scenarios.SelectMany(s => s.Lines), l => l.Item is PriceItem.InterRegionTransfer
            or PriceItem.TransitGatewayAttachmentHour or PriceItem.TransitGatewayData);
        Assert.Equal(["ap-northeast-1"], comparison.TransitGatewayNat.Lines.Select(l => l.Region).Distinct());
    }

    [Fact]
    public void ScenarioCost_PerWeekAndPerMonth_ScaleTheSameUsageRate()
    {
        var traffic = new Traffic { Hours = 730, GbOutPerClient = 10, GbInPerClient = 30 };

        var comparison = CostModel.Compare(Seed, PriceTable.BuiltIn, traffic);

        Assert.All(comparison.Scenarios, s =>
        {
            Assert.Equal(s.Total, s.PerMonth);
            Assert.Equal(s.Total * 168 / 730, s.PerWeek);
        });
    }

    [Fact]
    public void Compare_VxlanOverlay_ChargesItsLargerOverheadOnTheTunnel()
    {
        var vxlan = Seed with { Overlay = Seed.Overlay with { Mode = OverlayMode.Vxlan } };

        var comparison = CostModel.Compare(vxlan, PriceTable.BuiltIn, new Traffic { Hours = 1, GbOutPerClient = 145, GbInPerClient = 0 });

        // 145 GB × 1500 / 1450 = 150 GB on the peering link.
        var tunnel = Assert.Single(comparison.ThisTopology.Lines, l => l.Item == PriceItem.InterRegionTransfer);
        Assert.Equal(150m, tunnel.Quantity);
        Assert.Contains("+50 B/packet", tunnel.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void HourlyRunningCost_Seed_IsItsInstancesAndAddresses()
    {
        var hourly = CostModel.HourlyRunningCost(Seed, PriceTable.BuiltIn);

        // t3.small SG 0.0264 + t3.micro TYO 0.0136 + 2 public IPv4 × 0.005 = 0.05 per hour.
        Assert.Equal(0.05m, hourly.Total);
        Assert.Equal(4, hourly.Lines.Count);
        Assert.DoesNotContain(hourly.Lines, l => l.Unit == "GB");
    }

    [Fact]
    public void Compare_TableWithoutARegion_ListsEveryMissingPrice()
    {
        var withoutTokyo = PriceTable.BuiltIn with { Name = "no-tokyo.json", Prices = [.. PriceTable.BuiltIn.Prices.Where(p => p.Region != "ap-northeast-1")] };

        var ex = Assert.Throws<PriceNotFoundException>(() => CostModel.Compare(Seed, withoutTokyo, Traffic.SeedWeek));

        Assert.Equal("no-tokyo.json", ex.TableName);
        Assert.Contains("no ec2-instance t3.micro price for ap-northeast-1 (needed by host tokyo-nat)", ex.Missing);
        Assert.Contains("no nat-gateway-hour price for ap-northeast-1", ex.Missing);
        Assert.Contains("no transit-gateway-attachment-hour price for ap-northeast-1", ex.Missing);
        Assert.Contains("no internet-egress price for ap-northeast-1", ex.Missing);
        Assert.Equal(ex.Missing.Count, ex.Missing.Distinct().Count());
    }

    [Fact]
    public void HourlyRunningCost_UnpricedInstanceType_Throws()
    {
        var large = Seed with
        {
            Regions = [.. Seed.Regions.Select(r => r with { Hosts = [.. r.Hosts.Select(h => h with { InstanceType = "t3.2xlarge" })] })],
        };

        var ex = Assert.Throws<PriceNotFoundException>(() => CostModel.HourlyRunningCost(large, PriceTable.BuiltIn));

        Assert.Equal(2, ex.Missing.Count);
        Assert.Contains("t3.2xlarge", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(-1, 1, 1)]
    [InlineData(168, -0.5, 1)]
    [InlineData(168, 1, -2)]
    public void Compare_BadTraffic_Throws(int hours, double gbOut, double gbIn)
    {
        var traffic = new Traffic { Hours = hours, GbOutPerClient = (decimal)gbOut, GbInPerClient = (decimal)gbIn };

        Assert.Throws<ArgumentException>(() => CostModel.Compare(Seed, PriceTable.BuiltIn, traffic));
    }

    private static PriceTable Table(params (PriceItem Item, string Region, string? Type, decimal Usd)[] prices) => new()
    {
        Name = "test",
        Prices = [.. prices.Select(p => new Price
        {
            Item = p.Item,
            Region = p.Region,
            InstanceType = p.Type,
            Usd = p.Usd,
            Source = "the seed's cost section",
            Read = new DateOnly(2025, 10, 22),
        })],
    };
}
