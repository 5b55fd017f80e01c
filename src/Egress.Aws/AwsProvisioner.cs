using Egress.Aws.Execution;
using Egress.Aws.Model;
using Egress.Aws.Planning;
using Egress.Aws.Ports;
using Egress.Core.Topology;

namespace Egress.Aws;

/// <summary>The provisioner's whole cycle over one set of ports: discover, plan, apply, destroy, each followed by the
/// proof (a fresh discovery) that AWS now matches what was asked.</summary>
public sealed class AwsProvisioner
{
    private readonly IAwsPorts _ports;
    private readonly TimeProvider _time;
    private readonly IApplyProgress _progress;
    private readonly RetryPolicy _retry;

    public AwsProvisioner(IAwsPorts ports, TimeProvider time, IApplyProgress? progress = null, RetryPolicy? retry = null)
    {
        _ports = ports;
        _time = time;
        _progress = progress ?? NoProgress.Instance;
        _retry = retry ?? new RetryPolicy(time)
        {
            OnRetry = (ex, attempt, delay) => _progress.Note(ex.Region, $"{ex.Action}: {ex.ErrorCode}; retry {attempt} in {delay.TotalSeconds:0.0} s"),
        };
    }

    public static IReadOnlyList<string> RegionsOf(TopologyModel topology) => [.. topology.Regions.Select(r => r.Name)];

    /// <summary>Takes the stack's lock (<see cref="StackLock"/>) in the topology's first region for an apply or destroy.</summary>
    public Task<StackLock> LockAsync(TopologyModel topology, string command, bool forceUnlock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return StackLock.AcquireAsync(_ports, topology.Stack, RegionsOf(topology)[0], LockHolder.Current(command, _time), forceUnlock, _time, _retry,
            message => _progress.Note(RegionsOf(topology)[0], message), cancellationToken);
    }

    /// <summary>Everything tagged for the stack: in the given regions, and in every other enabled region where the tag is
    /// found (<see cref="Discovery.SweepAsync"/>).</summary>
    public Task<ObservedState> DiscoverAsync(string stack, IReadOnlyList<string> regions, CancellationToken cancellationToken) =>
        Discovery.SweepAsync(_ports, stack, regions, _retry, cancellationToken);

    /// <summary>The plan that makes AWS match the topology; what the stack holds in regions the topology no longer names is deleted.</summary>
    public async Task<Plan> PlanAsync(DesiredState desired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var observed = await DiscoverAsync(desired.Stack, desired.Regions, cancellationToken).ConfigureAwait(false);
        return Planner.Plan(desired, observed);
    }

    /// <summary>The plan that deletes everything tagged for the stack, in every region where it is found.</summary>
    public Task<Plan> PlanDestroyAsync(TopologyModel topology, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return PlanAsync(DesiredState.Empty(topology.Stack, RegionsOf(topology)), cancellationToken);
    }

    /// <summary>Executes the plan, then plans again: the returned plan is what is still different (empty on success).</summary>
    public async Task<Plan> ApplyAsync(DesiredState desired, Plan plan, CancellationToken cancellationToken, ExecutorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(desired);
        await new Executor(_ports, _time, _retry, _progress, options).ApplyAsync(plan, cancellationToken).ConfigureAwait(false);
        return await PlanAsync(desired, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes what the destroy plan lists, then discovers again: the returned state must be empty.</summary>
    public async Task<ObservedState> DestroyAsync(TopologyModel topology, Plan destroyPlan, CancellationToken cancellationToken, ExecutorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        await new Executor(_ports, _time, _retry, _progress, options).ApplyAsync(destroyPlan, cancellationToken).ConfigureAwait(false);
        return await DiscoverAsync(topology.Stack, RegionsOf(topology), cancellationToken).ConfigureAwait(false);
    }
}
