using Egress.Aws.Execution;
using Egress.Aws.Model;
using Egress.Aws.Planning;
using Egress.Aws.Testing;

namespace Egress.Aws.Tests;

/// <summary>No surprise in AWS: the stack is found in every region, two runs never build it twice, a left-out option
/// never plans anything away.</summary>
public sealed class HardeningTests
{
    private const string PublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOPh0aK7aTEZVdwWgOq2pXx5bm8GZlUHpAhdW7nHlVwq egress-test";

    /// <summary>The three-region example under the seed's stack name: what a user gets by editing the seed file.</summary>
    private static Core.Topology.TopologyModel ThreeRegionAsSeed => TestTopologies.ThreeRegion with { Stack = TestTopologies.Seed.Stack };

    private static IEnumerable<(string Region, string Id, IReadOnlyDictionary<string, string> Tags)> In(FakeAwsCloud cloud, string region) =>
        cloud.LiveResources().Where(r => r.Region == region);

    [Fact]
    public async Task Destroy_RegionRemovedFromTopology_IsSweptToo()
    {
        var three = new Harness(ThreeRegionAsSeed);
        Assert.True((await three.ApplyAsync()).IsEmpty);
        Assert.NotEmpty(In(three.Cloud, "ap-southeast-2"));
        var seed = new AwsProvisioner(three.Cloud, three.Clock);

        var plan = await seed.PlanDestroyAsync(TestTopologies.Seed, CancellationToken.None);
        var left = await seed.DestroyAsync(TestTopologies.Seed, plan, CancellationToken.None);

        Assert.Contains(plan.Steps, s => s.Resource.ToString() == "ap-southeast-2:instance/syd-client");
        Assert.Contains(plan.Steps, s => s.Resource.ToString() == "ap-southeast-2:peering/ap-northeast-1");
        Assert.Equal(["ap-southeast-2"], plan.Sweep!.Outside);
        Assert.True(left.IsEmpty);
        Assert.Empty(three.Cloud.LiveResources());
    }

    [Fact]
    public async Task Discover_RegionOutsideTopology_IsFoundWithItsRunningInstance()
    {
        var three = new Harness(ThreeRegionAsSeed);
        await three.ApplyAsync();

        var observed = await new AwsProvisioner(three.Cloud, three.Clock).DiscoverAsync(TestTopologies.Seed.Stack, ["ap-southeast-1", "ap-northeast-1"], CancellationToken.None);

        var sydney = observed.Region("ap-southeast-2");
        Assert.Equal(InstanceStates.Running, Assert.Single(sydney.Instances).State);
        Assert.Single(sydney.InternetGateways);
        Assert.Contains(RunningCost.Of(observed, Core.Cost.PriceTable.BuiltIn).Lines, l => l.Region == "ap-southeast-2" && l.UsdPerHour > 0);
        Assert.Equal(Core.AwsRegions.All.Count, observed.Sweep!.Searched.Count);
        Assert.Contains("DescribeRegions", observed.Sweep.Source, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_RegionRemovedFromTopology_PlansItsDeletionAndConverges()
    {
        var h = new Harness(ThreeRegionAsSeed, new ProvisionOptions { SshPublicKey = PublicKey });
        await h.ApplyAsync();
        var seed = new Harness(TestTopologies.Seed);
        var provisioner = new AwsProvisioner(h.Cloud, h.Clock);

        var plan = await provisioner.PlanAsync(seed.Desired, CancellationToken.None);
        var left = await provisioner.ApplyAsync(seed.Desired, plan, CancellationToken.None);

        var deleted = plan.Steps.Where(s => s.Action == PlanAction.Delete && s.Resource.Region == "ap-southeast-2").Select(s => s.Resource.Component).ToList();
        Assert.Contains("instance/syd-client", deleted);
        Assert.Contains("internet-gateway/main", deleted);
        Assert.Contains($"key-pair/{TestTopologies.Seed.Stack}", deleted);
        Assert.Contains("peering/ap-northeast-1", deleted);
        Assert.True(left.IsEmpty, string.Join("; ", left.Steps.Select(s => $"{s.Symbol} {s.Resource}")));
        Assert.Empty(In(h.Cloud, "ap-southeast-2"));
    }

    [Fact]
    public async Task Sweep_DescribeRegionsDenied_UsesTheKnownRegionsAndSaysSo()
    {
        var three = new Harness(ThreeRegionAsSeed);
        await three.ApplyAsync();
        three.Cloud.Options.DeniedActions.Add("DescribeRegions");
        three.Cloud.Options.EnabledRegions.Remove("me-south-1"); // an opt-in region the account has not enabled

        var observed = await new AwsProvisioner(three.Cloud, three.Clock).DiscoverAsync(TestTopologies.Seed.Stack, ["ap-southeast-1", "ap-northeast-1"], CancellationToken.None);

        Assert.Single(observed.Region("ap-southeast-2").Instances);
        Assert.Contains("regions egress knows: DescribeRegions failed with UnauthorizedOperation", observed.Sweep!.Source, StringComparison.Ordinal);
        Assert.DoesNotContain("me-south-1", observed.Sweep.Searched);
        Assert.Equal(Core.AwsRegions.All.Count - 1, observed.Sweep.Searched.Count);
    }

    [Fact]
    public async Task Lock_HeldByAnotherRun_RefusesNamingTheHolder()
    {
        var h = new Harness();
        await using var first = await h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: false, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(() => h.Provisioner.LockAsync(h.Topology, "destroy", forceUnlock: false, CancellationToken.None));

        Assert.Equal(AwsErrorKind.Locked, ex.Kind);
        Assert.Contains($"stack egress-seed is locked by 'egress apply' run by {Environment.UserName} on {Environment.MachineName} (pid {Environment.ProcessId})", ex.Problem, StringComparison.Ordinal);
        Assert.Contains("/egress/lock/egress-seed", ex.Problem, StringComparison.Ordinal);
        Assert.Contains("--force-unlock", ex.Fix, StringComparison.Ordinal);
        Assert.False(ex.IsBadInput);
    }

    [Fact]
    public async Task Lock_Released_CanBeTakenAgain()
    {
        var h = new Harness();
        await (await h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: false, CancellationToken.None)).DisposeAsync();

        await using var again = await h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: false, CancellationToken.None);

        Assert.Equal(["ap-northeast-1", "ap-southeast-1"], again.Regions); // every region of the stack, in ordinal order
    }

    [Fact]
    public async Task Lock_LeftByADeadProcess_LooksStaleAndForceUnlockTakesIt()
    {
        var h = new Harness();
        var dead = new LockHolder("apply", "someone", Environment.MachineName, int.MaxValue - 7, h.Clock.GetUtcNow());
        h.Cloud.Parameters[("ap-southeast-1", StackLock.ParameterName(h.Topology.Stack))] = dead.ToJson();

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(() => h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: false, CancellationToken.None));
        await using var taken = await h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: true, CancellationToken.None);

        Assert.Contains($"it looks stale: process {int.MaxValue - 7} no longer runs on {Environment.MachineName}", ex.Problem, StringComparison.Ordinal);
        Assert.Contains(h.Progress.Lines, l => l.Contains("--force-unlock: removed the lock", StringComparison.Ordinal));
        Assert.Equal(Environment.ProcessId, LockHolder.Parse(h.Cloud.Parameters[("ap-southeast-1", taken.Name)])!.Pid);
    }

    [Fact]
    public void Lock_OldLockOfAnotherHost_LooksStaleAfterTwoHours()
    {
        var now = DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Null(StackLock.StaleReason(new LockHolder("apply", "u", "elsewhere", 1, now.AddMinutes(-30)), now));
        Assert.Equal("it was taken 3 hours ago", StackLock.StaleReason(new LockHolder("apply", "u", "elsewhere", 1, now.AddHours(-3)), now));
    }

    [Fact]
    public async Task Apply_TwoRunsAtOnce_OneBuildsTheStackTheOtherIsRefused()
    {
        var h = new Harness();
        h.Cloud.HoldTheFirstLaunchUntilASecondLockAttempt();

        async Task<string> RunAsync()
        {
            await Task.Yield();
            try
            {
                await using var stackLock = await h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: false, CancellationToken.None);
                var left = await h.Provisioner.ApplyAsync(h.Desired, await h.PlanAsync(), CancellationToken.None);
                return left.IsEmpty ? "applied" : "not converged";
            }
            catch (AwsProvisionException ex) when (ex.Kind == AwsErrorKind.Locked)
            {
                return "refused";
            }
        }

        var reference = new Harness();
        await reference.ApplyAsync();

        var outcomes = await Task.WhenAll(Task.Run(RunAsync), Task.Run(RunAsync));

        Assert.Equal(["applied", "refused"], outcomes.Order(StringComparer.Ordinal));
        Assert.Equal(reference.Cloud.LiveResources().Count, h.Cloud.LiveResources().Count); // one stack, no duplicate
        Assert.DoesNotContain(h.Cloud.Parameters.Keys, k => k.Name.StartsWith("/egress/lock/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Plan_WithoutPublicKeyAfterApplyWithOne_KeepsKeyPairAndHosts()
    {
        var withKey = new Harness(options: new ProvisionOptions { SshPublicKey = PublicKey });
        await withKey.ApplyAsync();
        var withoutKey = TestTopologies.Desired(TestTopologies.Seed);

        var plan = await withKey.Provisioner.PlanAsync(withoutKey, CancellationToken.None);

        Assert.True(plan.IsEmpty, string.Join("; ", plan.Steps.Select(s => $"{s.Symbol} {s.Resource} ({s.Reason})")));
    }

    [Fact]
    public async Task Apply_WithoutPublicKey_NewHostGetsTheKeptKeyPair()
    {
        var h = new Harness(options: new ProvisionOptions { SshPublicKey = PublicKey });
        await h.ApplyAsync();
        var changed = TestTopologies.Seed with
        {
            Regions = [.. TestTopologies.Seed.Regions.Select(r => r with { Hosts = [.. r.Hosts.Select(x => x with { InstanceType = x.Role == Core.Topology.HostRole.Gateway ? "t3.small" : x.InstanceType })] })],
        };
        var desired = TestTopologies.Desired(changed);
        var provisioner = new AwsProvisioner(h.Cloud, h.Clock);

        var plan = await provisioner.PlanAsync(desired, CancellationToken.None);
        var left = await provisioner.ApplyAsync(desired, plan, CancellationToken.None);

        var replaced = Assert.Single(plan.Steps, s => s.Action != PlanAction.Update);
        Assert.Equal("ap-northeast-1:instance/tokyo-nat", replaced.Resource.ToString());
        Assert.True(left.IsEmpty);
        var gateway = (await h.DiscoverAsync()).Region("ap-northeast-1").Instances.Single(i => i.State == InstanceStates.Running);
        Assert.Equal("egress-egress-seed", gateway.KeyName);
        Assert.Equal(2, h.Cloud.LiveResources().Count(r => r.Id.StartsWith("key-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Plan_ElasticIpWithEmptyInstanceId_SaysUnassociatedNotEmptyNow()
    {
        var h = new Harness();
        await h.ApplyAsync();
        var observed = await h.DiscoverAsync();
        var tokyo = observed.Region("ap-northeast-1");
        var unassociated = observed with
        {
            Regions = [.. observed.Regions.Select(r => r.Region != "ap-northeast-1" ? r : r with
            {
                Addresses = [.. r.Addresses.Select(a => a with { InstanceId = string.Empty, AssociationId = string.Empty })],
            })],
        };

        var plan = Planner.Plan(h.Desired, unassociated);

        var change = Assert.Single(PlanRenderer.ChangeLines(Assert.Single(plan.Steps)));
        Assert.Equal("associate with instance/tokyo-nat (now unassociated)", change);
        Assert.Single(tokyo.Addresses);
    }
}
