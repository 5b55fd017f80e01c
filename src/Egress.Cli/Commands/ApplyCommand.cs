using System.CommandLine;
using Egress.Aws.Planning;

namespace Egress.Cli.Commands;

/// <summary>egress apply: make AWS match the topology, then prove it by planning again.</summary>
internal sealed class ApplyCommand : Command
{
    public ApplyCommand(CliContext context)
        : base("apply", "Create, change and destroy AWS resources until they match the topology: shows the plan and asks (--yes skips), holds the stack's lock, then changes all regions at once; resumable (run it again after an interruption).")
    {
        var aws = new AwsVerb(context, this, desiredState: true, changesAws: true);
        SetAction((parse, cancellationToken) =>
        {
            var topology = aws.Topology(parse);
            var desired = aws.Desired(parse, topology);
            return aws.RunAsync(parse, (provisioner, _) => aws.LockedAsync(parse, provisioner, topology, "apply", async () =>
            {
                var plan = await provisioner.PlanAsync(desired, cancellationToken);
                aws.WriteSweep(plan.Sweep);
                context.Error.Write(CliText.Wrap(PlanRenderer.Render(plan), context.Width));
                if (!plan.IsEmpty && !await aws.ConfirmAsync(parse, "apply", $"Apply these changes to stack {topology.Stack} ({plan.Totals[6..^1]})?", cancellationToken))
                {
                    return ExitCodes.Cancelled;
                }

                var left = plan.IsEmpty ? plan : await provisioner.ApplyAsync(desired, plan, cancellationToken);
                if (aws.Json(parse))
                {
                    aws.WriteJson(new ApplyDocument(PlanRenderer.ToData(plan), PlanRenderer.ToData(left)), AwsJson.Egress.ApplyDocument);
                }

                if (!left.IsEmpty)
                {
                    context.Error.WriteLine("error: AWS still differs from the topology after apply:");
                    context.Error.Write(CliText.Wrap(PlanRenderer.Render(left), context.Width));
                    context.Error.WriteLine("  fix: run 'egress apply' again; if the same steps remain, something outside egress changes them.");
                    return ExitCodes.CheckFailed;
                }

                context.Error.WriteLine(plan.IsEmpty
                    ? "Nothing to do."
                    : $"Apply complete: {plan.ToAdd} added, {plan.ToChange} changed, {plan.ToDestroy} destroyed. A fresh plan is empty: AWS matches the topology.");
                return ExitCodes.Ok;
            }, cancellationToken));
        });
    }
}
