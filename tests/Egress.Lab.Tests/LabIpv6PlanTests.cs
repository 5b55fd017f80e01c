using System.Text.RegularExpressions;
using Egress.Core.Topology;
using Egress.Lab.World;

namespace Egress.Lab.Tests;

/// <summary>The lab's IPv6 (issue 24, item 2; the kernel behaviour in tests/Egress.Lab.RootTests/Ipv6LabTests.cs).</summary>
public sealed class LabIpv6PlanTests
{
    private static readonly TopologyModel Seed = Examples.Load(Examples.Seed);

    [Fact]
    public void Plan_WithoutIpv6_KeepsIpv6DisabledEverywhereAndDescribesNoIpv6()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan);

        Assert.False(plan.Ipv6);
        Assert.All(plan.Namespaces, ns => Assert.Contains("net.ipv6.conf.all.disable_ipv6=1", ns.Sysctls));
        Assert.DoesNotContain("# ipv6", plan.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_WithIpv6_GivesTheClientsSubnetADocumentationBlockAndARouterAtFe80Colon1()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan, ipv6: true);

        var host = Assert.Single(LabIpv6.Hosts(plan));
        Assert.Equal(("sg-client", "2001:db8:0:100::10", "2001:db8:0:100::/64", "2001:db8:0:100::1", "2001:db8:0:100::/56"),
            (host.Host, host.Address, host.Subnet, host.RouterAddress, host.VpcBlock));
        var client = plan.NamespaceNamed(plan.HostNamed("sg-client").Namespace);
        Assert.Contains("net.ipv6.conf.all.disable_ipv6=0", client.Sysctls);
        Assert.DoesNotContain("net.ipv6.conf.all.disable_ipv6=1", client.Sysctls);
        Assert.Contains("net.ipv6.conf.eth0.accept_dad=0", client.Sysctls);
        Assert.Contains("addr add 2001:db8:0:100::10/64 dev eth0 nodad", client.IpBatch);
        Assert.Contains("route add default via fe80::1 dev eth0", client.IpBatch);
        var router = plan.NamespaceNamed(plan.RouterOf("ap-southeast-1").Namespace);
        Assert.Contains("net.ipv6.conf.all.forwarding=1", router.Sysctls);
        Assert.Contains($"addr add fe80::1/64 dev {host.Port} nodad", router.IpBatch);
        Assert.Contains($"route add 2001:db8:0:100::10/128 dev {host.Port}", router.IpBatch);
        Assert.Contains("addr add fd00:ec2::254/128 dev lo", router.IpBatch);
        var internet = plan.NamespaceNamed(plan.InternetNamespace);
        Assert.Contains("addr add 2001:db8:ffff::1/128 dev lo", internet.IpBatch);
        Assert.Contains("route add 2001:db8:0:100::/56 via fe80::ff:2 dev igw0", internet.IpBatch);
        Assert.Contains("# ipv6 (clients' subnets; internet 2001:db8:ffff::1)\nsg-client 2001:db8:0:100::10 subnet 2001:db8:0:100::/64", plan.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_WithIpv6_GatewayAndItsRegionStayIpv4OnlyAndEveryGlobalAddressIsDocumentation()
    {
        var plan = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Vxlan, ipv6: true);

        Assert.Contains("net.ipv6.conf.all.disable_ipv6=1", plan.NamespaceNamed(plan.HostNamed("tokyo-nat").Namespace).Sysctls);
        Assert.Contains("net.ipv6.conf.all.disable_ipv6=1", plan.NamespaceNamed(plan.RouterOf("ap-northeast-1").Namespace).Sysctls);
        var addresses = plan.Namespaces.SelectMany(n => n.IpBatch)
            .SelectMany(l => Regex.Matches(l, @"\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}(?:/\d+)?").Select(m => m.Value))
            .ToList();
        Assert.NotEmpty(addresses);
        Assert.All(addresses, a => Assert.Matches(@"^(2001:db8:|fe80::|fd00:ec2::)", a));
    }

    [Fact]
    public void Plan_WithIpv6OnVmInstances_IsRefused()
    {
        var ex = Assert.Throws<LabPlanException>(() => LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Ipip, instances: LabInstances.Vm, ipv6: true));

        Assert.Contains("namespace instances only", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Manifest_Ipv6_RoundTripsAndReplansTheSameWorld()
    {
        var manifest = new LabManifest
        {
            Id = "t123456",
            Topology = TopologyWriter.ToYaml(Seed),
            Naive = false,
            Overlay = OverlayMode.Vxlan,
            OverlayNote = "vxlan",
            LatencyEmulated = false,
            LatencyNote = "off",
            Created = DateTimeOffset.UnixEpoch,
            Ipv6 = true,
        };

        var back = LabManifest.FromJson(manifest.ToJson());

        Assert.True(back.Ipv6);
        Assert.Equal(LabWorldPlanner.Plan(Seed, "t123456", OverlayMode.Vxlan, ipv6: true).Describe(), back.Plan().Describe());
        Assert.False(LabManifest.FromJson(manifest.ToJson().Replace("\"ipv6\": true", "\"ipv6\": false", StringComparison.Ordinal)).Ipv6);
    }
}
