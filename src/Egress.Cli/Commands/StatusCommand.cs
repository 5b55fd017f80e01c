using System.CommandLine;
using Egress.Aws;
using System.Globalization;
using Egress.Aws.Planning;
using Egress.Core.Cost;
using Spectre.Console;

namespace Egress.Cli.Commands;

/// <summary>egress status: the stack's resources in AWS, by region, with their state.</summary>
internal sealed class StatusCommand : Command
{
    public StatusCommand(CliContext context)
        : base("status", "List the stack's AWS resources region by region with their state, and what they cost per hour while they run. Makes only read calls.")
    {
        var aws = new AwsVerb(context, this, desiredState: false);
        SetAction((parse, cancellationToken) =>
        {
            var topology = aws.Topology(parse);
            return aws.RunAsync(parse, async (provisioner, _) =>
            {
                var observed = await provisioner.DiscoverAsync(topology.Stack, AwsProvisioner.RegionsOf(topology), cancellationToken);
                var rows = StatusReport.Rows(observed);
                var cost = RunningCost.Of(observed, PriceTable.BuiltIn);
                if (aws.Json(parse))
                {
                    aws.WriteJson(new { stack = topology.Stack, resources = rows, costUsdPerHour = cost.UsdPerHour, costLines = cost.Lines });
                    WriteCost(context, cost);
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

                WriteCost(context, cost);
                return ExitCodes.Ok;
            });
        });
    }

    private static void WriteCost(CliContext context, RunningCost cost)
    {
        foreach (var line in cost.Lines)
        {
            var price = line.UsdPerHour is { } usd ? "$" + usd.ToString("0.0000", CultureInfo.InvariantCulture) + "/h" : "no price in the table";
            context.Error.WriteLine($"  {line.Region}  {line.Description}  {price}");
        }

        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Cost while running: ${cost.UsdPerHour:0.0000}/hour (${cost.UsdPerHour * Traffic.HoursPerMonth:0.00}/month), {PriceTable.BuiltInName}; data transfer extra ('egress cost')."));
        if (cost.Unpriced.Any())
        {
            context.Error.WriteLine("  (some items have no price in the table and count as $0: see 'egress cost --default-prices')");
        }
    }
}
