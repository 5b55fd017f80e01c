using Egress.Core;
using System.CommandLine;
using System.Text.Json;
using Egress.Lab;

namespace Egress.Cli.Commands;

internal sealed class LabStatusCommand : Command
{
    public LabStatusCommand(CliContext context)
        : base("status", "Namespaces, addresses, tunnel state, each host's check, each client's failover watcher, the counters (IGW NAT, IGW drops, peering edge-to-edge drops, security-group drops, gateway forward drops). Exit 1 when unhealthy (a namespace missing, the services down, a check failing, a watcher or a delaying resolver not running).")
    {
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        var output = OutputFormatOption.Create(OutputFormat.Text);
        Options.Add(id);
        Options.Add(output);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot("status");
            var lab = LabCli.Open(LabCli.RunningId(parse.GetValue(id)));
            var status = await LabStatusCollector.CollectAsync(lab, cancellationToken: cancellationToken);
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                context.Output.WriteLine(JsonSerializer.Serialize(status, LabJson.Egress.LabStatusReport));
                return status.Healthy ? ExitCodes.Ok : ExitCodes.CheckFailed;
            }

            Print(context, status);
            return status.Healthy ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
    }

    /// <summary>The report as text on stdout, fitted to the width (COLUMNS when piped): the namespaces are a
    /// <see cref="CliTable"/> (a list when they do not fit), the other lines break between words; no address or name is split.</summary>
    internal static void Print(CliContext context, LabStatusReport status)
    {
        void Line(string text) => CliText.WriteLine(context.Output, text, context.Width);

        Line($"lab {status.Id} ({status.Stack}){(status.Naive ? " NAIVE" : string.Empty)}");
        Line($"overlay: {status.Overlay}");
        Line(status.Latency);
        Line($"services: {(status.ServicesPid is { } pid ? $"running (pid {pid})" : "NOT running")}");
        foreach (var delay in status.ResolverDelays)
        {
            Line($"resolver delay {delay.Region}: {delay.DelayMs} ms, forwarder {(delay.Pid is { } forwarder ? $"running (pid {forwarder})" : "NOT running")}");
        }
        var namespaces = new CliTable(null, new CliColumn("namespace"), new CliColumn("role"), new CliColumn("of"), new CliColumn("addresses"));
        foreach (var ns in status.Namespaces)
        {
            namespaces.AddRow(ns.Name, ns.Role, ns.Owner, ns.Exists ? string.Join("\n", ns.Addresses) : "MISSING");
        }

        namespaces.Write(context.Data);
        foreach (var (host, address) in status.PublicAddresses)
        {
            Line($"public address {host}: {address ?? "none"}");
        }

        foreach (var tunnel in status.Tunnels)
        {
            Line($"tunnel {tunnel.Host} {tunnel.Interface}: {tunnel.Kind} {tunnel.State} mtu {tunnel.Mtu}");
        }

        foreach (var check in status.Checks)
        {
            Line($"check {check.Host}: {(check.Passed ? "ok" : "FAIL")} {check.Problem ?? string.Join(", ", check.Failed.Select(i => i.Name))}");
        }

        foreach (var f in status.Failover)
        {
            var active = f.ActiveGateway switch { null => "unknown (no watcher state)", "-" => "NONE (every gateway down; the policy applies)", var g => g };
            var watcher = (f.WatcherPid, f.Supervised) switch
            {
                ({ } w, true) => $"pid {w}, supervised",
                ({ } w, false) => $"pid {w}, NOT supervised (its supervisor is gone: a crash would not be restarted)",
                (null, true) => "NOT running (its supervisor restarts it)",
                (null, false) => "NOT running and not supervised: a gateway failure would neither fail over nor fail closed",
            };
            Line($"egress of {f.Client}: via {active}; watcher {watcher}{(f.GatewayStates.Count > 0 ? "; " + string.Join(", ", f.GatewayStates) : string.Empty)}");
        }

        LabCli.PrintCounters(new CliContext(context.Output, context.Output, context.WorkingDirectory, colors: false) { Width = context.Width }, status.Counters);
    }
}
