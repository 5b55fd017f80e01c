using Egress.Core;
using System.CommandLine;
using System.Text.Json;
using Egress.Lab;
using Spectre.Console;

namespace Egress.Cli.Commands;

internal sealed class LabStatusCommand : Command
{
    public LabStatusCommand(CliContext context)
        : base("status", "Namespaces, addresses, tunnel state, each host's check, each client's failover watcher, the counters (IGW NAT, IGW drops, peering edge-to-edge drops, security-group drops, gateway forward drops). Exit 1 when unhealthy (a namespace missing, the services down, a check failing, a watcher not running).")
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
                context.Output.WriteLine(JsonSerializer.Serialize(status, EgressJson.Options));
                return status.Healthy ? ExitCodes.Ok : ExitCodes.CheckFailed;
            }

            var human = context.Data;
            human.WriteLine($"lab {status.Id} ({status.Stack}){(status.Naive ? " NAIVE" : string.Empty)}");
            human.WriteLine($"overlay: {status.Overlay}");
            human.WriteLine(status.Latency);
            human.WriteLine($"services: {(status.ServicesPid is { } pid ? $"running (pid {pid})" : "NOT running")}");
            var namespaces = new Table().Border(TableBorder.Rounded).AddColumns("namespace", "role", "of", "addresses");
            foreach (var ns in status.Namespaces)
            {
                namespaces.AddRow(Markup.Escape(ns.Name), ns.Role, Markup.Escape(ns.Owner), ns.Exists ? Markup.Escape(string.Join("\n", ns.Addresses)) : "[red]missing[/]");
            }

            human.Write(namespaces);
            foreach (var (host, address) in status.PublicAddresses)
            {
                human.WriteLine($"public address {host}: {address ?? "none"}");
            }

            foreach (var tunnel in status.Tunnels)
            {
                human.WriteLine($"tunnel {tunnel.Host} {tunnel.Interface}: {tunnel.Kind} {tunnel.State} mtu {tunnel.Mtu}");
            }

            foreach (var check in status.Checks)
            {
                human.WriteLine($"check {check.Host}: {(check.Passed ? "ok" : "FAIL")} {check.Problem ?? string.Join(", ", check.Failed.Select(i => i.Name))}");
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
                human.WriteLine($"egress of {f.Client}: via {active}; watcher {watcher}{(f.GatewayStates.Count > 0 ? "; " + string.Join(", ", f.GatewayStates) : string.Empty)}");
            }

            LabCli.PrintCounters(new CliContext(context.Output, context.Output, context.WorkingDirectory, colors: false), status.Counters);
            return status.Healthy ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
    }
}
