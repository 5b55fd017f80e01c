using System.CommandLine;
using Egress.Aws;
using Egress.Aws.Planning;

namespace Egress.Cli.Commands;

/// <summary>egress destroy: delete everything tagged for the stack, in reverse order, then prove nothing is left.</summary>
internal sealed class DestroyCommand : Command
{
    public DestroyCommand(CliContext context)
        : base("destroy", "Delete every AWS resource tagged for the stack in every enabled region (not only the topology's), then check that nothing tagged remains. Asks first (--yes skips); holds the stack's lock.")
    {
        var aws = new AwsVerb(context, this, desiredState: false, changesAws: true);
        SetAction((parse, cancellationToken) =>
        {
            var topology = aws.Topology(parse);
            return aws.RunAsync(parse, (provisioner, _) => aws.LockedAsync(parse, provisioner, topology, "destroy", async () =>
            {
                var plan = await provisioner.PlanDestroyAsync(topology, cancellationToken);
                aws.WriteSweep(plan.Sweep);
                var searched = plan.Sweep is { } sweep ? $"any of the {sweep.Searched.Count} regions searched" : string.Join(", ", AwsProvisioner.RegionsOf(topology));
                if (plan.IsEmpty)
                {
                    context.Error.WriteLine($"Nothing tagged egress:stack={topology.Stack} in {searched}: nothing to destroy.");
                    if (aws.Json(parse))
                    {
                        aws.WriteJson(new DestroyDocument(PlanRenderer.ToData(plan), []), AwsJson.Egress.DestroyDocument);
                    }

                    return ExitCodes.Ok;
                }

                context.Error.Write(CliText.Wrap(PlanRenderer.Render(plan), context.Width));
                if (!await aws.ConfirmAsync(parse, "destroy", $"Destroy these {plan.ToDestroy} resources of stack {topology.Stack}?", cancellationToken))
                {
                    return ExitCodes.Cancelled;
                }

                var left = await provisioner.DestroyAsync(topology, plan, cancellationToken);
                var remaining = left.Regions.SelectMany(r => r.All.Select(x => $"{r.Region}: {x.Component ?? "?"} {x.Id}")).ToList();
                if (aws.Json(parse))
                {
                    aws.WriteJson(new DestroyDocument(PlanRenderer.ToData(plan), remaining), AwsJson.Egress.DestroyDocument);
                }

                if (remaining.Count > 0)
                {
                    context.Error.WriteLine($"error: {remaining.Count} resources tagged egress:stack={topology.Stack} remain:");
                    remaining.ForEach(r => context.Error.WriteLine("  " + r));
                    context.Error.WriteLine("  fix: run 'egress destroy' again; if they stay, delete them in the AWS console (they may cost money).");
                    return ExitCodes.CheckFailed;
                }

                var where = left.Sweep is { } after ? $"any of the {after.Searched.Count} regions searched ({after.Source})" : searched;
                context.Error.WriteLine($"Destroy complete: {plan.ToDestroy} destroyed. Nothing tagged egress:stack={topology.Stack} remains in {where}.");
                return ExitCodes.Ok;
            }, cancellationToken));
        });
    }
}
