using Egress.Aws.Model;
using Egress.Core.Topology;

namespace Egress.Aws.Tests;

public sealed class DesiredStateTests
{
    public static readonly string[] SeedResources =
    [
        "ap-northeast-1:vpc/main",
        "ap-southeast-1:vpc/main",
        "ap-northeast-1:subnet/public-a",
        "ap-southeast-1:subnet/public-a",
        "ap-northeast-1:internet-gateway/main",
        "ap-southeast-1:internet-gateway/main",
        "ap-northeast-1:route-table/main",
        "ap-southeast-1:route-table/main",
        "ap-northeast-1:security-group/tokyo-nat",
        "ap-southeast-1:security-group/sg-client",
        "ap-southeast-1:peering/ap-northeast-1",
        "ap-northeast-1:route/0.0.0.0/0",
        "ap-northeast-1:route/10.0.0.0/16",
        "ap-southeast-1:route/0.0.0.0/0",
        "ap-southeast-1:route/10.1.0.0/16",
        "ap-northeast-1:instance/tokyo-nat",
        "ap-southeast-1:instance/sg-client",
        "ap-northeast-1:elastic-ip/tokyo-nat",
    ];

    [Fact]
    public void Build_Seed_ListsExactlyTheSeedResources()
    {
        var desired = TestTopologies.Desired(TestTopologies.Seed);

        Assert.Equal(SeedResources, desired.Resources.Select(r => r.Address.ToString()));
        Assert.Equal(["ap-southeast-1", "ap-northeast-1"], desired.Regions);
    }

    [Fact]
    public void Build_Seed_RoutesPeerCidrsToThePeeringAndDefaultToTheGateway()
    {
        var routes = TestTopologies.Desired(TestTopologies.Seed).OfType<DesiredRoute>().ToList();

        var sg = routes.Where(r => r.Address.Region == "ap-southeast-1").ToDictionary(r => r.Destination, r => r.Target.ToString());
        var tokyo = routes.Where(r => r.Address.Region == "ap-northeast-1").ToDictionary(r => r.Destination, r => r.Target.ToString());
        Assert.Equal("ap-southeast-1:peering/ap-northeast-1", sg["10.1.0.0/16"]);
        Assert.Equal("ap-southeast-1:internet-gateway/main", sg["0.0.0.0/0"]);
        Assert.Equal("ap-southeast-1:peering/ap-northeast-1", tokyo["10.0.0.0/16"]);
        Assert.Equal("ap-northeast-1:internet-gateway/main", tokyo["0.0.0.0/0"]);
    }

    [Fact]
    public void Build_SeedWithoutSsh_AllowsOnlyIpipFromThePeerEndpoint()
    {
        var groups = TestTopologies.Desired(TestTopologies.Seed).OfType<DesiredSecurityGroup>().ToDictionary(g => g.Address.Name);

        Assert.Equal([new SecurityGroupRule("4", -1, -1, "10.1.1.10/32")], groups["sg-client"].Ingress);
        Assert.Equal([new SecurityGroupRule("4", -1, -1, "10.0.1.10/32")], groups["tokyo-nat"].Ingress);
        Assert.Equal([SecurityGroupRule.AllTraffic("0.0.0.0/0")], groups["tokyo-nat"].Egress);
    }

    [Fact]
    public void Build_FailoverStandby_OwnSubnetInstanceElasticIpAndTunnelRulesBothWays()
    {
        var desired = TestTopologies.Desired(Examples.Load(Examples.Failover));
        var groups = desired.OfType<DesiredSecurityGroup>().ToDictionary(g => g.Address.Name);

        Assert.Equal(["tokyo-nat", "tokyo-nat-c"], desired.OfType<DesiredElasticIp>().Select(e => e.Address.Name).Order());
        var standby = desired.OfType<DesiredInstance>().Single(i => i.Address.Name == "tokyo-nat-c");
        Assert.Equal(("ap-northeast-1:subnet/public-c", "10.1.3.10", false), (standby.Subnet.ToString(), standby.PrivateIp, standby.SourceDestCheck));
        Assert.Contains(desired.OfType<DesiredSubnet>(), s => s.Address.ToString() == "ap-northeast-1:subnet/public-c" && s.AvailabilityZone == "ap-northeast-1c");
        Assert.Equal([new SecurityGroupRule("4", -1, -1, "10.0.1.10/32")], groups["tokyo-nat-c"].Ingress);
        Assert.Equal([new SecurityGroupRule("4", -1, -1, "10.1.1.10/32"), new SecurityGroupRule("4", -1, -1, "10.1.3.10/32")], groups["sg-client"].Ingress);
        Assert.Single(desired.OfType<DesiredPeering>()); // both gateways are in Tokyo: one peering
    }

    private const string Osaka = "\n  - name: ap-northeast-3\n    vpc: 10.3.0.0/16\n    subnets:\n      - name: public-a\n        cidr: 10.3.1.0/24\n        az: ap-northeast-3a\n" +
        "    hosts:\n      - name: osaka-nat\n        role: gateway\n        privateIp: 10.3.1.10\n";

    [Fact]
    public void Build_StandbyInOsaka_PeersSingaporeWithBothGatewayRegions()
    {
        var yaml = Examples.Text(Examples.Seed)
            .Replace("egressVia: [tokyo-nat]", "egressVia: [tokyo-nat, osaka-nat]", StringComparison.Ordinal)
            .Replace("\noverlay:", Osaka + "\noverlay:", StringComparison.Ordinal);
        var topology = TopologyLoader.Load(yaml).Require();

        var desired = TestTopologies.Desired(topology);

        Assert.Equal(["ap-southeast-1:peering/ap-northeast-1", "ap-southeast-1:peering/ap-northeast-3"],
            desired.OfType<DesiredPeering>().Select(p => p.Address.ToString()).Order());
        Assert.Contains(desired.OfType<DesiredElasticIp>(), e => e.Address.ToString() == "ap-northeast-3:elastic-ip/osaka-nat");
        var client = desired.OfType<DesiredSecurityGroup>().Single(g => g.Address.Name == "sg-client");
        Assert.Contains(new SecurityGroupRule("4", -1, -1, "10.3.1.10/32"), client.Ingress);
        Assert.Contains(desired.OfType<DesiredRoute>(), r => r.Address.ToString() == "ap-southeast-1:route/10.3.0.0/16");
    }

    [Fact]
    public void Build_SshAccess_AddsPort22FromThatCidrOnly()
    {
        var group = TestTopologies.Desired(TestTopologies.SeedWithSsh).OfType<DesiredSecurityGroup>().First(g => g.Address.Name == "tokyo-nat");

        Assert.Equal([new SecurityGroupRule("tcp", 22, 22, "203.0.113.7/32"), new SecurityGroupRule("4", -1, -1, "10.0.1.10/32")], group.Ingress);
    }

    [Theory]
    [InlineData(OverlayMode.Ipip, "4", -1)]
    [InlineData(OverlayMode.Auto, "4", -1)]
    [InlineData(OverlayMode.Gre, "47", -1)]
    [InlineData(OverlayMode.Vxlan, "udp", 4789)]
    public void Build_OverlayMode_AllowsItsProtocol(OverlayMode mode, string protocol, int port)
    {
        var topology = TestTopologies.Seed with { Overlay = new Overlay { Mode = mode } };

        var group = TestTopologies.Desired(topology).OfType<DesiredSecurityGroup>().First(g => g.Address.Name == "sg-client");

        Assert.Equal([new SecurityGroupRule(protocol, port, port, "10.1.1.10/32")], group.Ingress);
    }

    [Fact]
    public void Build_Seed_GatewayHasElasticIpAndNoSourceDestCheck()
    {
        var instances = TestTopologies.Desired(TestTopologies.Seed).OfType<DesiredInstance>().ToDictionary(i => i.Address.Name);

        var gateway = instances["tokyo-nat"];
        var client = instances["sg-client"];
        Assert.False(gateway.SourceDestCheck);
        Assert.False(gateway.PublicIpOnLaunch);
        Assert.Equal("t3.micro", gateway.InstanceType);
        Assert.True(client.SourceDestCheck);
        Assert.True(client.PublicIpOnLaunch);
        Assert.Equal("t3.small", client.InstanceType);
        Assert.Equal("10.0.1.10", client.PrivateIp);
        Assert.Equal("/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id", client.AmiParameter);
        Assert.Null(client.Ami);
        Assert.Equal("#cloud-config\n# egress egress-seed sg-client\n", client.UserData);
    }

    [Fact]
    public void Build_ThreeRegion_OnePeeringPerClientGatewayRegionPair()
    {
        var desired = TestTopologies.Desired(TestTopologies.ThreeRegion);

        var peerings = desired.OfType<DesiredPeering>().Select(p => $"{p.RequesterVpc.Region}->{p.AccepterRegion}").ToList();
        Assert.Equal(["ap-southeast-1->ap-northeast-1", "ap-southeast-2->ap-northeast-1"], peerings);
        var tokyoRoutes = desired.OfType<DesiredRoute>().Where(r => r.Address.Region == "ap-northeast-1").Select(r => r.Destination).Order();
        Assert.Equal(["0.0.0.0/0", "10.0.0.0/16", "10.2.0.0/16"], tokyoRoutes);
        var gatewayRules = desired.OfType<DesiredSecurityGroup>().First(g => g.Address.Name == "tokyo-nat").Ingress.Select(r => r.Cidr);
        Assert.Equal(["10.0.1.10/32", "10.2.1.10/32"], gatewayRules);
    }

    [Fact]
    public void Build_KeyOptionAndHostProfile_AddKeyPairsAndProfile()
    {
        var seed = TestTopologies.Seed;
        var topology = seed with { Regions = [.. seed.Regions.Select(r => r with { Hosts = [.. r.Hosts.Select(h => h with { InstanceProfile = "egress-ssm" })] })] };
        var desired = TestTopologies.Desired(topology, new ProvisionOptions { SshPublicKey = "ssh-ed25519 AAAAC3Nza test@example\n" });

        var keys = desired.OfType<DesiredKeyPair>().ToList();
        Assert.Equal(2, keys.Count);
        Assert.All(keys, k => Assert.Equal("egress-egress-seed", k.KeyName));
        Assert.All(desired.OfType<DesiredInstance>(), i => Assert.Equal("egress-ssm", i.InstanceProfile));
        Assert.All(desired.OfType<DesiredInstance>(), i => Assert.NotNull(i.KeyPair));
    }

    [Fact]
    public void Build_UserDataOver16KiB_FailsAsBadInputNamingTheHost()
    {
        // What EC2 limits is the gzip form apply sends (UserDataWire): 16 KiB of one letter compresses to a few dozen bytes,
        // 24 KiB of random base64 text stays above 16 KiB.
        var noise = Convert.ToBase64String(new Random(1).GetItems<byte>(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), 24 * 1024));
        Assert.NotNull(DesiredStateBuilder.Build(TestTopologies.Seed, (_, _) => new string('x', 64 * 1024)));
        var ex = Assert.Throws<AwsProvisionException>(() =>
            DesiredStateBuilder.Build(TestTopologies.Seed, (_, host) => host == "tokyo-nat" ? noise : "#cloud-config\n"));

        Assert.Equal(AwsErrorKind.BadInput, ex.Kind);
        Assert.Equal("ap-northeast-1", ex.Region);
        Assert.Contains("tokyo-nat", ex.Message, StringComparison.Ordinal);
    }
}
