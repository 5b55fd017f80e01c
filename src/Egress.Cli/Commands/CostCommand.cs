using Egress.Core;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Egress.Core.Cost;
using Egress.Core.IO;
using Egress.Core.Topology;
using Spectre.Console;

namespace Egress.Cli.Commands;

/// <summary>egress cost: this topology against a NAT Gateway reached over Transit Gateway peering and a NAT Gateway
/// in the client's own region, for the same traffic; line items, totals per week and month, savings.</summary>
internal sealed class CostCommand : Command
{
    public CostCommand(CliContext context)
        : base("cost", "Price this topology against the managed alternatives (NAT Gateway via Transit Gateway peering; NAT Gateway in the client's region) for the same traffic. See docs/cost.md.")
    {
        var source = TopologySource.AddTo(this);
        var hours = new Option<decimal>("--hours")
        {
            Description = "Hours everything runs, 0.01 to 1000000; 168 is one week, the seed's scenario.",
            DefaultValueFactory = _ => Traffic.HoursPerWeek,
            HelpName = "H",
        };
        var gbOut = new Option<decimal>("--gb-out")
        {
            Description = "GB each client sends to the internet in those hours, 0 to 1e12.",
            DefaultValueFactory = _ => 1m,
            HelpName = "N",
        };
        var gbIn = new Option<decimal>("--gb-in")
        {
            Description = "GB each client receives from the internet in those hours, 0 to 1e12.",
            DefaultValueFactory = _ => 1m,
            HelpName = "N",
        };
        var pricesFile = new Option<string?>("--prices")
        {
            Description = "A price table (JSON, at most 1 MiB, docs/cost.md) to use instead of the built-in one.",
            HelpName = "FILE",
        };
        var defaultPrices = new Option<bool>("--default-prices")
        {
            Description = "Print the built-in price table (JSON) to stdout and exit: a starting point for --prices.",
        };
        var output = OutputFormatOption.Create(OutputFormat.Text);
        Options.Add(hours);
        Options.Add(gbOut);
        Options.Add(gbIn);
        Options.Add(pricesFile);
        Options.Add(defaultPrices);
        Options.Add(output);

        SetAction(parse =>
        {
            if (parse.GetValue(defaultPrices))
            {
                context.Output.Write(PriceTable.BuiltInText());
                return ExitCodes.Ok;
            }

            var traffic = ReadTraffic(parse.GetValue(hours), parse.GetValue(gbOut), parse.GetValue(gbIn));
            var prices = LoadPrices(context, parse.GetValue(pricesFile));
            var (topology, path) = source.Load(context, parse);
            CostComparison comparison;
            try
            {
                comparison = CostModel.Compare(topology, prices, traffic);
            }
            catch (CostOutOfRangeException ex)
            {
                throw new UsageException($"cost of {path}: {ex.Message}.");
            }
            catch (PriceNotFoundException ex)
            {
                foreach (var missing in ex.Missing)
                {
                    context.Error.WriteLine($"error: {ex.TableName}: {missing}");
                }

                throw new UsageException(
                    $"{ex.TableName} has no price for {ex.Missing.Count} item{(ex.Missing.Count == 1 ? string.Empty : "s")} of {path}. " +
                    "Add them to a copy of the table ('egress cost --default-prices > prices.json') and pass --prices prices.json (docs/cost.md).");
            }

            if (parse.GetValue(output) == OutputFormat.Json)
            {
                context.Output.WriteLine(JsonSerializer.Serialize(CostReport.ToJson(comparison, path, topology), CliJson.Egress.CostDocument));
            }
            else
            {
                CostReport.Render(context.Data, comparison);
            }

            return ExitCodes.Ok;
        });
    }

    private static Traffic ReadTraffic(decimal hours, decimal gbOut, decimal gbIn)
    {
        if (hours is < Traffic.MinHours or > Traffic.MaxHours)
        {
            throw new UsageException($"--hours: must be from {Format.Number(Traffic.MinHours)} to {Format.Number(Traffic.MaxHours)}, got {Format.Number(hours)}. Pass how long everything runs, e.g. --hours 168 for a week.");
        }

        Gb("--gb-out", gbOut, "sends to");
        Gb("--gb-in", gbIn, "receives from");
        return new Traffic { Hours = hours, GbOutPerClient = gbOut, GbInPerClient = gbIn };
    }

    private static void Gb(string option, decimal value, string verb)
    {
        if (value is < 0 or > Traffic.MaxGb)
        {
            throw new UsageException($"{option}: must be from 0 to {Format.Number(Traffic.MaxGb)} (1e12 GB), got {Format.Number(value)}. Pass the GB each client {verb} the internet, e.g. {option} 1.");
        }
    }

    private static PriceTable LoadPrices(CliContext context, string? path)
    {
        if (path is null)
        {
            return PriceTable.BuiltIn;
        }

        var text = FileArguments.ReadText(context, "--prices", path, BoundedFile.PriceTableBytes,
            $"pass a price table (JSON, at most {BoundedFile.Size(BoundedFile.PriceTableBytes)}): write one with 'egress cost --default-prices > prices.json', or drop --prices to use the built-in table");
        var result = PriceTableParser.Parse(text, path);
        TopologyFile.Print(context, result.Diagnostics);
        if (!result.Succeeded)
        {
            var count = result.Diagnostics.Count(d => d.IsError);
            throw new UsageException($"--prices {path}: {count} error{(count == 1 ? string.Empty : "s")} in the price table; fix {(count == 1 ? "it" : "them")}, or drop --prices to use the built-in table.");
        }

        return result.Table!;
    }
}

/// <summary>The cost comparison as a Spectre report and as JSON: the same figures, formatted by <see cref="Format"/>.</summary>
internal static class CostReport
{
    public static void Render(IAnsiConsole console, CostComparison comparison)
    {
        var traffic = comparison.Traffic;
        console.WriteLine(
            $"Cost for {Format.Number(traffic.Hours)} h with {Format.Number(traffic.GbOutPerClient)} GB out and {Format.Number(traffic.GbInPerClient)} GB in " +
            $"per client; prices: {comparison.Prices.Name} (USD, on-demand).");
        foreach (var scenario in comparison.Scenarios)
        {
            var table = new CliTable(scenario.Title,
                new CliColumn("Item", Prose: true), new CliColumn("Region"), new CliColumn("Quantity", RightAligned: true),
                new CliColumn("Unit price", RightAligned: true), new CliColumn("Cost", RightAligned: true));
            foreach (var line in scenario.Lines)
            {
                table.AddRow(
                    line.Description,
                    line.Region,
                    $"{Format.Number(line.Quantity)} {Format.ShortUnit(line.Unit)}",
                    Format.UnitPrice(line.UnitPrice) + "/" + Format.ShortUnit(line.Unit) + (line.Estimate ? " *" : string.Empty),
                    Format.LineCost(line.Cost));
            }

            table.AddGap();
            table.AddRow("Total", string.Empty, $"{Format.Number(scenario.Hours)} h", string.Empty, Format.Total(scenario.Total));
            table.Write(console);
        }

        var summary = new CliTable("Totals",
            new CliColumn("Scenario", Prose: true), new CliColumn($"{Format.Number(traffic.Hours)} h", RightAligned: true),
            new CliColumn("Per week (168 h)", RightAligned: true), new CliColumn("Per month (730 h)", RightAligned: true));
        foreach (var scenario in comparison.Scenarios)
        {
            summary.AddRow(scenario.Title, Format.Total(scenario.Total), Format.Total(scenario.PerWeek), Format.Total(scenario.PerMonth));
        }

        summary.Write(console);
        console.WriteLine(Saving(comparison.SavingsVsTransitGatewayNatPercent, "a NAT Gateway via Transit Gateway peering"));
        console.WriteLine(Saving(comparison.SavingsVsLocalNatGatewayPercent, "a NAT Gateway in the client's own region"));
        console.WriteLine("* estimate: a last-known rate not re-read on the table's date; 'egress cost --default-prices' shows every source. Tax, EBS and free tiers are not included.");
    }

    private static string Saving(decimal percent, string other) => percent >= 0
        ? $"This topology saves {Format.Percent(percent)} against {other}."
        : $"This topology costs {Format.Percent(-percent)} more than {other}.";

    public static CostDocument ToJson(CostComparison comparison, string file, TopologyModel topology) => new()
    {
        File = file,
        Stack = topology.Stack,
        Prices = comparison.Prices.Name,
        Currency = PriceTable.Currency,
        Hours = comparison.Traffic.Hours,
        GbOutPerClient = comparison.Traffic.GbOutPerClient,
        GbInPerClient = comparison.Traffic.GbInPerClient,
        HoursPerWeek = Traffic.HoursPerWeek,
        HoursPerMonth = Traffic.HoursPerMonth,
        Scenarios = comparison.Scenarios.Select(s => new CostScenarioDocument(
            s.Id,
            s.Title,
            s.Lines.Select(l => new CostLineDocument(PriceItems.NameOf(l.Item), l.Region, l.Description, Format.Exact(l.Quantity), l.Unit, l.UnitPrice,
                Format.Exact(l.Cost), l.Estimate)).ToList(),
            Format.Exact(s.Total),
            Format.Exact(s.PerWeek),
            Format.Exact(s.PerMonth))).ToList(),
        SavingsPercent = new CostSavingsDocument(
            Math.Round(comparison.SavingsVsTransitGatewayNatPercent, 2),
            Math.Round(comparison.SavingsVsLocalNatGatewayPercent, 2)),
    };
}

/// <summary>How money and quantities are printed (invariant culture): line costs to 0.0001 USD, totals to the cent.</summary>
internal static class Format
{
    public static string Number(decimal value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    public static string UnitPrice(decimal value) => "$" + value.ToString("0.00##", CultureInfo.InvariantCulture);

    public static string LineCost(decimal value) => "$" + value.ToString("0.0000", CultureInfo.InvariantCulture);

    public static string Total(decimal value) => "$" + value.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>hour, address-hour and attachment-hour print as "h" (the item says what is counted); GB stays.</summary>
    public static string ShortUnit(string unit) => unit.EndsWith("hour", StringComparison.Ordinal) ? "h" : unit;

    public static string Percent(decimal value) => value.ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>Six decimal places: far below a cent, and free of division's 28-digit tails.</summary>
    public static decimal Exact(decimal value) => Math.Round(value, 6, MidpointRounding.AwayFromZero);
}
