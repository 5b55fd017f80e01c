using Egress.Core.Net;
using Egress.Core.Topology;

namespace Egress.Core.Tests.Topology;

public sealed class SeedTopologyTests
{
    [Fact]
    public void Load_Seed_MatchesTheSeedComponentTables()
    {
        var result = TopologyLoader.Load(Examples.Text(Examples.Seed));

        Assert.True(result.Succeeded, string.Join('\n', result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        var t = result.Topology!;
        var singapore = t.Regions[0];
        var tokyo = t.Regions[1];
        Assert.Equal(("ap-southeast-1", "10.0.0.0/16", "10.0.1.0/24"), (singapore.Name, singapore.Vpc.ToString(), singapore.Subnets[0].Cidr.ToString()));
        Assert.Equal(("ap-northeast-1", "10.1.0.0/16", "10.1.1.0/24"), (tokyo.Name, tokyo.Vpc.ToString(), tokyo.Subnets[0].Cidr.ToString()));
        var client = t.GetHost("sg-client");
        Assert.Equal((HostRole.Client, "10.0.1.10", "t3.small", PublicAddressKind.Auto), (client.Role, client.PrivateIp.ToString(), client.InstanceType, client.PublicIp));
        var gateway = t.GetHost("tokyo-nat");
        Assert.Equal((HostRole.Gateway, "10.1.1.10", "t3.micro", PublicAddressKind.Elastic), (gateway.Role, gateway.PrivateIp.ToString(), gateway.InstanceType, gateway.PublicIp));
        Assert.Equal(["tokyo-nat"], client.EgressVia);
        Assert.Equal((OverlayMode.Ipip, 1480, 1440), (t.Overlay.Mode, t.Overlay.TunnelMtu, t.Overlay.TcpMss));
        var pair = Assert.Single(TunnelPairs.Of(t));
        Assert.Equal(("192.168.250.1", "192.168.250.2", "192.168.250.0/30"), (pair.GatewayAddress.ToString(), pair.ClientAddress.ToString(), pair.Prefix.ToString()));
        Assert.Equal(Ipv4Address.Parse("10.1.1.1"), t.SubnetOf(gateway).Router);
        Assert.Equal((true, true, false, RpFilterMode.Off), (t.Tunings.Bbr, t.Tunings.Fq, t.Tunings.SlowStartAfterIdle, t.Tunings.RpFilter));
        Assert.Equal(new LatencyBudget(200, 400), t.Verify.Criteria.ColdLatencyMs);
        Assert.Equal(5, t.Verify.Criteria.Rounds);
        Assert.Equal("https://api.binance.com/api/v3/time", Assert.Single(t.Verify.Targets).OriginalString);
    }

    [Fact]
    public void Load_Seed_ClientsResolveViaTheirGatewayByDefault()
    {
        var t = Examples.Load(Examples.Seed);

        Assert.Null(t.Dns.ResolveVia);
        Assert.Equal(DnsResolveVia.Gateway, t.ResolveViaOf(t.GetHost("sg-client")));
        Assert.Equal(DnsResolveVia.Local, t.ResolveViaOf(t.GetHost("tokyo-nat")));
        Assert.Contains("dns:\n  resolveVia: auto\n", TopologyWriter.ToYaml(t), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DnsTopLevelAndClientOverride_ClientWins()
    {
        var text = Examples.Text(Examples.ThreeRegion)
            .Replace("egressVia: [tokyo-nat]", "egressVia: [tokyo-nat]\n        dns: { resolveVia: gateway }", StringComparison.Ordinal) + "\ndns:\n  resolveVia: local\n";

        var result = TopologyLoader.Load(text);

        Assert.True(result.Succeeded, string.Join('\n', result.Diagnostics));
        var t = result.Topology!;
        Assert.Equal(DnsResolveVia.Local, t.Dns.ResolveVia);
        var clients = t.Hosts.Where(h => h.Role == HostRole.Client).ToList();
        Assert.All(clients, c => Assert.Equal(DnsResolveVia.Gateway, t.ResolveViaOf(c)));
        var shown = TopologyWriter.ToYaml(t);
        Assert.Equal(shown, TopologyWriter.ToYaml(TopologyLoader.Load(shown).Require()));
        Assert.Contains("dns:\n  resolveVia: local\n", shown, StringComparison.Ordinal);
        Assert.Contains("- client: syd-client\n#     resolveVia: gateway", shown, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ThreeRegion_GivesSydneyTheSecondTunnel()
    {
        var t = Examples.Load(Examples.ThreeRegion);

        var pairs = TunnelPairs.Of(t);
        Assert.Equal(2, pairs.Count);
        Assert.Equal(("syd-client", "tokyo-nat"), (pairs[1].Client.Name, pairs[1].Gateway.Name));
        Assert.Equal(("192.168.250.5", "192.168.250.6"), (pairs[1].GatewayAddress.ToString(), pairs[1].ClientAddress.ToString()));
        Assert.Equal("10.2.0.0/16", t.Regions.Single(r => r.Name == "ap-southeast-2").Vpc.ToString());
        Assert.Equal(2, pairs[1].Key);
    }

    [Fact]
    public void Load_MinimalDocument_FillsEveryDefault()
    {
        const string yaml = """
            stack: tiny
            regions:
              - name: ap-southeast-1
                vpc: 10.0.0.0/16
                subnets: [ { cidr: 10.0.1.0/24 } ]
                hosts: [ { name: c, role: client, privateIp: 10.0.1.10, egressVia: [g] } ]
              - name: ap-northeast-1
                vpc: 10.1.0.0/16
                subnets: [ { cidr: 10.1.1.0/24 } ]
                hosts: [ { name: g, role: gateway, privateIp: 10.1.1.10 } ]
            """;

        var result = TopologyLoader.Load(yaml);

        Assert.True(result.Succeeded, string.Join('\n', result.Diagnostics));
        var t = result.Topology!;
        Assert.Equal(("t3.small", PublicAddressKind.Auto), (t.GetHost("c").InstanceType, t.GetHost("c").PublicIp));
        Assert.Equal(("t3.micro", PublicAddressKind.Elastic), (t.GetHost("g").InstanceType, t.GetHost("g").PublicIp));
        Assert.Equal(("ap-southeast-1a", "ap-southeast-1a"), (t.Regions[0].Subnets[0].Az, t.GetHost("c").Subnet));
        Assert.Equal((OverlayMode.Ipip, "192.168.250.0/24", 1500), (t.Overlay.Mode, t.Overlay.Pool.ToString(), t.Overlay.UnderlayMtu));
        Assert.Null(t.Access.Ssh);
        Assert.Equal(CpuArchitecture.Amd64, t.GetHost("g").Architecture);
    }

    [Fact]
    public void Load_GravitonType_DefaultsToArm64()
    {
        var yaml = Examples.Text(Examples.Seed).Replace("instanceType: t3.micro\n        architecture: amd64", "instanceType: t4g.micro", StringComparison.Ordinal);

        var t = TopologyLoader.Load(yaml).Require();

        Assert.Equal(CpuArchitecture.Arm64, t.GetHost("tokyo-nat").Architecture);
    }

    [Theory]
    [InlineData(Examples.Seed)]
    [InlineData(Examples.ThreeRegion)]
    [InlineData(Examples.Failover)]
    public void RoundTrip_LoadShowLoad_GivesTheSameModel(string example)
    {
        var first = Examples.Load(example);

        var yaml = TopologyWriter.ToYaml(first);
        var second = TopologyLoader.Load(yaml, "shown.yaml");

        Assert.True(second.Succeeded, string.Join('\n', second.Diagnostics) + "\n" + yaml);
        Assert.Equal(yaml, TopologyWriter.ToYaml(second.Topology!));
        Assert.Equal(TopologyWriter.ToJson(first), TopologyWriter.ToJson(second.Topology!));
        Assert.Equal(first.Hosts.Select(h => h with { EgressVia = [] }), second.Topology!.Hosts.Select(h => h with { EgressVia = [] }));
        Assert.Equal(first.Hosts.Select(h => string.Join(',', h.EgressVia)), second.Topology!.Hosts.Select(h => string.Join(',', h.EgressVia)));
        Assert.Equal(first.Overlay, second.Topology!.Overlay);
        Assert.Equal(first.Tunings, second.Topology!.Tunings);
        Assert.Equal(first.Failover, second.Topology!.Failover);
    }

    [Fact]
    public void Load_Failover_StandbyInAnotherAzGetsItsOwnTunnel()
    {
        var result = TopologyLoader.Load(Examples.Text(Examples.Failover));

        Assert.True(result.Succeeded, string.Join('\n', result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        var t = result.Topology!;
        Assert.Equal(["tokyo-nat", "tokyo-nat-c"], t.GetHost("sg-client").EgressVia);
        Assert.Equal("ap-northeast-1c", t.SubnetOf(t.GetHost("tokyo-nat-c")).Az);
        var pairs = TunnelPairs.Of(t);
        Assert.Equal([("tokyo-nat", 0, 1, "192.168.250.1"), ("tokyo-nat-c", 1, 2, "192.168.250.5")],
            pairs.Select(p => (p.Gateway.Name, p.Preference, p.Key, p.GatewayAddress.ToString())));
        Assert.Equal(new FailoverSettings(), t.Failover); // the example spells out the defaults
    }

    [Fact]
    public void Load_FailoverSection_OverridesEachDefault()
    {
        var yaml = Examples.Text(Examples.Seed).Replace("access:", "failover:\n  policy: fail-open\n  failback: false\n  holdDownMs: 0\n  probeIntervalMs: 100\n  downAfter: 2\n  upAfter: 7\n\naccess:", StringComparison.Ordinal);

        var t = TopologyLoader.Load(yaml).Require();

        Assert.Equal(new FailoverSettings { Policy = FailurePolicy.FailOpen, Failback = false, HoldDownMs = 0, ProbeIntervalMs = 100, DownAfter = 2, UpAfter = 7 }, t.Failover);
        Assert.Contains("policy: fail-open", TopologyWriter.ToYaml(t), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NoFailoverSection_FailsClosedWithDefaults()
    {
        var f = Examples.Load(Examples.Seed).Failover;

        Assert.Equal((FailurePolicy.FailClosed, true, 5000, 200, 3, 5), (f.Policy, f.Failback, f.HoldDownMs, f.ProbeIntervalMs, f.DownAfter, f.UpAfter));
    }

    [Fact]
    public void ToJson_Seed_IncludesDerivedTunnelValues()
    {
        var json = System.Text.Json.JsonDocument.Parse(TopologyWriter.ToJson(Examples.Load(Examples.Seed)));

        var derived = json.RootElement.GetProperty("derived");
        Assert.Equal(1480, derived.GetProperty("tunnelMtu").GetInt32());
        Assert.Equal(1440, derived.GetProperty("tcpMss").GetInt32());
        Assert.Equal("192.168.250.1", derived.GetProperty("tunnels")[0].GetProperty("gatewayAddress").GetString());
    }

    [Theory]
    [InlineData(OverlayMode.Ipip, 1480, 1440)]
    [InlineData(OverlayMode.Gre, 1476, 1436)]
    [InlineData(OverlayMode.Vxlan, 1450, 1410)]
    [InlineData(OverlayMode.Auto, 1450, 1410)]
    public void Overlay_TunnelMtu_SubtractsTheEncapsulation(OverlayMode mode, int mtu, int mss)
    {
        var overlay = new Overlay { Mode = mode };

        Assert.Equal((mtu, mss), (overlay.TunnelMtu, overlay.TcpMss));
    }
}
