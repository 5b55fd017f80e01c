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

    /// <summary>Takes the stack's lock (<see cref="StackLock"/>) for an apply or destroy, in every region of the stack's
    /// footprint: the topology's regions plus every enabled region where the stack's tag is found (<see cref="Discovery.FindRegionsAsync"/>),
    /// in ordinal order, so neither the order of the file's regions nor a region removed from the file splits the lock. While
    /// the lock is held, a plan of this provisioner refuses to touch a region the lock does not cover.</summary>
    public async Task<StackLock> LockAsync(TopologyModel topology, string command, bool forceUnlock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var regions = RegionsOf(topology);
        StackNames.Require(topology.Stack, regions.FirstOrDefault() ?? "-");
        var found = await Discovery.FindRegionsAsync(_ports, topology.Stack, regions, _retry, cancellationToken).ConfigureAwait(false);
        var stackLock = await StackLock.AcquireAsync(_ports, topology.Stack, [.. regions, .. found.Tagged], LockHolder.Current(command, _time), forceUnlock,
            _time, _retry, (region, message) => _progress.Note(region, message), cancellationToken).ConfigureAwait(false);
        _locked = stackLock;
        return stackLock;
    }

    private StackLock? _locked;

    /// <summary>Refuses a plan that would touch a region the held lock does not cover: another run of the stack, from a file
    /// with other regions, built there after this run took its lock.</summary>
    private void RequireLocked(string stack, ObservedState observed)
    {
        if (_locked is not { IsHeld: true } held || !string.Equals(held.Stack, stack, StringComparison.Ordinal))
        {
            return;
        }

        var outside = observed.RegionsWithResources.Where(r => !held.Regions.Contains(r, StringComparer.Ordinal)).ToList();
        if (outside.Count > 0)
        {
            throw new AwsProvisionException(AwsErrorKind.Locked, "DescribeTags", outside[0],
                $"stack {stack} now has resources in {string.Join(", ", outside)}, which this run's lock ({held.Name} in {held.Region}) does not cover: another run of the stack from a file with other regions is building there",
                "wait until that run ends and run again (the lock is then taken in those regions too)");
        }
    }

    /// <summary>Everything tagged for the stack: in the given regions, and in every other enabled region where the tag is
    /// found (<see cref="Discovery.SweepAsync"/>).</summary>
    public Task<ObservedState> DiscoverAsync(string stack, IReadOnlyList<string> regions, CancellationToken cancellationToken) =>
        Discovery.SweepAsync(_ports, stack, regions, _retry, cancellationToken);

    /// <summary>The plan that makes AWS match the topology; what the stack holds in regions the topology no longer names is deleted.</summary>
    public async Task<Plan> PlanAsync(DesiredState desired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desired);
        StackNames.Require(desired.Stack, desired.Regions.FirstOrDefault() ?? "-");
        var observed = await DiscoverAsync(desired.Stack, desired.Regions, cancellationToken).ConfigureAwait(false);
        RequireLocked(desired.Stack, observed);
        return Planner.Plan(desired, observed);
    }

    /// <summary>The plan that deletes everything tagged for the stack, in every region where it is found.</summary>
    public Task<Plan> PlanDestroyAsync(TopologyModel topology, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topology);
        StackNames.Require(topology.Stack, RegionsOf(topology).FirstOrDefault() ?? "-");
        return PlanAsync(DesiredState.Empty(topology.Stack, RegionsOf(topology)), cancellationToken);
    }

    /// <summary>Executes the plan, then plans again: the returned plan is what is still different (empty on success).</summary>
    public async Task<Plan> ApplyAsync(DesiredState desired, Plan plan, CancellationToken cancellationToken, ExecutorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(plan);
        RequireSameStack(desired.Stack, plan);
        await new Executor(_ports, _time, _retry, _progress, options).ApplyAsync(plan, cancellationToken).ConfigureAwait(false);
        return await PlanAsync(desired, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes what the destroy plan lists, then discovers again: the returned state must be empty.</summary>
    public async Task<ObservedState> DestroyAsync(TopologyModel topology, Plan destroyPlan, CancellationToken cancellationToken, ExecutorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(destroyPlan);
        RequireSameStack(topology.Stack, destroyPlan);
        await new Executor(_ports, _time, _retry, _progress, options).ApplyAsync(destroyPlan, cancellationToken).ConfigureAwait(false);
        return await DiscoverAsync(topology.Stack, RegionsOf(topology), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A plan is executed only for the stack it was made for, and only for a valid stack name.</summary>
    private static void RequireSameStack(string stack, Plan plan)
    {
        StackNames.Require(stack, "-");
        if (!string.Equals(plan.Stack, stack, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The plan is for stack '{plan.Stack}', not '{stack}'.", nameof(plan));
        }
    }
}
