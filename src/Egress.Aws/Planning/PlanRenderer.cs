using System.Text;
using Egress.Aws.Model;

namespace Egress.Aws.Planning;

/// <summary>Writes a plan the way Terraform does: one block per resource with +, ~, -/+ or -, then the totals. The text is
/// derived from the plan's data: a create shows what it builds, a delete the id it deletes, an update one line per change its
/// operations make.</summary>
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

            foreach (var change in ChangeLines(step))
            {
                text.Append("        ").Append(change).Append('\n');
            }
        }

        return text.Append('\n').Append(plan.Totals).Append('\n').ToString();
    }

    /// <summary>What an update changes, one line per change (e.g. "+ ingress protocol 4 from 10.1.1.10/32"); nothing for the
    /// other actions, whose create or delete says it all.</summary>
    public static IReadOnlyList<string> ChangeLines(PlanStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Action != PlanAction.Update)
        {
            return [];
        }

        var lines = new List<string>();
        var dns = step.Operations.OfType<AllowPeeringDns>().ToList();
        var rules = step.Operations.OfType<ChangeSecurityGroupRules>().ToList();
        foreach (var operation in step.Operations)
        {
            switch (operation)
            {
                case SetVpcDns v:
                    lines.Add($"{(v.Enabled ? "enable" : "disable")} DNS {(v.Hostnames ? "hostnames" : "support")}");
                    break;
                case DetachInternetGateway d:
                    lines.Add($"detach from {d.VpcId}");
                    break;
                case AttachInternetGateway a:
                    lines.Add($"attach to {Name(a.Vpc)}");
                    break;
                case DisassociateRouteTable d:
                    lines.Add($"disassociate {d.SubnetId ?? d.AssociationId}");
                    break;
                case AssociateRouteTable a:
                    lines.Add($"associate {Name(a.Subnet)}");
                    break;
                case ChangeSecurityGroupRules r when r == rules[0]:
                    // Revokes run first; the lines read as a diff: what comes, then what goes, ingress before egress.
                    lines.AddRange(rules.OrderByDescending(x => x.Ingress).ThenByDescending(x => x.Authorize)
                        .SelectMany(x => x.Rules.Select(rule => $"{(x.Authorize ? "+" : "-")} {(x.Ingress ? "ingress" : "egress")} {rule}")));
                    break;
                case AcceptPeering a:
                    lines.Add($"accept in {a.Region}");
                    break;
                case AllowPeeringDns d when dns.Count == 2:
                    if (d == dns[0])
                    {
                        lines.Add("allow DNS resolution from the remote VPC (both sides)");
                    }

                    break;
                case AllowPeeringDns d:
                    lines.Add($"allow DNS resolution from the remote VPC ({(d.RequesterSide ? "requester" : "accepter")} side)");
                    break;
                case SetSourceDestCheck c:
                    lines.Add($"source/dest check {(c.Enabled ? "on" : "off")}");
                    break;
                case AssociateAddress a:
                    var now = (step.Observed as ObservedAddress)?.InstanceId;
                    lines.Add($"associate with {Name(a.Instance)}" + (string.IsNullOrEmpty(now) ? " (now unassociated)" : $" (now {now})"));
                    break;
                case PutRoute { Replace: true } r when step.Observed is ObservedRouteEntry { Route: var existing }:
                    lines.Add(existing.State == "blackhole" && existing.Target == r.Target.Id
                        ? $"target {existing.Target} (blackhole) -> {r.Target}"
                        : $"target {existing.Target} -> {r.Target}");
                    break;
                default:
                    break; // waits change nothing
            }
        }

        return lines;
    }

    private static string Name(ResourceRef reference) => reference.Address?.Component ?? reference.ToString();

    /// <summary>The plan as data for --output json: per change the action, the address, the reason, the values before and
    /// after, and the operations apply runs (the teardown in its delete phase, the rest in its create-and-update phase), each with its AWS action and arguments.</summary>
    /// <paramref name="versioned"/>: the plan verb's own document, which carries the schema version (apply's and destroy's hold it without).</summary>
    public static PlanDocument ToData(Plan plan, bool versioned = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new PlanDocument
        {
            SchemaVersion = versioned ? PlanDocument.CurrentSchemaVersion : null,
            Stack = plan.Stack,
            ToAdd = plan.ToAdd,
            ToChange = plan.ToChange,
            ToDestroy = plan.ToDestroy,
            Changes = plan.Steps.Select(s => new PlanChange(
                s.Action.ToString().ToLowerInvariant(),
                s.Resource.ToString(),
                s.Resource.Region,
                s.Resource.KindName,
                s.Resource.Name,
                s.Reason,
                s.Observed?.Id,
                s.Before,
                s.After,
                s.Teardown,
                s.Operations)).ToList(),
        };
    }
}
