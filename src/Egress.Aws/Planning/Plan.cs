using Egress.Aws.Model;

namespace Egress.Aws.Planning;

public enum PlanAction
{
    Create,
    Update,
    Replace,
    Delete,
}

/// <summary>One change apply will make to one resource: the action, the resource, why, its values before (as AWS holds them)
/// and after (as the topology asks), and the operations that make it. <see cref="Teardown"/> runs in apply's delete phase (a
/// delete, and the delete half of a replace); <see cref="Operations"/> in its create-and-update phase. The executor runs exactly
/// these operations; <see cref="PlanRenderer"/> writes them as text.</summary>
public sealed record PlanStep(PlanAction Action, ResourceAddress Resource, string Reason)
{
    public DesiredResource? Desired { get; init; }

    public ObservedResource? Observed { get; init; }

    /// <summary>The resource's values in AWS now (null for a create).</summary>
    public IReadOnlyDictionary<string, object?>? Before { get; init; }

    /// <summary>The resource's values once applied (null for a delete); an id not known until apply reads "(known after apply)".</summary>
    public IReadOnlyDictionary<string, object?>? After { get; init; }

    public IReadOnlyList<AwsOperation> Teardown { get; init; } = [];

    public IReadOnlyList<AwsOperation> Operations { get; init; } = [];

    /// <summary>Every operation, in the order of its phase (teardown first).</summary>
    public IEnumerable<AwsOperation> AllOperations => Teardown.Concat(Operations);

    public string Symbol => Action switch
    {
        PlanAction.Create => "+",
        PlanAction.Update => "~",
        PlanAction.Replace => "-/+",
        _ => "-",
    };
}

/// <summary>The planner's answer: the steps in dependency order and the ids of the resources that stay.</summary>
public sealed record Plan(string Stack, IReadOnlyList<PlanStep> Steps, IReadOnlyDictionary<ResourceAddress, string> KnownIds)
{
    public bool IsEmpty => Steps.Count == 0;

    /// <summary>Which regions discovery searched for the stack (null when not swept).</summary>
    public RegionSweep? Sweep { get; init; }

    public int ToAdd => Steps.Count(s => s.Action is PlanAction.Create or PlanAction.Replace);

    public int ToChange => Steps.Count(s => s.Action == PlanAction.Update);

    public int ToDestroy => Steps.Count(s => s.Action is PlanAction.Delete or PlanAction.Replace);

    public string Totals => $"Plan: {ToAdd} to add, {ToChange} to change, {ToDestroy} to destroy.";
}
