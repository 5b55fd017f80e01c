using Egress.Aws.Execution;
using Egress.Aws.Model;
using Egress.Aws.Testing;
using Egress.Core.Topology;

namespace Egress.Aws.Tests;

/// <summary>Issue 24 items 4 and 5 (AWS half): one lock per stack whatever the file's region order, --force-unlock never
/// takes a lock from a run that is still alive here, and no verb reaches another stack's resources.</summary>
public sealed class StackIsolationTests
{
    private static TopologyModel Reversed(TopologyModel topology) => topology with { Regions = [.. topology.Regions.Reverse()] };

    private static int Count(FakeAwsCloud cloud, string region, string prefix) =>
        cloud.LiveResources().Count(r => r.Region == region && r.Id.StartsWith(prefix, StringComparison.Ordinal));

    [Fact]
    public async Task Lock_RegionsInEitherOrder_SameRegionsInOrdinalOrder()
    {
        var h = new Harness();
        var provisioner = new AwsProvisioner(h.Cloud, h.Clock);

        await using (var first = await provisioner.LockAsync(h.Topology, "apply", forceUnlock: false, CancellationToken.None))
        {
            Assert.Equal(["ap-northeast-1", "ap-southeast-1"], first.Regions);
        }

        await using var second = await provisioner.LockAsync(Reversed(h.Topology), "apply", forceUnlock: false, CancellationToken.None);
        Assert.Equal(["ap-northeast-1", "ap-southeast-1"], second.Regions);
    }

    [Fact]
    public async Task Apply_TwoRunsWithRegionsInOppositeOrder_OneBuildsTheStackTheOtherIsRefused()
    {
        var h = new Harness();
        h.Cloud.HoldTheFirstLaunchUntilASecondLockAttempt(TimeSpan.FromSeconds(20));

        async Task<string> RunAsync(TopologyModel topology)
        {
            await Task.Yield();
            var provisioner = new AwsProvisioner(h.Cloud, h.Clock);
            var desired = TestTopologies.Desired(topology);
            try
            {
                await using var stackLock = await provisioner.LockAsync(topology, "apply", forceUnlock: false, CancellationToken.None);
                var left = await provisioner.ApplyAsync(desired, await provisioner.PlanAsync(desired, CancellationToken.None), CancellationToken.None);
                return left.IsEmpty ? "applied" : "not converged";
            }
            catch (AwsProvisionException ex) when (ex.Kind == AwsErrorKind.Locked)
            {
                Assert.Contains("stack egress-seed is locked by 'egress apply'", ex.Problem, StringComparison.Ordinal);
                return "refused";
            }
        }

        var reference = new Harness();
        await reference.ApplyAsync();

        var outcomes = await Task.WhenAll(Task.Run(() => RunAsync(h.Topology)), Task.Run(() => RunAsync(Reversed(h.Topology))));

        Assert.Equal(["applied", "refused"], outcomes.Order(StringComparer.Ordinal));
        Assert.Equal(reference.Cloud.LiveResources().Count, h.Cloud.LiveResources().Count);
        foreach (var region in (string[])["ap-southeast-1", "ap-northeast-1"])
        {
            Assert.Equal(1, Count(h.Cloud, region, "vpc-"));
            Assert.Equal(1, Count(h.Cloud, region, "i-"));
        }

        Assert.Single(h.Cloud.LiveResources(), r => r.Id.StartsWith("pcx-", StringComparison.Ordinal));
        Assert.DoesNotContain(h.Cloud.Parameters.Keys, k => k.Name.StartsWith("/egress/lock/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Lock_StackInARegionTheFileNoLongerLists_LockedThereToo()
    {
        var h = new Harness(TestTopologies.ThreeRegion);
        await h.ApplyAsync();
        var seed = TestTopologies.Seed with { Stack = h.Topology.Stack };
        var provisioner = new AwsProvisioner(h.Cloud, h.Clock);

        await using (var stackLock = await provisioner.LockAsync(seed, "destroy", forceUnlock: false, CancellationToken.None))
        {
            Assert.Contains("ap-southeast-2", stackLock.Regions);
            Assert.Equal([.. stackLock.Regions.Order(StringComparer.Ordinal)], stackLock.Regions);
        }

        // A run of the three-region file holds the lock only in Sydney (say): the seed-file run, which finds the stack there, is refused.
        var other = new LockHolder("apply", "bob", "elsewhere", 77, h.Clock.GetUtcNow());
        h.Cloud.Parameters[("ap-southeast-2", StackLock.ParameterName(seed.Stack))] = other.ToJson();
        var ex = await Assert.ThrowsAsync<AwsProvisionException>(() => provisioner.LockAsync(seed, "destroy", forceUnlock: false, CancellationToken.None));

        Assert.Equal(AwsErrorKind.Locked, ex.Kind);
        Assert.Equal("ap-southeast-2", ex.Region);
        Assert.Contains("run by bob on elsewhere (pid 77)", ex.Problem, StringComparison.Ordinal);
        Assert.Equal([("ap-southeast-2", StackLock.ParameterName(seed.Stack))], h.Cloud.Parameters.Keys.Where(k => k.Name.StartsWith("/egress/lock/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Plan_WhileLockedAndTheStackAppearsInAnUnlockedRegion_RefusesToTouchIt()
    {
        var h = new Harness();
        await using var stackLock = await h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: false, CancellationToken.None);
        await h.Cloud.Ec2("ap-southeast-2").CreateVpcAsync("10.9.0.0/16",
            StackTags.For(h.Topology.Stack, new ResourceAddress("ap-southeast-2", ResourceKind.Vpc, "main")), CancellationToken.None);

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(() => h.PlanAsync());

        Assert.Equal(AwsErrorKind.Locked, ex.Kind);
        Assert.Contains("ap-southeast-2, which this run's lock", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForceUnlock_HolderStillRunsOnThisHost_RefusedAsBadInputAndNothingDeleted()
    {
        var h = new Harness();
        var alive = LockHolder.Current("apply", h.Clock) with { User = "alice" }; // this test process: alive on this host
        var key = ("ap-southeast-1", StackLock.ParameterName(h.Topology.Stack));
        h.Cloud.Parameters[key] = alive.ToJson();
        var mutations = h.Cloud.MutatingCalls;

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(() => h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: true, CancellationToken.None));

        Assert.True(ex.IsBadInput);
        Assert.Contains($"locked by 'egress apply' run by alice on {Environment.MachineName} (pid {Environment.ProcessId})", ex.Problem, StringComparison.Ordinal);
        Assert.Contains($"process {Environment.ProcessId} still runs on this host", ex.Problem, StringComparison.Ordinal);
        Assert.Contains("nothing was unlocked", ex.Problem, StringComparison.Ordinal);
        Assert.Contains($"kill {Environment.ProcessId}", ex.Fix, StringComparison.Ordinal);
        Assert.Equal(alive.ToJson(), h.Cloud.Parameters[key]);
        Assert.Equal(mutations, h.Cloud.MutatingCalls);
        Assert.Single(h.Cloud.Parameters.Keys, k => k.Name.StartsWith("/egress/lock/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForceUnlock_HolderOnAnotherHost_Removed()
    {
        var h = new Harness();
        var remote = new LockHolder("apply", "bob", "build-agent-7", Environment.ProcessId, h.Clock.GetUtcNow(), "x/1");
        h.Cloud.Parameters[("ap-southeast-1", StackLock.ParameterName(h.Topology.Stack))] = remote.ToJson();

        await using var taken = await h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: true, CancellationToken.None);

        Assert.Contains(h.Progress.Lines, l => l.Contains("--force-unlock: removed the lock /egress/lock/egress-seed in ap-southeast-1 held by 'egress apply' run by bob on build-agent-7", StringComparison.Ordinal));
        Assert.Equal(Environment.ProcessId, LockHolder.Parse(h.Cloud.Parameters[("ap-southeast-1", taken.Name)])!.Pid);
    }

    [Fact]
    public async Task ForceUnlock_PidNowUsedByAnotherProcess_LooksStaleAndIsRemoved()
    {
        var h = new Harness();
        // This process's pid, but another process start: the holder died and its pid was given to us.
        var reused = new LockHolder("apply", "carol", Environment.MachineName, Environment.ProcessId, h.Clock.GetUtcNow(), "another-boot/12345");
        h.Cloud.Parameters[("ap-southeast-1", StackLock.ParameterName(h.Topology.Stack))] = reused.ToJson();

        var refused = await Assert.ThrowsAsync<AwsProvisionException>(() => h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: false, CancellationToken.None));
        await using var taken = await h.Provisioner.LockAsync(h.Topology, "apply", forceUnlock: true, CancellationToken.None);

        Assert.Contains($"it looks stale: process {Environment.ProcessId} no longer runs on {Environment.MachineName}", refused.Problem, StringComparison.Ordinal);
        Assert.Equal(["ap-northeast-1", "ap-southeast-1"], taken.Regions);
    }

    [Fact]
    public void ProcessIdentity_ThisProcess_RunsAndAnotherStartDoesNot()
    {
        var me = ProcessIdentity.StartOf(Environment.ProcessId);

        Assert.True(ProcessIdentity.Runs(Environment.ProcessId, me));
        Assert.True(ProcessIdentity.Runs(Environment.ProcessId, null)); // a record without it: the pid alone decides
        Assert.False(ProcessIdentity.Runs(int.MaxValue - 7, null));
        if (OperatingSystem.IsLinux())
        {
            Assert.NotNull(me);
            Assert.False(ProcessIdentity.Runs(Environment.ProcessId, me + "0"));
        }
    }

    [Fact]
    public void LockHolder_RoundTripsProcessStart_AndReadsARecordWithoutIt()
    {
        var now = DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var holder = new LockHolder("apply", "u", "h", 42, now, "boot/99");

        Assert.Equal(holder, LockHolder.Parse(holder.ToJson()));
        Assert.Equal(holder with { ProcessStart = null },
            LockHolder.Parse("""{"command":"apply","user":"u","host":"h","pid":42,"started":"2026-12-01T10:00:00+00:00"}"""));
    }

    public static TheoryData<string> OtherStacks => new() { "egress", "egress-seed-2", "egress-see", "egress-seed-" };

    /// <summary>With an emulator that ignores describe filters (moto does for peerings), destroying a stack named like a
    /// prefix of the seed's, or longer, plans nothing of the seed's and leaves every seed resource in place.</summary>
    [Theory]
    [MemberData(nameof(OtherStacks))]
    public async Task Destroy_AnotherStackWhenFiltersAreIgnored_LeavesEverySeedResource(string stack)
    {
        var h = new Harness();
        await h.ApplyAsync();
        var before = h.Cloud.LiveResources().Select(r => r.Id).Order(StringComparer.Ordinal).ToList();
        h.Cloud.Options.IgnoreTagFilters = true;
        var other = h.Topology with { Stack = stack };
        var provisioner = new AwsProvisioner(h.Cloud, h.Clock);

        await using (await provisioner.LockAsync(other, "destroy", forceUnlock: false, CancellationToken.None))
        {
            var plan = await provisioner.PlanDestroyAsync(other, CancellationToken.None);
            Assert.True(plan.IsEmpty, string.Join("; ", plan.Steps.Select(s => $"{s.Symbol} {s.Resource}")));
            var left = await provisioner.DestroyAsync(other, plan, CancellationToken.None);
            Assert.True(left.IsEmpty);
        }

        Assert.Equal(before, h.Cloud.LiveResources().Select(r => r.Id).Order(StringComparer.Ordinal));
        h.Cloud.Options.IgnoreTagFilters = false;
        Assert.True((await h.PlanAsync()).IsEmpty);
    }

    [Fact]
    public async Task Discover_FiltersIgnored_KeepsOnlyResourcesTaggedExactlyForTheStack()
    {
        var seed = new Harness();
        await seed.ApplyAsync();
        var other = TestTopologies.Seed with { Stack = "egress-seed-2" };
        var desired = TestTopologies.Desired(other);
        var provisioner = new AwsProvisioner(seed.Cloud, seed.Clock);
        seed.Cloud.Options.IgnoreTagFilters = true;

        var observed = await provisioner.DiscoverAsync(other.Stack, AwsProvisioner.RegionsOf(other), CancellationToken.None);
        var plan = await provisioner.PlanAsync(desired, CancellationToken.None);

        Assert.True(observed.IsEmpty);
        Assert.DoesNotContain(plan.Steps, s => s.Action is Planning.PlanAction.Delete or Planning.PlanAction.Update or Planning.PlanAction.Replace);
    }

    public static TheoryData<string> BadStacks => new() { "", " ", "Egress", "egress seed", "-egress", "egress-seed\n", new string('a', 33) };

    /// <summary>The provisioner checks the name itself, whatever validated the topology: an empty or malformed stack
    /// (which would match every resource, or none, by tag) is bad input before any AWS call.</summary>
    [Theory]
    [MemberData(nameof(BadStacks))]
    public async Task EveryEntry_InvalidStackName_BadInputAndNoAwsCall(string stack)
    {
        var h = new Harness();
        await h.ApplyAsync();
        h.Cloud.ResetCounters();
        var bad = h.Topology with { Stack = stack };
        var provisioner = new AwsProvisioner(h.Cloud, h.Clock);
        var emptyPlan = new Planning.Plan(stack, [], new Dictionary<ResourceAddress, string>());

        var errors = new List<AwsProvisionException>
        {
            await Assert.ThrowsAsync<AwsProvisionException>(() => provisioner.LockAsync(bad, "destroy", forceUnlock: true, CancellationToken.None)),
            await Assert.ThrowsAsync<AwsProvisionException>(() => provisioner.PlanDestroyAsync(bad, CancellationToken.None)),
            await Assert.ThrowsAsync<AwsProvisionException>(() => provisioner.DiscoverAsync(stack, AwsProvisioner.RegionsOf(bad), CancellationToken.None)),
            await Assert.ThrowsAsync<AwsProvisionException>(() => provisioner.PlanAsync(h.Desired with { Stack = stack }, CancellationToken.None)),
            await Assert.ThrowsAsync<AwsProvisionException>(() => provisioner.DestroyAsync(bad, emptyPlan, CancellationToken.None)),
        };

        Assert.All(errors, e =>
        {
            Assert.True(e.IsBadInput);
            Assert.Contains("is not valid (1-32 characters of a-z, 0-9 and '-', starting with a letter)", e.Problem, StringComparison.Ordinal);
            Assert.Contains("set 'stack:' in the topology file", e.Fix, StringComparison.Ordinal);
        });
        Assert.Equal(0, h.Cloud.ReadCalls + h.Cloud.MutatingCalls);
        Assert.Equal(14, h.Cloud.LiveResources().Count);
    }
}
