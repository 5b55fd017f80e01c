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
        var ex = Assert.Throws<AwsProvisionException>(() =>
            DesiredStateBuilder.Build(TestTopologies.Seed, (_, host) => new string('x', host == "tokyo-nat" ? 16 * 1024 + 1 : 10)));

        Assert.Equal(AwsErrorKind.BadInput, ex.Kind);
        Assert.Equal("ap-northeast-1", ex.Region);
        Assert.Contains("tokyo-nat", ex.Message, StringComparison.Ordinal);
    }
}
