using System.CommandLine;
using Egress.Aws;
using Egress.Aws.Planning;
using Spectre.Console;

namespace Egress.Cli.Commands;

/// <summary>egress status: the stack's resources in AWS, by region, with their state.</summary>
internal sealed class StatusCommand : Command
{
    public const string CostUnavailable = "Cost per hour: not shown: this build has no pricing table (Egress.Core cost).";

    public StatusCommand(CliContext context)
        : base("status", "List the stack's AWS resources region by region with their state. Makes only read calls.")
    {
        var aws = new AwsVerb(context, this, desiredState: false);
        SetAction((parse, cancellationToken) =>
        {
            var topology = aws.Topology(parse);
            return aws.RunAsync(parse, async (provisioner, _) =>
            {
                var observed = await provisioner.DiscoverAsync(topology.Stack, AwsProvisioner.RegionsOf(topology), cancellationToken);
                var rows = StatusReport.Rows(observed);
                if (aws.Json(parse))
                {
                    aws.WriteJson(new { stack = topology.Stack, resources = rows, costPerHour = (decimal?)null });
                    context.Error.WriteLine(CostUnavailable);
                    return ExitCodes.Ok;
                }

                if (rows.Count == 0)
                {
                    context.Data.MarkupLine(Markup.Escape($"Stack {topology.Stack}: nothing tagged in {string.Join(", ", AwsProvisioner.RegionsOf(topology))}."));
                }

                foreach (var region in rows.GroupBy(r => r.Region))
                {
                    var table = new Table().Title(Markup.Escape(region.Key)).AddColumns("resource", "id", "state", "detail");
                    foreach (var row in region)
                    {
                        table.AddRow(Markup.Escape(row.Resource), Markup.Escape(row.Id), Markup.Escape(row.State), Markup.Escape(row.Detail));
                    }

                    context.Data.Write(table);
                }

                context.Error.WriteLine(CostUnavailable);
                return ExitCodes.Ok;
            });
        });
    }
}
