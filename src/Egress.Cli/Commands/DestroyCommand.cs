using System.CommandLine;
using Egress.Aws;
using Egress.Aws.Planning;

namespace Egress.Cli.Commands;

/// <summary>egress destroy: delete everything tagged for the stack, in reverse order, then prove nothing is left.</summary>
internal sealed class DestroyCommand : Command
{
    public DestroyCommand(CliContext context)
        : base("destroy", "Delete every AWS resource tagged for the stack in the topology's regions, then check that nothing tagged remains.")
    {
        var aws = new AwsVerb(context, this, desiredState: false);
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation (needed when stdin is not a terminal)." };
        Options.Add(yes);
        SetAction((parse, cancellationToken) =>
        {
            var topology = aws.Topology(parse);
            var regions = string.Join(", ", AwsProvisioner.RegionsOf(topology));
            return aws.RunAsync(parse, async (provisioner, _) =>
            {
                var plan = await provisioner.PlanDestroyAsync(topology, cancellationToken);
                if (plan.IsEmpty)
                {
                    context.Error.WriteLine($"Nothing tagged egress:stack={topology.Stack} in {regions}: nothing to destroy.");
                    if (aws.Json(parse))
                    {
                        aws.WriteJson(new { destroyed = PlanRenderer.ToData(plan), remaining = Array.Empty<object>() });
                    }

                    return ExitCodes.Ok;
                }

                context.Error.Write(PlanRenderer.Render(plan));
                if (!parse.GetValue(yes))
                {
                    if (context.Input is null)
                    {
                        throw new UsageException("destroy asks for confirmation and stdin is not a terminal; nothing was changed. Pass --yes to destroy without asking.");
                    }

                    context.Error.Write($"Destroy these {plan.ToDestroy} resources of stack {topology.Stack}? Type 'yes' to confirm: ");
                    if (!string.Equals((await context.Input.ReadLineAsync(cancellationToken))?.Trim(), "yes", StringComparison.Ordinal))
                    {
                        context.Error.WriteLine("Destroy cancelled; nothing was changed.");
                        return ExitCodes.Cancelled;
                    }
                }

                var left = await provisioner.DestroyAsync(topology, plan, cancellationToken);
                var remaining = left.Regions.SelectMany(r => r.All.Select(x => $"{r.Region}: {x.Component ?? "?"} {x.Id}")).ToList();
                if (aws.Json(parse))
                {
                    aws.WriteJson(new { destroyed = PlanRenderer.ToData(plan), remaining });
                }

                if (remaining.Count > 0)
                {
                    context.Error.WriteLine($"error: {remaining.Count} resources tagged egress:stack={topology.Stack} remain:");
                    remaining.ForEach(r => context.Error.WriteLine("  " + r));
                    context.Error.WriteLine("  fix: run 'egress destroy' again; if they stay, delete them in the AWS console (they may cost money).");
                    return ExitCodes.CheckFailed;
                }

                context.Error.WriteLine($"Destroy complete: {plan.ToDestroy} destroyed. Nothing tagged egress:stack={topology.Stack} remains in {regions}.");
                return ExitCodes.Ok;
            });
        });
    }
}
