using System.Text;
using Egress.Aws.Model;

namespace Egress.Aws.Planning;

/// <summary>Writes a plan the way Terraform does: one block per resource with +, ~, -/+ or -, then the totals.</summary>
public static class PlanRenderer
{
    public static string Render(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var text = new StringBuilder();
        if (plan.IsEmpty)
        {
            text.Append("No changes. AWS matches the topology for stack ").Append(plan.Stack).Append(".\n\n");
            return text.Append(plan.Totals).Append('\n').ToString();
        }

        text.Append("Egress will perform these actions on stack ").Append(plan.Stack).Append(":\n\n");
        foreach (var step in plan.Steps)
        {
            text.Append("  ").Append(step.Symbol.PadLeft(3)).Append(' ').Append(step.Resource).Append("  (").Append(step.Reason).Append(")\n");
            if (step.Action is PlanAction.Create or PlanAction.Replace && step.Desired is { } desired)
            {
                text.Append("        ").Append(desired.Summary).Append('\n');
            }

            if (step.Action == PlanAction.Delete && step.Observed is { } observed && observed is not ObservedRouteEntry)
            {
                text.Append("        ").Append(observed.Id).Append('\n');
            }

            foreach (var change in step.Changes)
            {
                text.Append("        ").Append(change).Append('\n');
            }
        }

        return text.Append('\n').Append(plan.Totals).Append('\n').ToString();
    }

    /// <summary>The plan as data for --output json.</summary>
    public static object ToData(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new
        {
            stack = plan.Stack,
            toAdd = plan.ToAdd,
            toChange = plan.ToChange,
            toDestroy = plan.ToDestroy,
            steps = plan.Steps.Select(s => new
            {
                action = s.Action.ToString().ToLowerInvariant(),
                resource = s.Resource.ToString(),
                region = s.Resource.Region,
                kind = s.Resource.KindName,
                name = s.Resource.Name,
                reason = s.Reason,
                id = s.Observed?.Id,
                summary = s.Desired?.Summary,
                changes = s.Changes,
            }),
        };
    }
}
