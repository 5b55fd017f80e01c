using Egress.Aws.Model;
using Egress.Aws.Planning;

namespace Egress.Aws.Tests;

public sealed class ReplaceTests
{
    private static Core.Topology.TopologyModel Change(Core.Topology.TopologyModel topology, string host, Func<Core.Topology.Host, Core.Topology.Host> change) =>
        topology with { Regions = [.. topology.Regions.Select(r => r with { Hosts = [.. r.Hosts.Select(h => h.Name == host ? change(h) : h)] })] };

    [Fact]
    public async Task Plan_InstanceTypeChanged_ReplacesTheHostAndMovesTheElasticIp()
    {
        var h = new Harness();
        await h.ApplyAsync();
        var bigger = new Harness(Change(h.Topology, "tokyo-nat", x => x with { InstanceType = "t3.small" }));
        var provisioner = new AwsProvisioner(h.Cloud, h.Clock);

        var plan = await provisioner.PlanAsync(bigger.Desired, CancellationToken.None);

        Assert.Equal(["-/+ ap-northeast-1:instance/tokyo-nat", "~ ap-northeast-1:elastic-ip/tokyo-nat"], plan.Steps.Select(s => $"{s.Symbol} {s.Resource}"));
        Assert.Equal("type t3.micro -> t3.small", plan.Steps[0].Reason);
        Assert.Equal("Plan: 1 to add, 1 to change, 1 to destroy.", plan.Totals);
        Assert.True((await provisioner.ApplyAsync(bigger.Desired, plan, CancellationToken.None)).IsEmpty);
        var tokyo = (await h.DiscoverAsync()).Region("ap-northeast-1");
        var instance = Assert.Single(tokyo.Instances, i => i.State == InstanceStates.Running);
        Assert.Equal("t3.small", instance.InstanceType);
        Assert.Equal(instance.Id, tokyo.Addresses[0].InstanceId);
    }

    [Fact]
    public async Task Plan_UserDataChanged_ReplacesOnlyThatHost()
    {
        var h = new Harness();
        await h.ApplyAsync();
        var desired = DesiredStateBuilder.Build(h.Topology, (t, host) => TestTopologies.UserData(t, host) + (host == "sg-client" ? "# v2\n" : string.Empty));

        var plan = await h.Provisioner.PlanAsync(desired, CancellationToken.None);

        var step = Assert.Single(plan.Steps);
        Assert.Equal("-/+ ap-southeast-1:instance/sg-client", $"{step.Symbol} {step.Resource}");
        Assert.Equal("the user data (host configuration) changed", step.Reason);
        Assert.True((await h.Provisioner.ApplyAsync(desired, plan, CancellationToken.None)).IsEmpty);
    }

    [Fact]
    public async Task Plan_GatewayVpcCidrChanged_ReplacesTheRegionAndReconnectsThePeer()
    {
        var h = new Harness();
        await h.ApplyAsync();
        var seed = h.Topology;
        var moved = seed with
        {
            Regions = [.. seed.Regions.Select(r => r.Name != "ap-northeast-1" ? r : r with
            {
                Vpc = Core.Net.Ipv4Cidr.Parse("10.5.0.0/16"),
                Subnets = [.. r.Subnets.Select(s => s with { Cidr = Core.Net.Ipv4Cidr.Parse("10.5.1.0/24") })],
                Hosts = [.. r.Hosts.Select(x => x with { PrivateIp = Core.Net.Ipv4Address.Parse("10.5.1.10") })],
            })],
        };
        var desired = TestTopologies.Desired(moved);

        var plan = await h.Provisioner.PlanAsync(desired, CancellationToken.None);
        var left = await h.Provisioner.ApplyAsync(desired, plan, CancellationToken.None);

        Assert.Contains(plan.Steps, s => s.Action == PlanAction.Replace && s.Resource.ToString() == "ap-northeast-1:vpc/main");
        Assert.Contains(plan.Steps, s => s.Action == PlanAction.Replace && s.Resource.ToString() == "ap-southeast-1:peering/ap-northeast-1");
        Assert.True(left.IsEmpty, string.Join("\n", left.Steps.Select(s => $"{s.Symbol} {s.Resource}: {s.Reason}")));
        var observed = await h.DiscoverAsync();
        Assert.Equal("10.5.0.0/16", Assert.Single(observed.Region("ap-northeast-1").Vpcs).Cidr);
        Assert.Contains(observed.Region("ap-southeast-1").RouteTables[0].Routes, r => r.Destination == "10.5.0.0/16" && r.State == "active");
        Assert.DoesNotContain(observed.Region("ap-southeast-1").RouteTables[0].Routes, r => r.Destination == "10.1.0.0/16");
        Assert.Equal([new SecurityGroupRule("4", -1, -1, "10.5.1.10/32")], observed.Region("ap-southeast-1").SecurityGroups[0].Ingress);
    }
}
