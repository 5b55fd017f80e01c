using Egress.Aws.Model;
using Egress.Aws.Planning;
using Egress.Aws.Ports;
using Egress.Aws.Testing;
using Xunit.Abstractions;

namespace Egress.Aws.Tests;

public sealed class ExecutorTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Apply_FreshSeed_BuildsEverythingAndConverges()
    {
        var h = new Harness();

        var left = await h.ApplyAsync();

        Assert.True(left.IsEmpty, string.Join("\n", left.Steps.Select(s => $"{s.Symbol} {s.Resource}: {s.Reason} {string.Join(", ", PlanRenderer.ChangeLines(s))}")));
        var observed = await h.DiscoverAsync();
        var sg = observed.Region("ap-southeast-1");
        var tokyo = observed.Region("ap-northeast-1");
        var peering = Assert.Single(sg.Peerings);
        Assert.Equal(PeeringStates.Active, peering.Status);
        Assert.Equal("ap-northeast-1", peering.AccepterRegion);
        Assert.True(peering.RequesterAllowsDns && peering.AccepterAllowsDns);
        Assert.Empty(tokyo.Peerings); // seen from Tokyo too, but it belongs to the requester's region
        Assert.Contains(sg.RouteTables[0].Routes, r => r.Destination == "10.1.0.0/16" && r.Target == peering.Id && r.State == "active");
        Assert.Contains(tokyo.RouteTables[0].Routes, r => r.Destination == "10.0.0.0/16" && r.Target == peering.Id);
        Assert.Contains(tokyo.RouteTables[0].Routes, r => r.Destination == "0.0.0.0/0" && r.Target == tokyo.InternetGateways[0].Id);
        var gateway = Assert.Single(tokyo.Instances);
        var client = Assert.Single(sg.Instances);
        Assert.False(gateway.SourceDestCheck);
        Assert.True(client.SourceDestCheck);
        Assert.Equal(InstanceStates.Running, gateway.State);
        var eip = Assert.Single(tokyo.Addresses);
        Assert.Equal(gateway.Id, eip.InstanceId);
        Assert.StartsWith("198.51.100.", eip.PublicIp, StringComparison.Ordinal);
        Assert.Equal(eip.PublicIp, gateway.PublicIp);
        Assert.StartsWith("203.0.113.", client.PublicIp, StringComparison.Ordinal);
        var record = h.Cloud.InstanceRecord(gateway.Id)!;
        Assert.Equal("required", record.HttpTokens);
        Assert.True(record.RootEncrypted);
        Assert.Equal("gp3", record.RootVolumeType);
        Assert.Equal("#cloud-config\n# egress egress-seed tokyo-nat\n", record.UserData);
        Assert.Equal(h.Cloud.Parameters[("ap-northeast-1", AmiSource.ParameterFor(Core.Topology.CpuArchitecture.Amd64))], record.ImageId);
        Assert.All(observed.Regions.SelectMany(r => r.All), r =>
        {
            Assert.Equal("egress-seed", r.Tags[StackTags.Stack]);
            Assert.NotNull(r.Tags[StackTags.Name]);
        });
        Assert.True(sg.Vpcs[0].DnsSupport && sg.Vpcs[0].DnsHostnames);
    }

    [Fact]
    public async Task Apply_Twice_SecondPlanIsEmptyAndMakesOnlyBoundedReads()
    {
        var h = new Harness();
        await h.ApplyAsync();
        h.Cloud.ResetCounters();

        var plan = await h.PlanAsync();

        Assert.True(plan.IsEmpty);
        Assert.Equal(0, h.Cloud.MutatingCalls);
        output.WriteLine($"no-op plan on the seed: {h.Cloud.ReadCalls} read calls, {h.Cloud.MutatingCalls} mutating calls");
        output.WriteLine(string.Join(", ", h.Cloud.Calls.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}")));
        Assert.Equal(9 * 2 + TestTopologies.SweepReads(2), h.Cloud.ReadCalls); // nine describes per topology region, nothing per resource
        h.Cloud.ResetCounters();

        var again = await h.Provisioner.ApplyAsync(h.Desired, plan, CancellationToken.None);

        Assert.True(again.IsEmpty);
        Assert.Equal(0, h.Cloud.MutatingCalls);
    }

    [Fact]
    public async Task Drift_DeletedRoute_IsPlannedBackAndRepaired()
    {
        var h = new Harness();
        await h.ApplyAsync();
        var table = (await h.DiscoverAsync()).Region("ap-southeast-1").RouteTables[0];
        await h.Cloud.Ec2("ap-southeast-1").DeleteRouteAsync(table.Id, "10.1.0.0/16", CancellationToken.None);

        var plan = await h.PlanAsync();

        var step = Assert.Single(plan.Steps);
        Assert.Equal(PlanAction.Create, step.Action);
        Assert.Equal("ap-southeast-1:route/10.1.0.0/16", step.Resource.ToString());
        Assert.Equal("Plan: 1 to add, 0 to change, 0 to destroy.", plan.Totals);
        Assert.True((await h.Provisioner.ApplyAsync(h.Desired, plan, CancellationToken.None)).IsEmpty);
    }

    [Fact]
    public async Task Drift_ChangedSecurityGroupRule_IsPlannedBackAndRepaired()
    {
        var h = new Harness();
        await h.ApplyAsync();
        var group = (await h.DiscoverAsync()).Region("ap-northeast-1").SecurityGroups[0];
        var ec2 = h.Cloud.Ec2("ap-northeast-1");
        await ec2.RevokeIngressAsync(group.Id, [new SecurityGroupRule("4", -1, -1, "10.0.1.10/32")], CancellationToken.None);
        await ec2.AuthorizeIngressAsync(group.Id, [new SecurityGroupRule("4", -1, -1, "10.0.0.0/16")], CancellationToken.None);

        var plan = await h.PlanAsync();

        var step = Assert.Single(plan.Steps);
        Assert.Equal(PlanAction.Update, step.Action);
        Assert.Equal("ap-northeast-1:security-group/tokyo-nat", step.Resource.ToString());
        Assert.Equal(["+ ingress protocol 4 from 10.0.1.10/32", "- ingress protocol 4 from 10.0.0.0/16"], PlanRenderer.ChangeLines(step));
        Assert.True((await h.Provisioner.ApplyAsync(h.Desired, plan, CancellationToken.None)).IsEmpty);
        var repaired = (await h.DiscoverAsync()).Region("ap-northeast-1").SecurityGroups[0];
        Assert.Equal([new SecurityGroupRule("4", -1, -1, "10.0.1.10/32")], repaired.Ingress);
    }

    [Fact]
    public async Task Drift_TerminatedGateway_IsRelaunchedAndTheElasticIpMoved()
    {
        var h = new Harness();
        await h.ApplyAsync();
        var gateway = (await h.DiscoverAsync()).Region("ap-northeast-1").Instances[0];
        await h.Cloud.Ec2("ap-northeast-1").TerminateInstanceAsync(gateway.Id, CancellationToken.None);

        var plan = await h.PlanAsync();

        Assert.Equal(["+ ap-northeast-1:instance/tokyo-nat", "~ ap-northeast-1:elastic-ip/tokyo-nat", $"- ap-northeast-1:instance/tokyo-nat#{gateway.Id}"],
            plan.Steps.Select(s => $"{s.Symbol} {s.Resource}"));
        Assert.True((await h.Provisioner.ApplyAsync(h.Desired, plan, CancellationToken.None)).IsEmpty);
    }

    [Fact]
    public async Task Plan_HostRemovedFromTopology_DeletesItsResources()
    {
        var h = new Harness(TestTopologies.ThreeRegion);
        await h.ApplyAsync();
        var smaller = new Harness(TestTopologies.Seed with { Stack = "egress-three-region" });
        var provisioner = new AwsProvisioner(h.Cloud, h.Clock);

        var plan = await provisioner.PlanAsync(smaller.Desired with { Regions = [.. h.Desired.Regions] }, CancellationToken.None);

        var deleted = plan.Steps.Where(s => s.Action == PlanAction.Delete).Select(s => s.Resource.ToString()).Order().ToList();
        Assert.Contains("ap-southeast-2:instance/syd-client", deleted);
        Assert.Contains("ap-southeast-2:vpc/main", deleted);
        Assert.Contains("ap-southeast-2:peering/ap-northeast-1", deleted);
        Assert.Contains("ap-northeast-1:route/10.2.0.0/16", deleted);
        var update = Assert.Single(plan.Steps, s => s.Action == PlanAction.Update);
        Assert.Equal("ap-northeast-1:security-group/tokyo-nat", update.Resource.ToString());
        Assert.Equal(["- ingress protocol 4 from 10.2.1.10/32"], PlanRenderer.ChangeLines(update));
        Assert.DoesNotContain(plan.Steps, s => s.Action is PlanAction.Create or PlanAction.Replace);
    }

    [Fact]
    public async Task Destroy_AfterApply_LeavesNothingTagged()
    {
        var h = new Harness(options: new ProvisionOptions { SshPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITEST you@laptop" });
        await h.ApplyAsync();

        var left = await h.DestroyAsync();

        Assert.True(left.IsEmpty);
        Assert.Empty(h.Cloud.LiveResources());
        Assert.True((await h.Provisioner.PlanDestroyAsync(h.Topology, CancellationToken.None)).IsEmpty);
    }

    [Fact]
    public async Task Destroy_PlanOrder_InstancesFirstVpcLast()
    {
        var h = new Harness();
        await h.ApplyAsync();

        var plan = await h.Provisioner.PlanDestroyAsync(h.Topology, CancellationToken.None);

        var kinds = plan.Steps.Select(s => s.Resource.Kind).Distinct().ToList();
        Assert.Equal([ResourceKind.ElasticIp, ResourceKind.Instance, ResourceKind.Route, ResourceKind.Peering, ResourceKind.SecurityGroup,
            ResourceKind.RouteTable, ResourceKind.InternetGateway, ResourceKind.Subnet, ResourceKind.Vpc], kinds);
        Assert.Equal("Plan: 0 to add, 0 to change, 18 to destroy.", plan.Totals);
    }

    [Theory]
    [InlineData(Core.Topology.Examples.Seed)]
    [InlineData(Core.Topology.Examples.ThreeRegion)]
    public async Task Apply_CrashAfterEveryMutatingStep_ReRunConverges(string example)
    {
        var topology = Core.Topology.Examples.Load(example);
        var reference = new Harness(topology);
        await reference.ApplyAsync();
        var total = reference.Cloud.MutatingCalls;
        output.WriteLine($"a fresh apply of the {example} makes {total} mutating calls");
        Assert.InRange(total, 20, 80);

        for (var crashAt = 1; crashAt <= total; crashAt++)
        {
            var h = new Harness(topology);
            h.Cloud.Options.CrashAfterMutations = crashAt;
            await Assert.ThrowsAsync<SimulatedCrashException>(h.ApplyAsync);
            h.Cloud.Options.CrashAfterMutations = null;

            var left = await h.ApplyAsync();

            Assert.True(left.IsEmpty, $"crash after mutation {crashAt}: {string.Join("; ", left.Steps.Select(s => $"{s.Symbol} {s.Resource} {s.Reason}"))}");
            var live = h.Cloud.LiveResources();
            Assert.Equal(reference.Cloud.LiveResources().Count, live.Count); // no duplicates left behind
            h.Cloud.ResetCounters();
            Assert.True((await h.PlanAsync()).IsEmpty);
            Assert.Equal(0, h.Cloud.MutatingCalls);
        }
    }

    [Fact]
    public async Task Destroy_CrashAfterEveryMutatingStep_ReRunLeavesNothing()
    {
        var reference = new Harness();
        await reference.ApplyAsync();
        reference.Cloud.ResetCounters();
        await reference.DestroyAsync();
        var total = reference.Cloud.MutatingCalls;
        output.WriteLine($"destroying the seed makes {total} mutating calls");

        for (var crashAt = 1; crashAt <= total; crashAt++)
        {
            var h = new Harness();
            await h.ApplyAsync();
            h.Cloud.ResetCounters();
            h.Cloud.Options.CrashAfterMutations = crashAt;
            await Assert.ThrowsAsync<SimulatedCrashException>(h.DestroyAsync);
            h.Cloud.Options.CrashAfterMutations = null;

            var left = await h.DestroyAsync();

            Assert.True(left.IsEmpty, $"crash after mutation {crashAt}");
            Assert.Empty(h.Cloud.LiveResources());
        }
    }

    [Fact]
    public async Task Apply_Throttled_RetriesWithBackoffAndConverges()
    {
        var h = new Harness();
        h.Cloud.Options.ThrottleEvery = 4;

        var left = await h.ApplyAsync();

        Assert.True(left.IsEmpty);
        Assert.True(h.Cloud.ThrottledCalls > 5, $"{h.Cloud.ThrottledCalls} throttled");
        Assert.True(h.Clock.Slept > TimeSpan.Zero);
        Assert.Contains(h.Progress.Lines, l => l.Contains("RequestLimitExceeded; retry 1", StringComparison.Ordinal));
        output.WriteLine($"{h.Cloud.ThrottledCalls} throttled calls, {h.Clock.Slept.TotalSeconds:0.0} s of backoff on the fake clock");
    }

    [Fact]
    public async Task Apply_EventuallyConsistent_RetriesNotFoundAndConverges()
    {
        var h = new Harness();
        h.Cloud.Options.NotFoundAfterCreate = 2;

        var left = await h.ApplyAsync();

        Assert.True(left.IsEmpty);
        Assert.True(h.Cloud.NotFoundCalls > 5, $"{h.Cloud.NotFoundCalls} NotFound");
        Assert.Contains(h.Progress.Lines, l => l.Contains(".NotFound; retry", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Apply_SlowInstancesAndPeering_WaitsWithoutSleeping()
    {
        var h = new Harness();
        h.Cloud.Options.InstancePolls = 20;
        h.Cloud.Options.PeeringPolls = 10;

        var left = await h.ApplyAsync();

        Assert.True(left.IsEmpty);
        Assert.Contains(h.Progress.Lines, l => l.Contains("waiting until instance", StringComparison.Ordinal));
        Assert.Contains(h.Progress.Lines, l => l.Contains("waiting until peering", StringComparison.Ordinal));
        Assert.True(h.Clock.Slept >= TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Apply_InstanceNeverRuns_TimesOutNamingTheInstance()
    {
        var h = new Harness();
        h.Cloud.Options.InstancePolls = int.MaxValue;

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(h.ApplyAsync);

        Assert.Equal(AwsErrorKind.Timeout, ex.Kind);
        Assert.Contains("is still pending after 10 minutes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("run the command again (it resumes)", ex.Fix, StringComparison.Ordinal);
    }
}
