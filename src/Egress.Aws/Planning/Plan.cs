using Egress.Aws.Model;

namespace Egress.Aws.Planning;

public enum PlanAction
{
    Create,
    Update,
    Replace,
    Delete,
}

/// <summary>One thing apply will do: the action, the resource, why, and for an update the changes
/// (e.g. "+ ingress protocol 4 from 10.1.1.10/32").</summary>
public sealed record PlanStep(PlanAction Action, ResourceAddress Resource, string Reason)
{
    public DesiredResource? Desired { get; init; }

    public ObservedResource? Observed { get; init; }

    public IReadOnlyList<string> Changes { get; init; } = [];

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
