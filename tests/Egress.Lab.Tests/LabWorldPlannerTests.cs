using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Lab.World;

namespace Egress.Lab.Tests;

public sealed class LabWorldPlannerTests
{
    private static readonly TopologyModel Seed = Examples.Load(Examples.Seed);

    private static readonly TopologyModel ThreeRegion = Examples.Load(Examples.ThreeRegion);

    private static readonly Ipv4Cidr[] Rfc5737 =
        [Ipv4Cidr.Parse("192.0.2.0/24"), Ipv4Cidr.Parse("198.51.100.0/24"), Ipv4Cidr.Parse("203.0.113.0/24")];

    [Fact]
    public void Describe_Seed_MatchesGolden() =>
        Golden.Verify("seed.plan.txt", LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan).Describe());

    [Fact]
    public void Describe_SeedNaive_MatchesGolden() =>
        Golden.Verify("seed-naive.plan.txt", LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan, naive: true).Describe());

    [Fact]
    public void Describe_ThreeRegion_MatchesGolden() =>
        Golden.Verify("three-region.plan.txt", LabWorldPlanner.Plan(ThreeRegion, "threeregion", OverlayMode.Vxlan).Describe());

    [Fact]
    public void Plan_Seed_NamesEveryNamespaceWithTheLabPrefix()
    {
        var plan = LabWorldPlanner.Plan(Seed, "t0a1b2c", OverlayMode.Vxlan);

        Assert.Equal(
            ["egl-t0a1b2c-host-sg-client", "egl-t0a1b2c-host-tokyo-nat", "egl-t0a1b2c-vpc-ap-southeast-1", "egl-t0a1b2c-vpc-ap-northeast-1", "egl-t0a1b2c-internet"],
            plan.Namespaces.Select(n => n.Name));
    }

    [Fact]
    public void Plan_Seed_EveryVethEndIsInsideALabNamespace()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan);
        var names = plan.Namespaces.Select(n => n.Name).ToHashSet();

        Assert.All(plan.Veths, v =>
        {
            Assert.Contains(v.NamespaceA, names);
            Assert.Contains(v.NamespaceB, names);
            Assert.Contains($" netns {v.NamespaceA} ", v.BatchLine, StringComparison.Ordinal);
            Assert.EndsWith($" netns {v.NamespaceB}", v.BatchLine, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Plan_ThreeRegion_InterfaceNamesAreShortAndDistinctive()
    {
        var plan = LabWorldPlanner.Plan(ThreeRegion, "threeregion", OverlayMode.Vxlan);
        var names = plan.Veths.SelectMany(v => new[] { v.InterfaceA, v.InterfaceB }).ToList();

        Assert.All(names, n =>
        {
            Assert.InRange(n.Length, 4, 15); // IFNAMSIZ; and never a 1-2 letter name `ip` reads as a keyword
            Assert.Matches("^(eth0|vpc[0-9]+p[0-9]+|pcx[0-9]+|wan[0-9]+|igw[0-9]+(e[0-9]+)?)$", n);
        });
    }

    [Fact]
    public void Plan_Seed_PublicAddressesAndServicesComeFromRfc5737()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan);

        Assert.Equal("198.51.100.10", plan.HostNamed("sg-client").PublicIp?.ToString());
        Assert.Equal("198.51.100.74", plan.HostNamed("tokyo-nat").PublicIp?.ToString());
        Assert.All(plan.Hosts, h => Assert.Contains(Rfc5737, r => r.Contains(h.PublicIp!.Value)));
        Assert.All(plan.Services, s => Assert.True(LabWorldPlanner.ServiceRange.Contains(s.Address)));
        Assert.Equal(["api.binance.com", "ipinfo.io"], plan.Services.Select(s => s.Name));
        Assert.Contains("192.0.2.20 ipinfo.io\n", plan.HostsFile, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_Seed_PublicRangeTablePlacesTokyoInJapan()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan);
        var tokyo = plan.PublicRanges.Single(r => r.Range.Contains(plan.HostNamed("tokyo-nat").PublicIp!.Value));

        Assert.Equal(("Tokyo", "JP", "AS16509 Amazon.com, Inc."), (tokyo.City, tokyo.Country, tokyo.Org));
    }

    [Fact]
    public void Plan_HostWithoutPublicAddress_GetsNoNatAndItsInternetPacketsAreDropped()
    {
        var topology = Seed with
        {
            Regions = [.. Seed.Regions.Select(r => r with { Hosts = [.. r.Hosts.Select(h => h.Name == "sg-client" ? h with { PublicIp = PublicAddressKind.None } : h)] })],
        };
        var plan = LabWorldPlanner.Plan(topology, "seed", OverlayMode.Vxlan);
        var singapore = plan.NamespaceNamed(plan.RouterOf("ap-southeast-1").Namespace).Nftables!;

        Assert.Null(plan.HostNamed("sg-client").PublicIp);
        Assert.DoesNotContain("snat", singapore, StringComparison.Ordinal);
        Assert.Contains("oifname { \"wan0\", \"wan1\" } counter name igw_drop drop", singapore, StringComparison.Ordinal);
        Assert.DoesNotContain("ip saddr {", singapore, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_Seed_IgwDropsAndCountsPrivateSourcesFromTheInternetBeforeItsNat()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan);
        var tokyo = plan.NamespaceNamed(plan.RouterOf("ap-northeast-1").Namespace).Nftables!;
        var rules = tokyo.Split('\n').Select(l => l.Trim()).ToList();

        Assert.Contains("elements = { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 }", rules);
        var chain = rules.IndexOf("chain igw_ingress {");
        Assert.Equal("type filter hook prerouting priority raw; policy accept;", rules[chain + 1]); // before conntrack and the dnat
        var drop = rules.IndexOf("iifname { \"wan0\", \"wan1\" } ip saddr @igw_bogons counter name igw_bogon_drop drop");
        Assert.True(drop > chain && drop < rules.IndexOf("chain prerouting {"), tokyo);
        Assert.Contains(rules, r => r.Contains("ip saddr @igw_bogons meta l4proto udp update @igw_bogon_drop_log_udp", StringComparison.Ordinal));
    }

    [Fact]
    public void InternetBogons_VpcAndPoolOutsideRfc1918_AreAddedOnceAndNestedRangesLeftOut()
    {
        var topology = Seed with
        {
            Regions = [.. Seed.Regions.Select((r, i) => r with { Vpc = i == 0 ? Ipv4Cidr.Parse("100.96.0.0/16") : r.Vpc })],
            Overlay = Seed.Overlay with { Pool = Ipv4Cidr.Parse("100.127.0.0/24") },
        };

        Assert.Equal(
            ["10.0.0.0/8", "100.96.0.0/16", "100.127.0.0/24", "172.16.0.0/12", "192.168.0.0/16"],
            LabWorldPlanner.InternetBogons(topology).Select(c => c.ToString()));
        Assert.DoesNotContain(LabWorldPlanner.InternetBogons(topology), c => Rfc5737.Any(c.Overlaps));
    }

    [Fact]
    public void Plan_Seed_PeeringForwardsOnlyVpcToVpcAndCountsTheRest()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan);
        var rules = plan.NamespaceNamed(plan.RouterOf("ap-southeast-1").Namespace).Nftables!.Split('\n').Select(l => l.Trim()).ToList();

        var accept = rules.IndexOf("oifname \"pcx0\" ip saddr 10.0.0.0/16 ip daddr 10.1.0.0/16 accept");
        var drop = rules.IndexOf("oifname \"pcx0\" counter name pcx_drop drop");
        Assert.True(accept >= 0 && drop > accept);
        Assert.Contains("iifname \"pcx0\" ip saddr 10.1.0.0/16 ip daddr 10.0.0.0/16 accept", rules);
        Assert.True(rules.IndexOf("oifname \"pcx0\" icmp type destination-unreachable icmp code frag-needed counter name pcx_fragneeded drop") < accept);
    }

    [Fact]
    public void Plan_Naive_PointsTheClientVpcDefaultAtThePeeringAndAddsNoOverlay()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan, naive: true);

        var singapore = plan.NamespaceNamed(plan.RouterOf("ap-southeast-1").Namespace);
        var tokyo = plan.NamespaceNamed(plan.RouterOf("ap-northeast-1").Namespace);
        Assert.Contains("route add default via 100.65.0.2 dev pcx0", singapore.IpBatch);
        Assert.Contains("route add default via 100.64.0.5 dev wan0", tokyo.IpBatch);
        Assert.Contains("ip saddr 10.0.0.0/16 oifname \"eth0\" masquerade", plan.NamespaceNamed(plan.HostNamed("tokyo-nat").Namespace).Nftables, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_ThreeRegion_PeersEachClientRegionWithTokyoOnly()
    {
        var plan = LabWorldPlanner.Plan(ThreeRegion, "threeregion", OverlayMode.Vxlan);

        Assert.Equal([("ap-southeast-1", "ap-northeast-1"), ("ap-southeast-2", "ap-northeast-1")], plan.Peerings.Select(p => (p.Requester, p.Accepter)));
        Assert.Equal(["198.51.100.0/26", "198.51.100.64/26", "198.51.100.128/26"], plan.PublicRanges.Select(r => r.Range.ToString()));
        Assert.Equal("198.51.100.138", plan.HostNamed("tokyo-nat").PublicIp?.ToString());
    }

    [Fact]
    public void Plan_SeedLatency_PutsHalfTheRoundTripOnBothEndsOfEachLink()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan);

        Assert.Equal(6 + 4, plan.Delays.Count); // the peering and two IGW links, and the two edge links
        Assert.Equal(2, plan.Delays.Count(d => d.Interface == "pcx0" && d.DelayMs == 35));
        Assert.Contains(plan.Delays, d => d.Namespace == "egl-seed-internet" && d.Interface == "igw1" && d.DelayMs == 1);
    }

    [Fact]
    public void Plan_SeedEdges_EachAsFarAsItsRegion_OverAnIgwLinkOfItsOwnDelay()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan);
        var singapore = plan.Edges.Single(e => e.Region == "ap-southeast-1").Address;
        var tokyo = plan.Edges.Single(e => e.Region == "ap-northeast-1").Address;
        int Link(string router, string routerNic, string internetNic) => plan.Delays
            .Where(d => (d.Namespace == plan.RouterOf(router).Namespace && d.Interface == routerNic) || (d.Namespace == plan.InternetNamespace && d.Interface == internetNic))
            .Sum(d => d.DelayMs);

        // Singapore-internet is 70 ms, but the Singapore edge is as near as the nearest region is to the internet (2 ms);
        // Tokyo-internet is 2 ms, and the Singapore edge is as far as Singapore (70 ms). The Tokyo edge needs no link of
        // its own anywhere: from Singapore it is as far as the internet (70), from Tokyo as near (2).
        Assert.Equal(
            [("ap-southeast-1", "wan1", "igw0e1", "100.64.1.0/30", 1, singapore), ("ap-northeast-1", "wan1", "igw1e1", "100.64.1.4/30", 35, singapore)],
            plan.EdgeLinks.Select(l => (l.Region, l.RouterInterface, l.InternetInterface, l.Link.ToString(), l.DelayMs, l.Edges.Single())));
        var sgRouter = plan.NamespaceNamed(plan.RouterOf("ap-southeast-1").Namespace);
        var tkRouter = plan.NamespaceNamed(plan.RouterOf("ap-northeast-1").Namespace);
        Assert.Contains($"route add {singapore}/32 via 100.64.1.1 dev wan1", sgRouter.IpBatch);
        Assert.Contains($"route add {singapore}/32 via 100.64.1.5 dev wan1", tkRouter.IpBatch);
        var internet = plan.NamespaceNamed(plan.InternetNamespace).IpBatch;
        Assert.Contains($"rule add from {singapore}/32 to 198.51.100.0/26 lookup 64 pref 1000", internet);
        Assert.Contains("route add 198.51.100.0/26 via 100.64.1.2 dev igw0e1 table 64", internet);
        Assert.Contains($"rule add from {singapore}/32 to 198.51.100.64/26 lookup 65 pref 1000", internet);
        Assert.Contains("route add 198.51.100.64/26 via 100.64.1.6 dev igw1e1 table 65", internet);

        // Through the tunnel (peering 70 ms, then Tokyo's IGW links): the Tokyo edge costs 72 ms, the Singapore edge 140;
        // straight out of Singapore the Singapore edge costs 2 ms and the Tokyo edge 70.
        var peering = plan.Delays.Where(d => d.Interface == plan.Peerings[0].Interface).Sum(d => d.DelayMs);
        Assert.Equal(72, peering + Link("ap-northeast-1", "wan0", "igw1"));
        Assert.Equal(140, peering + Link("ap-northeast-1", "wan1", "igw1e1"));
        Assert.Equal(2, Link("ap-southeast-1", "wan1", "igw0e1"));
        Assert.Equal(70, Link("ap-southeast-1", "wan0", "igw0"));
    }

    [Fact]
    public void Plan_SeedEdgeLinks_NatCountAndDropLikeTheMainIgwLink()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan);
        var singapore = plan.NamespaceNamed(plan.RouterOf("ap-southeast-1").Namespace).Nftables!;

        Assert.Contains("oifname { \"wan0\", \"wan1\" } ip saddr 10.0.1.10 counter name igw_out_sg_client snat to 198.51.100.10", singapore, StringComparison.Ordinal);
        Assert.Contains("oifname { \"wan0\", \"wan1\" } counter name igw_drop drop", singapore, StringComparison.Ordinal);
        Assert.DoesNotContain("oifname \"wan0\"", singapore, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_EdgeLinks_NoneInVmLabsNorInANaiveClientRegionNorWithoutLatency()
    {
        var zero = Seed with { Lab = Seed.Lab with { Latency = [] } };

        Assert.Empty(LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan, instances: LabInstances.Vm).EdgeLinks);
        Assert.Equal(["ap-northeast-1"], LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan, naive: true).EdgeLinks.Select(l => l.Region));
        Assert.Empty(LabWorldPlanner.Plan(zero, "seed", OverlayMode.Vxlan).EdgeLinks);
    }

    [Fact]
    public void Plan_ZeroRoundTrips_EmulateNoDelay()
    {
        var zero = Seed with { Lab = Seed.Lab with { Latency = [.. Seed.Lab.Latency.Select(l => l with { RttMs = 0 })] } };

        Assert.NotEmpty(zero.Lab.Latency);
        Assert.Empty(LabWorldPlanner.Plan(zero, "seed", OverlayMode.Vxlan).Delays);
    }

    [Fact]
    public void Plan_NineRegions_ThrowsNamingTheLimit()
    {
        var regions = Enumerable.Range(0, 9).Select(i => Seed.Regions[1] with
        {
            Name = $"ap-northeast-{i}",
            Vpc = Ipv4Cidr.Parse($"10.{i + 10}.0.0/16"),
            Hosts = [],
        }).ToList();

        var error = Assert.Throws<LabPlanException>(() => LabWorldPlanner.Plan(Seed with { Regions = regions }, "seed", OverlayMode.Vxlan));

        Assert.Contains("8 regions", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Seed")]
    [InlineData("a-b")]
    [InlineData("thirteenchars")]
    public void Plan_InvalidId_Throws(string id) =>
        Assert.Throws<LabPlanException>(() => LabWorldPlanner.Plan(Seed, id, OverlayMode.Vxlan));
}
