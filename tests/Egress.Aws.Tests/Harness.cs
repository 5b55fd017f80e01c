using Egress.Aws.Execution;
using Egress.Aws.Model;
using Egress.Aws.Planning;
using Egress.Aws.Testing;
using Egress.Core.Topology;

namespace Egress.Aws.Tests;

/// <summary>A fake AWS, an instant clock and a provisioner over them.</summary>
internal sealed class Harness
{
    public Harness(TopologyModel? topology = null, ProvisionOptions? options = null)
    {
        Topology = topology ?? TestTopologies.Seed;
        Desired = TestTopologies.Desired(Topology, options);
        Provisioner = new AwsProvisioner(Cloud, Clock, Progress);
    }

    public FakeAwsCloud Cloud { get; } = new();

    public InstantTimeProvider Clock { get; } = new();

    public RecordingProgress Progress { get; } = new();

    public TopologyModel Topology { get; }

    public DesiredState Desired { get; }

    public AwsProvisioner Provisioner { get; }

    public Task<Plan> PlanAsync() => Provisioner.PlanAsync(Desired, CancellationToken.None);

    /// <summary>Plans and applies; returns the plan left afterwards (empty when converged).</summary>
    public async Task<Plan> ApplyAsync() => await Provisioner.ApplyAsync(Desired, await PlanAsync(), CancellationToken.None);

    public async Task<ObservedState> DestroyAsync() =>
        await Provisioner.DestroyAsync(Topology, await Provisioner.PlanDestroyAsync(Topology, CancellationToken.None), CancellationToken.None);

    public Task<ObservedState> DiscoverAsync() => Provisioner.DiscoverAsync(Topology.Stack, AwsProvisioner.RegionsOf(Topology), CancellationToken.None);
}

internal sealed class RecordingProgress : IApplyProgress
{
    private readonly object _gate = new();

    public List<string> Lines { get; } = [];

    public void Finished(PlanStep step, bool deleting, string? id, TimeSpan elapsed)
    {
        lock (_gate)
        {
            Lines.Add($"{(deleting ? "deleted" : step.Action.ToString().ToLowerInvariant())} {step.Resource} {id}");
        }
    }

    public void Note(string region, string message)
    {
        lock (_gate)
        {
            Lines.Add($"{region}: {message}");
        }
    }
}
