using Egress.Aws.Model;
using Egress.Aws.Ports;
using Egress.Aws.Testing;

namespace Egress.Aws.Tests;

/// <summary>The fake must refuse what AWS refuses, or the executor tests prove nothing.</summary>
public sealed class FakeAwsRuleTests
{
    private static readonly Dictionary<string, string> Tags = new() { [StackTags.Stack] = "t" };
    private readonly FakeAwsCloud _cloud = new();
    private readonly CancellationToken _ct = CancellationToken.None;

    private IEc2Port Sg => _cloud.Ec2("ap-southeast-1");

    private IEc2Port Tokyo => _cloud.Ec2("ap-northeast-1");

    private async Task<(string SgVpc, string TokyoVpc, string Peering)> PeeredAsync(string tokyoCidr = "10.1.0.0/16")
    {
        var sgVpc = await Sg.CreateVpcAsync("10.0.0.0/16", Tags, _ct);
        var tokyoVpc = await Tokyo.CreateVpcAsync(tokyoCidr, Tags, _ct);
        var peering = await Sg.CreatePeeringAsync(sgVpc, tokyoVpc, "ap-northeast-1", Tags, _ct);
        return (sgVpc, tokyoVpc, peering);
    }

    [Fact]
    public async Task CreateRoute_ToPendingPeering_FailsLikeAws()
    {
        var (sgVpc, _, peering) = await PeeredAsync();
        var table = await Sg.CreateRouteTableAsync(sgVpc, Tags, _ct);

        var ex = await Assert.ThrowsAsync<AwsApiException>(() => Sg.CreateRouteAsync(table, "10.1.0.0/16", RouteTarget.Peering(peering), _ct));

        Assert.Equal("InvalidVpcPeeringConnectionID.NotFound", ex.ErrorCode);
    }

    [Fact]
    public async Task CreateRoute_ToActivePeering_Succeeds()
    {
        var (sgVpc, _, peering) = await PeeredAsync();
        await Tokyo.AcceptPeeringAsync(peering, _ct);
        await Sg.DescribePeeringAsync(peering, _ct);
        await Sg.DescribePeeringAsync(peering, _ct);
        var table = await Sg.CreateRouteTableAsync(sgVpc, Tags, _ct);

        await Sg.CreateRouteAsync(table, "10.1.0.0/16", RouteTarget.Peering(peering), _ct);

        var routes = (await Sg.DescribeRouteTablesAsync("t", _ct))[0].Routes;
        Assert.Contains(routes, r => r.Target == peering && r.State == "active");
    }

    [Fact]
    public async Task AcceptPeering_InRequesterRegion_IsNotPermitted()
    {
        var (_, _, peering) = await PeeredAsync();

        var ex = await Assert.ThrowsAsync<AwsApiException>(() => Sg.AcceptPeeringAsync(peering, _ct));

        Assert.Equal("OperationNotPermitted", ex.ErrorCode);
    }

    [Fact]
    public async Task CreatePeering_OverlappingCidrs_Fails()
    {
        var (_, _, peering) = await PeeredAsync(tokyoCidr: "10.0.0.0/16");

        var observed = await Sg.DescribePeeringAsync(peering, _ct);

        Assert.Equal(PeeringStates.Failed, observed!.Status);
        Assert.Contains("overlapping", observed.StatusMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AcceptPeering_OverlapsAnExistingPeering_Fails()
    {
        var (_, tokyoVpc, first) = await PeeredAsync();
        await Tokyo.AcceptPeeringAsync(first, _ct);
        await Tokyo.DescribePeeringAsync(first, _ct);
        await Tokyo.DescribePeeringAsync(first, _ct);
        var sydney = _cloud.Ec2("ap-southeast-2");
        var sydneyVpc = await sydney.CreateVpcAsync("10.0.0.0/16", Tags, _ct); // same CIDR as Singapore's
        var second = await sydney.CreatePeeringAsync(sydneyVpc, tokyoVpc, "ap-northeast-1", Tags, _ct);

        var ex = await Assert.ThrowsAsync<AwsApiException>(() => Tokyo.AcceptPeeringAsync(second, _ct));

        Assert.Equal("OperationNotPermitted", ex.ErrorCode);
        Assert.Contains("overlaps", ex.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteVpc_WithSubnet_IsADependencyViolation()
    {
        var vpc = await Sg.CreateVpcAsync("10.0.0.0/16", Tags, _ct);
        await Sg.CreateSubnetAsync(vpc, "10.0.1.0/24", "ap-southeast-1a", Tags, _ct);

        var ex = await Assert.ThrowsAsync<AwsApiException>(() => Sg.DeleteVpcAsync(vpc, _ct));

        Assert.Equal("DependencyViolation", ex.ErrorCode);
    }

    [Fact]
    public async Task CreateRoute_ToMissingOrDetachedGateway_Fails()
    {
        var vpc = await Sg.CreateVpcAsync("10.0.0.0/16", Tags, _ct);
        var table = await Sg.CreateRouteTableAsync(vpc, Tags, _ct);
        var detached = await Sg.CreateInternetGatewayAsync(Tags, _ct);

        var missing = await Assert.ThrowsAsync<AwsApiException>(() => Sg.CreateRouteAsync(table, "0.0.0.0/0", RouteTarget.Gateway("igw-0000000000000dead"), _ct));
        var notAttached = await Assert.ThrowsAsync<AwsApiException>(() => Sg.CreateRouteAsync(table, "0.0.0.0/0", RouteTarget.Gateway(detached), _ct));

        Assert.Equal("InvalidGatewayID.NotFound", missing.ErrorCode);
        Assert.Equal("InvalidParameterValue", notAttached.ErrorCode);
    }

    [Theory]
    [InlineData("4", 0, 0, "InvalidParameterValue")]
    [InlineData("47", 0, 65535, "InvalidParameterValue")]
    [InlineData("4", -1, -1, null)]
    [InlineData("udp", 4789, 4789, null)]
    [InlineData("tcp", -1, -1, "InvalidParameterValue")]
    public async Task AuthorizeIngress_ProtocolNumberNeedsPortsMinusOne(string protocol, int from, int to, string? error)
    {
        var vpc = await Sg.CreateVpcAsync("10.0.0.0/16", Tags, _ct);
        var group = await Sg.CreateSecurityGroupAsync(vpc, "g", "d", Tags, _ct);

        var ex = await Record.ExceptionAsync(() => Sg.AuthorizeIngressAsync(group, [new SecurityGroupRule(protocol, from, to, "10.1.1.10/32")], _ct));

        Assert.Equal(error, (ex as AwsApiException)?.ErrorCode);
    }

    [Fact]
    public async Task DetachGateway_WhileInstanceHasPublicIp_IsADependencyViolation()
    {
        var vpc = await Sg.CreateVpcAsync("10.0.0.0/16", Tags, _ct);
        var subnet = await Sg.CreateSubnetAsync(vpc, "10.0.1.0/24", "ap-southeast-1a", Tags, _ct);
        var group = await Sg.CreateSecurityGroupAsync(vpc, "g", "d", Tags, _ct);
        var igw = await Sg.CreateInternetGatewayAsync(Tags, _ct);
        await Sg.AttachInternetGatewayAsync(igw, vpc, _ct);
        await Sg.RunInstanceAsync(new InstanceLaunch
        {
            ImageId = "ami-1", InstanceType = "t3.small", SubnetId = subnet, PrivateIp = "10.0.1.10", SecurityGroupIds = [group],
            AssociatePublicIp = true, UserData = "", Tags = Tags, ClientToken = "x",
        }, _ct);

        var ex = await Assert.ThrowsAsync<AwsApiException>(() => Sg.DetachInternetGatewayAsync(igw, vpc, _ct));

        Assert.Equal("DependencyViolation", ex.ErrorCode);
    }

    [Fact]
    public async Task Counters_SeparateReadsFromMutations()
    {
        await Sg.CreateVpcAsync("10.0.0.0/16", Tags, _ct);
        await Sg.DescribeVpcsAsync("t", _ct);
        await Sg.DescribeSubnetsAsync("t", _ct);

        Assert.Equal(1, _cloud.MutatingCalls);
        Assert.Equal(2, _cloud.ReadCalls);
        Assert.Equal(1, _cloud.Calls["CreateVpc"]);
    }
}
