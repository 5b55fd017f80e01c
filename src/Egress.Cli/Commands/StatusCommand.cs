using System.CommandLine;
using System.Globalization;
using Egress.Aws;
using Egress.Aws.Execution;
using Egress.Aws.Planning;
using Egress.Aws.Ports;
using Egress.Aws.Remote;
using Egress.Core.Cost;
using Egress.Processes;
using Egress.Host.Rendering;

namespace Egress.Cli.Commands;

/// <summary>egress status: the stack's resources in AWS, by region, with their state and hourly cost; with --check,
/// each host's own check run through SSM or SSH.</summary>
internal sealed class StatusCommand : Command
{
    public StatusCommand(CliContext context)
        : base("status", "List the stack's AWS resources region by region with their state, and what they cost per hour while they run. Makes only read calls (with --check, one command per host).")
    {
        var aws = new AwsVerb(context, this, desiredState: false);
        var check = new Option<bool>("--check")
        {
            Description = "Also run 'egress-host check' on every host (SSM when the host has an instanceProfile, else SSH) and report its invariants; exit 1 if any fails.",
        };
        Options.Add(check);
        var (privateKey, knownHosts) = AwsVerb.AddRemoteAccessOptions(this);
        SetAction((parse, cancellationToken) =>
        {
            var topology = aws.Topology(parse);
            var access = parse.GetValue(check) ? AwsVerb.RemoteAccessFrom(context, parse, privateKey, knownHosts) : null;
            return aws.RunAsync(parse, async (provisioner, ports) =>
            {
                var observed = await provisioner.DiscoverAsync(topology.Stack, AwsProvisioner.RegionsOf(topology), cancellationToken);
                aws.WriteSweep(observed.Sweep);
                var rows = StatusReport.Rows(observed);
                var cost = RunningCost.Of(observed, PriceTable.BuiltIn);
                var checks = access is not null ? await CheckHostsAsync(context, ports, topology, access, cancellationToken) : [];
                var code = checks.All(c => c.Ok) ? ExitCodes.Ok : ExitCodes.CheckFailed;
                if (aws.Json(parse))
                {
                    aws.WriteJson(new StatusDocument(topology.Stack, rows, cost.UsdPerHour, cost.Lines, checks), CliJson.Egress.StatusDocument);
                    WriteCost(context, cost);
                    return code;
                }

                if (rows.Count == 0)
                {
                    var searched = observed.Sweep is { } sweep ? $"any of the {sweep.Searched.Count} regions searched" : string.Join(", ", AwsProvisioner.RegionsOf(topology));
                    CliText.WriteLine(context.Output, $"Stack {topology.Stack}: nothing tagged in {searched}.", context.Width);
                }

                // A table per region that fits the width (COLUMNS when piped), else a list: an id is never split (CliTable).
                foreach (var region in rows.GroupBy(r => r.Region))
                {
                    var table = new CliTable(region.Key, new CliColumn("resource"), new CliColumn("id"), new CliColumn("state"), new CliColumn("detail", Prose: true));
                    foreach (var row in region)
                    {
                        table.AddRow(row.Resource, row.Id, row.State, row.Detail);
                    }

                    table.Write(context.Data);
                }

                WriteCost(context, cost);
                return code;
            });
        });
    }

    /// <summary>One host's 'egress-host check' through its remote runner. <see cref="Egress"/>: for a client, "via GATEWAY"
    /// (the active one) or why it has none; null for a gateway. <see cref="ExitCode"/>: null when the check never ran (the
    /// host could not be reached).</summary>
    internal sealed record HostCheck(string Host, string Via, bool Ok, int? ExitCode, IReadOnlyList<string> Failures, IReadOnlyList<string> Warnings, string? Egress = null);

    private static async Task<List<HostCheck>> CheckHostsAsync(CliContext context, IAwsPorts ports, Core.Topology.TopologyModel topology,
        RemoteAccess access, CancellationToken cancellationToken)
    {
        var results = new List<HostCheck>();
        var command = new CommandSpec("sudo", ["-n", "/bin/sh", HostScript.InstalledPath, "check"]) { Timeout = TimeSpan.FromMinutes(1) };
        foreach (var host in topology.Hosts)
        {
            HostCheck result;
            try
            {
                var remote = await RemoteRunners.ForHostAsync(ports, topology, host.Name, access, context.Time, new RetryPolicy(context.Time),
                    message => context.Error.WriteLine(message), cancellationToken);
                var run = await remote.Runner.RunAsync(command, cancellationToken);
                try
                {
                    var report = CheckReport.Parse(run.StandardOutput);
                    result = new HostCheck(host.Name, remote.Description, report.Ok && run.Succeeded, run.ExitCode,
                        [.. report.Failures.Select(f => $"{f.Name}: {f.Detail}")], report.Warnings, report.EgressState);
                }
                catch (FormatException ex)
                {
                    result = new HostCheck(host.Name, remote.Description, false, run.ExitCode, [ex.Message, .. Lines(run.StandardError)], []);
                }
            }
            catch (AwsProvisionException ex)
            {
                result = new HostCheck(host.Name, "(not reachable)", false, null, [$"{ex.Problem}; fix: {ex.Fix}"], []);
            }

            context.Error.WriteLine((result.Ok
                ? $"check {host.Name}: ok via {result.Via}"
                : result.ExitCode is { } exit ? $"check {host.Name}: FAILED (exit {exit}) via {result.Via}" : $"check {host.Name}: NOT RUN: the host cannot be reached")
                + (result.Egress is null ? string.Empty : $"; egress {result.Egress}"));
            foreach (var line in result.Failures.Concat(result.Warnings.Select(w => "warning: " + w)))
            {
                context.Error.WriteLine("  " + line);
            }

            results.Add(result);
        }

        return results;
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(5);

    private static void WriteCost(CliContext context, RunningCost cost)
    {
        foreach (var line in cost.Lines)
        {
            var price = line.UsdPerHour is { } usd ? "$" + usd.ToString("0.0000", CultureInfo.InvariantCulture) + "/h" : "no price in the table";
            CliText.WriteLine(context.Error, $"  {line.Region}  {line.Description}  {price}", context.Width);
        }

        CliText.WriteLine(context.Error, string.Create(CultureInfo.InvariantCulture,
            $"Cost while running: ${cost.UsdPerHour:0.0000}/hour (${cost.UsdPerHour * Traffic.HoursPerMonth:0.00}/month), {PriceTable.BuiltInName}; data transfer extra ('egress cost')."), context.Width);
        if (cost.Unpriced.Any())
        {
            context.Error.WriteLine("  (some items have no price in the table and count as $0: see 'egress cost --default-prices')");
        }
    }
}
