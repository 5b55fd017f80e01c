using Egress.Aws.Execution;
using Egress.Aws.Testing;
using Xunit.Abstractions;

namespace Egress.Aws.Tests;

/// <summary>How many AWS calls each verb makes on the seed (bench/aws-calls.sh prints these lines).</summary>
public sealed class CallCountTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Seed_CallCounts_AreBoundedAndPrinted()
    {
        var h = new Harness();

        var plan = await h.PlanAsync();
        var firstPlan = (h.Cloud.ReadCalls, h.Cloud.MutatingCalls);
        h.Cloud.ResetCounters();
        await h.Provisioner.ApplyAsync(h.Desired, plan, CancellationToken.None);
        var apply = (h.Cloud.ReadCalls, h.Cloud.MutatingCalls);
        h.Cloud.ResetCounters();
        var noop = await h.PlanAsync();
        var noopPlan = (h.Cloud.ReadCalls, h.Cloud.MutatingCalls);
        h.Cloud.ResetCounters();
        await h.DestroyAsync();
        var destroy = (h.Cloud.ReadCalls, h.Cloud.MutatingCalls);
        var three = new Harness(TestTopologies.ThreeRegion);
        await three.ApplyAsync();
        three.Cloud.ResetCounters();
        await three.PlanAsync();

        output.WriteLine($"bench: plan on empty AWS (seed): {firstPlan.ReadCalls} reads, {firstPlan.MutatingCalls} mutating");
        output.WriteLine($"bench: apply (seed, 18 resources, fake clock): {apply.ReadCalls} reads (incl. waiters and the proving re-plan), {apply.MutatingCalls} mutating");
        output.WriteLine($"bench: no-op plan (seed): {noopPlan.ReadCalls} reads, {noopPlan.MutatingCalls} mutating");
        output.WriteLine($"bench: destroy (seed): {destroy.ReadCalls} reads (incl. the proof nothing remains), {destroy.MutatingCalls} mutating");
        output.WriteLine($"bench: no-op plan (three-region): {three.Cloud.ReadCalls} reads, {three.Cloud.MutatingCalls} mutating");
        Assert.True(noop.IsEmpty);
        Assert.Equal((18 + TestTopologies.SweepReads(2), 0), noopPlan);
        Assert.Equal(firstPlan, noopPlan); // reads do not grow with the number of resources
        Assert.Equal(27 + TestTopologies.SweepReads(3), three.Cloud.ReadCalls); // 9 per topology region, 1 per other region
        Assert.Equal(0, three.Cloud.MutatingCalls);
        Assert.InRange(apply.MutatingCalls, 18, 40);
        Assert.InRange(destroy.MutatingCalls, 18, 30);
    }
}

/// <summary>The CLI's <see cref="CallCounter"/> wraps the ports it is given: its counts are the calls that reach AWS.</summary>
public sealed class CallCounterTests
{
    [Fact]
    public async Task ApplyAndDestroy_ThroughCounter_CountsWhatTheCloudSaw()
    {
        var cloud = new FakeAwsCloud();
        var counter = new CallCounter(cloud);
        var provisioner = new AwsProvisioner(counter, new InstantTimeProvider(), new RecordingProgress());
        var desired = TestTopologies.Desired(TestTopologies.Seed);

        var plan = await provisioner.PlanAsync(desired, CancellationToken.None);
        await provisioner.ApplyAsync(desired, plan, CancellationToken.None);
        await provisioner.DestroyAsync(TestTopologies.Seed, await provisioner.PlanDestroyAsync(TestTopologies.Seed, CancellationToken.None), CancellationToken.None);

        Assert.True(counter.Reads > 0 && counter.Mutations > 0);
        Assert.Equal(cloud.ReadCalls, counter.Reads);
        Assert.Equal(cloud.MutatingCalls, counter.Mutations);
        Assert.Equal($"{cloud.ReadCalls} read calls, {cloud.MutatingCalls} mutating calls", counter.ToString());
    }
}
