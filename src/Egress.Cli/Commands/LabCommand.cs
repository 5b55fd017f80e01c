using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Egress.Core.Topology;
using Egress.Host.Execution;
using Egress.Lab;
using Egress.Lab.Vm;
using Egress.Lab.World;
using Spectre.Console;

namespace Egress.Cli.Commands;

/// <summary>egress lab up|status|exec|verify|down|run: the whole topology on this machine in network namespaces.</summary>
internal sealed class LabCommand : Command
{
    public LabCommand(CliContext context)
        : base("lab", "Build the topology on this machine in network namespaces with AWS's rules (VPC routers, IGW 1:1 NAT, peering without edge-to-edge routing, an internet with HTTPS services) and prove it works. Needs root.\nStart with 'sudo egress lab run'.")
    {
        Subcommands.Add(new LabUpCommand(context));
        Subcommands.Add(new LabStatusCommand(context));
        Subcommands.Add(new LabExecCommand(context));
        Subcommands.Add(new LabVerifyCommand(context));
        Subcommands.Add(new LabDownCommand(context));
        Subcommands.Add(new LabFailCommand(context, fail: true));
        Subcommands.Add(new LabFailCommand(context, fail: false));
        Subcommands.Add(new LabRebootCommand(context));
        Subcommands.Add(new LabRunCommand(context));
        Subcommands.Add(new LabServeCommand());
        Subcommands.Add(new LabMetadataCommand());
    }
}

/// <summary>What the lab verbs share: options, root check, topology and id resolution, the services command.</summary>
internal static class LabCli
{
    public static Option<string?> FileOption() => new("--file", "-f")
    {
        Description = $"The topology file (default: ./{TopologyLoader.DefaultFileName}, else the embedded seed topology).",
        HelpName = "FILE",
    };

    public static Option<LabInstances> InstancesOption() => new("--instances")
    {
        Description = "What each host is: 'namespaces' (default, fast: the host script run in a namespace) or 'vm' (a QEMU VM booted from a Debian image the way EC2 boots one: cloud-init with the user data 'egress apply' sends, IMDSv2, DHCP, systemd; verify over SSH; docs/vm-lab.md).",
        DefaultValueFactory = _ => LabInstances.Namespaces,
        HelpName = "namespaces|vm",
    };

    public static Option<int?> EipDelayOption() => new("--eip-delay")
    {
        Description = $"With --instances vm: seconds after launch until the gateways' Elastic IPs are associated (their IGW NAT starts), as on AWS; default {VmLabOptions.DefaultEipDelay.TotalSeconds:0}, which covers cloud-init's first boot here.",
        HelpName = "SECONDS",
    };

    public static Option<string?> IdOption(string description) => new("--id")
    {
        Description = description,
        HelpName = "ID",
    };

    public static void RequireRoot(string verb)
    {
        if (!LabPackages.IsRoot)
        {
            throw new UsageException($"'egress lab {verb}' needs root: it creates network namespaces, veths and nftables rules (only inside the lab's own namespaces). Run it with sudo, e.g. 'sudo ./egress lab {verb}'.");
        }
    }

    public static TopologyModel LoadTopology(CliContext context, string? file)
    {
        var (result, name) = TopologySource.ReadOrDefault(context, file);
        return TopologyFile.Require(context, result, name);
    }

    public static string ValidId(string id) =>
        LabNames.IsValidId(id) ? id : throw new UsageException($"--id '{id}' is invalid: use {LabNames.ValidIdRule}.");

    /// <summary>--id, else the only lab that is up; errors when none or several are.</summary>
    public static string RunningId(string? id)
    {
        if (id is not null)
        {
            return ValidId(id);
        }

        var labs = LabStateDirectory.List();
        return labs.Count switch
        {
            1 => labs[0],
            0 => throw new UsageException("no lab is up. Start one with 'sudo egress lab up' (or pass --id)."),
            _ => throw new UsageException($"{labs.Count} labs are up ({string.Join(", ", labs)}): pass --id."),
        };
    }

    public static RunningLab Open(string id)
    {
        try
        {
            return RunningLab.Open(id);
        }
        catch (LabException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    /// <summary>How to start `egress lab serve --id ID` from this process: the egress apphost when that is
    /// what runs, else `dotnet egress.dll`.</summary>
    public static CommandSpec ServicesCommand(string id) => Self(["lab", "serve", "--id", id]);

    /// <summary>`egress lab metadata --id ID --region REGION`: a VPC's IMDSv2, started in its router's namespace.</summary>
    public static CommandSpec MetadataCommand(string id, string region) => Self(["lab", "metadata", "--id", id, "--region", region]);

    /// <summary>This egress with <paramref name="arguments"/>: the apphost when that is what runs, else `dotnet egress.dll`.</summary>
    public static CommandSpec Self(IReadOnlyList<string> arguments)
    {
        var process = Environment.ProcessPath ?? "dotnet";
        var assembly = typeof(LabCli).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "egress"
            ? new CommandSpec(process, arguments)
            : new CommandSpec(DotnetHost(process), [assembly, .. arguments]);
    }

    private static string DotnetHost(string process) =>
        Path.GetFileNameWithoutExtension(process) == "dotnet" ? process
        : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : "dotnet";

    public static async Task<RunningLab> UpAsync(CliContext context, TopologyModel topology, string id, bool naive, CancellationToken cancellationToken, LabInstances instances = LabInstances.Namespaces, int? eipDelay = null)
    {
        if (eipDelay is { } delay && (instances != LabInstances.Vm || delay is < 0 or > 3600))
        {
            throw new UsageException(instances != LabInstances.Vm
                ? "--eip-delay goes with --instances vm (a namespace lab has no boot to wait for)."
                : $"--eip-delay {delay}: give 0 to 3600 seconds.");
        }

        if (instances == LabInstances.Vm && naive)
        {
            throw new UsageException("--naive and --instances vm do not go together: a naive lab has no host scripts to boot with.");
        }

        RequireRoot(naive ? "up --naive" : "up");
        await LabPackages.EnsureAsync(ProcessRunner.Instance, m => context.Error.WriteLine(m), cancellationToken);
        var clock = Stopwatch.StartNew();
        context.Error.WriteLine($"lab {id}: building {topology.Stack}{(naive ? " (NAIVE: the seed's 0.0.0.0/0 → peering design, no overlay)" : string.Empty)}");
        try
        {
            var lab = await LabController.Default.UpAsync(new LabUpOptions
            {
                Topology = topology,
                Id = id,
                Naive = naive,
                ServicesCommand = ServicesCommand,
                Scripts = HostRendererScripts.Instance,
                Progress = m => context.Error.WriteLine("  " + m),
                Vms = instances == LabInstances.Vm
                    ? new VmLabOptions
                    {
                        UserData = host => HostUserData.Render(topology, host),
                        MetadataCommand = MetadataCommand,
                        EipDelay = eipDelay is { } seconds ? TimeSpan.FromSeconds(seconds) : VmLabOptions.DefaultEipDelay,
                    }
                    : null,
            }, cancellationToken);
            context.Error.WriteLine($"lab {id} is up in {clock.Elapsed.TotalSeconds:0.00} s. Try: {ExecHint(id, FirstClient(topology), LabStateDirectory.List().Count, Environment.GetEnvironmentVariable("SUDO_USER") is not null)}");
            return lab;
        }
        catch (LabException ex)
        {
            throw new UsageException(ex.Message);
        }
        catch (Egress.Lab.World.LabPlanException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    /// <summary>Runs <paramref name="action"/>; a lab that could not be built is reported (exit 1), not called a bug.</summary>
    public static async Task<int> ReportingUpFailuresAsync(CliContext context, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (LabUpFailedException ex)
        {
            await context.Error.WriteLineAsync("error: " + ex.Message);
            return ExitCodes.CheckFailed;
        }
    }

    /// <summary>The command to try next: --id when several labs are up (without it 'lab exec' refuses), sudo only when the user came through sudo.</summary>
    public static string ExecHint(string id, string client, int labsUp, bool viaSudo) =>
        $"{(viaSudo ? "sudo " : string.Empty)}egress lab exec{(labsUp > 1 ? $" --id {id}" : string.Empty)} {client} -- curl -s https://ipinfo.io/json";

    public static string FirstClient(TopologyModel topology) =>
        topology.Hosts.FirstOrDefault(h => h.Role == HostRole.Client)?.Name ?? topology.Hosts.First().Name;

    /// <summary>Runs the verify suite against the lab (with the lab's counter checks every round), then prints the
    /// overlay, the latency state and the counters; returns the suite's exit code.</summary>
    public static async Task<int> VerifyAsync(CliContext context, ParseResult parse, VerifyCliOptions verify, RunningLab lab, CancellationToken cancellationToken)
    {
        if (lab.Manifest.Instances == LabInstances.Vm && Environment.GetEnvironmentVariable(InNamespaceVariable) != lab.Plan.InternetNamespace)
        {
            return await VerifyFromInternetAsync(context, parse, verify, lab, cancellationToken);
        }

        context.Error.WriteLine($"lab {lab.Id}: overlay {lab.Manifest.OverlayNote}; {lab.Manifest.LatencyNote}");
        var environment = await LabVerification.EnvironmentAsync(lab, cancellationToken);
        var code = await verify.RunAsync(context, parse, environment, cancellationToken);
        PrintCounters(context, await LabStatusCollector.CountersAsync(lab, cancellationToken: cancellationToken));
        return code;
    }

    /// <summary>Set in a `lab verify` that this process started inside the lab's internet namespace.</summary>
    public const string InNamespaceVariable = "EGRESS_LAB_NETNS";

    /// <summary>A VM lab is verified over SSH from the lab's internet, as `egress verify` reaches EC2 hosts: this process
    /// lives in the root namespace, which has no path into the lab (by design), so `lab verify` runs again inside the
    /// internet namespace with the same verify options; its output is this command's.</summary>
    private static async Task<int> VerifyFromInternetAsync(CliContext context, ParseResult parse, VerifyCliOptions verify, RunningLab lab, CancellationToken cancellationToken)
    {
        var arguments = new List<string> { "lab", "verify", "--id", lab.Id };
        arguments.AddRange(VerifyArguments(context, parse, verify));
        var self = Self(arguments);
        var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "netns", "exec", lab.Plan.InternetNamespace, self.Program }.Concat(self.Arguments))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment[InNamespaceVariable] = lab.Plan.InternetNamespace;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start ip netns exec");
        var output = Pump(process.StandardOutput, context.Output);
        var error = Pump(process.StandardError, context.Error);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        await Task.WhenAll(output, error);
        return process.ExitCode;
    }

    /// <summary>The verify options of this command line, as arguments for `lab verify`.</summary>
    private static List<string> VerifyArguments(CliContext context, ParseResult parse, VerifyCliOptions verify)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var arguments = new List<string>
        {
            "--cold", parse.GetValue(verify.Cold).ToString(inv),
            "--keepalive", parse.GetValue(verify.KeepAlive).ToString(inv),
            "--timeout", parse.GetValue(verify.Timeout).ToString(inv),
            "--output", parse.GetValue(verify.Output) == OutputFormat.Json ? "json" : "text",
        };
        if (parse.GetValue(verify.Rounds) is { } rounds)
        {
            arguments.AddRange(["--rounds", rounds.ToString(inv)]);
        }

        if (parse.GetValue(verify.Html) is { } html)
        {
            arguments.AddRange(["--html", context.Resolve(html)]);
        }

        return arguments;
    }

    private static async Task Pump(StreamReader from, TextWriter to)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await from.ReadAsync(buffer)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, n));
            await to.FlushAsync();
        }
    }

    public static void PrintCounters(CliContext context, LabCounters counters)
    {
        context.Error.WriteLine("counters (packets):");
        context.Error.WriteLine("  IGW NAT out/in (conn): " + string.Join(", ", counters.IgwNatOut.Select(c => $"{c.Key} {c.Value}/{counters.IgwNatIn.GetValueOrDefault(c.Key)}")));
        context.Error.WriteLine("  IGW drops:             " + string.Join(", ", counters.IgwDrops.Select(c => $"{c.Key} {c.Value}")));
        context.Error.WriteLine("  peering edge-to-edge:  " + string.Join(", ", counters.PeeringDrops.Select(c => $"{c.Key} {c.Value}")));
        context.Error.WriteLine("  peering frag-needed:   " + string.Join(", ", counters.PeeringFragNeededDrops.Select(c => $"{c.Key} {c.Value}")));
        context.Error.WriteLine("  security-group drops:  " + string.Join(", ", counters.SecurityGroupDrops.Select(c => $"{c.Key} {c.Value}")));
        context.Error.WriteLine("  gateway forward drops: " + string.Join(", ", counters.GatewayForwardDrops.Select(c => $"{c.Key} {c.Value}")));
        foreach (var (region, flows) in counters.Dropped.Where(d => d.Value.Count > 0))
        {
            context.Error.WriteLine($"  dropped in {region}: " + string.Join("; ", flows.OrderByDescending(f => f.Packets).Take(5).Select(f => $"{f.Point} {f}")));
        }
    }
}

internal sealed class LabUpCommand : Command
{
    public LabUpCommand(CliContext context)
        : base("up", "Build the lab: namespaces, VPC routers, IGWs, peering, the internet with its services, the host scripts applied. State in /run/egress-lab/ID/.")
    {
        var file = LabCli.FileOption();
        var id = LabCli.IdOption("Lab id (default: from the topology's stack, e.g. seed).");
        var naive = new Option<bool>("--naive") { Description = "Build the seed's misleading first design instead (client VPC 0.0.0.0/0 → peering, no overlay): its egress fails, and the peering drop counter says why." };
        var instances = LabCli.InstancesOption();
        var eipDelay = LabCli.EipDelayOption();
        Options.Add(file);
        Options.Add(id);
        Options.Add(naive);
        Options.Add(instances);
        Options.Add(eipDelay);
        SetAction((parse, cancellationToken) => LabCli.ReportingUpFailuresAsync(context, async () =>
        {
            LabCli.RequireRoot("up");
            var topology = LabCli.LoadTopology(context, parse.GetValue(file));
            var labId = parse.GetValue(id) is { } given ? LabCli.ValidId(given) : LabNames.IdFromStack(topology.Stack);
            await LabCli.UpAsync(context, topology, labId, parse.GetValue(naive), cancellationToken, parse.GetValue(instances), parse.GetValue(eipDelay));
            context.Output.WriteLine(labId);
            return ExitCodes.Ok;
        }));
    }
}

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
                context.Output.WriteLine(JsonSerializer.Serialize(status, JsonDefaults.Indented));
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

/// <summary>lab fail GATEWAY / lab heal GATEWAY: cut a gateway off (its namespace drops everything) or restore it,
/// to watch the clients' failover happen (docs/failover.md).</summary>
internal sealed class LabFailCommand : Command
{
    public LabFailCommand(CliContext context, bool fail)
        : base(fail ? "fail" : "heal", fail
            ? "Cut a gateway off: its namespace drops every packet it receives, sends or forwards, as if the instance died. Clients fail over to their next gateway."
            : "Restore a gateway cut off by 'lab fail'. Clients fail back once it has been up for failover.holdDownMs.")
    {
        var gateway = new Argument<string>("GATEWAY") { Description = "A gateway host of the topology." };
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        Arguments.Add(gateway);
        Options.Add(id);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot(fail ? "fail" : "heal");
            var lab = LabCli.Open(LabCli.RunningId(parse.GetValue(id)));
            try
            {
                if (lab.Manifest.Instances == LabInstances.Vm)
                {
                    // A VM gateway fails as an instance does: powered off hard; heal boots it again from its disk.
                    var name = parse.GetValue(gateway)!;
                    if (!lab.Plan.Hosts.Any(h => h.Name == name && h.Role == Egress.Core.Topology.HostRole.Gateway))
                    {
                        throw new LabException($"'{name}' is not a gateway of lab {lab.Id}; its gateways: {string.Join(", ", lab.Plan.Hosts.Where(h => h.Role == Egress.Core.Topology.HostRole.Gateway).Select(h => h.Name))}.");
                    }

                    if (fail)
                    {
                        VmLab.PowerOff(new VmFiles(lab.State), name);
                    }
                    else
                    {
                        await new VmLab(ProcessRunner.Instance).PowerOnAsync(lab, name, cancellationToken);
                    }
                }
                else
                {
                    await LabController.Default.SetGatewayFailedAsync(lab, parse.GetValue(gateway)!, fail, cancellationToken);
                }
            }
            catch (LabException ex)
            {
                throw new UsageException(ex.Message);
            }

            context.Error.WriteLine(fail
                ? $"{parse.GetValue(gateway)} is cut off; 'egress lab status' shows where each client egresses now"
                : $"{parse.GetValue(gateway)} is back; clients fail back after the hold-down");
            return ExitCodes.Ok;
        });
    }
}

internal sealed class LabExecCommand : Command
{
    public LabExecCommand(CliContext context)
        : base("exec", "Run a command inside a lab host (e.g. 'egress lab exec sg-client -- curl -s https://ipinfo.io/json'); its exit code is passed through.")
    {
        var host = new Argument<string>("HOST") { Description = "A host of the topology." };
        var command = new Argument<string[]>("COMMAND") { Description = "The command and its arguments (after --).", Arity = ArgumentArity.OneOrMore };
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        Arguments.Add(host);
        Arguments.Add(command);
        Options.Add(id);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot("exec");
            var lab = LabCli.Open(LabCli.RunningId(parse.GetValue(id)));
            var name = parse.GetValue(host)!;
            var target = lab.Plan.Hosts.FirstOrDefault(h => h.Name == name)
                ?? throw new UsageException($"lab {lab.Id} has no host '{name}'; hosts: {string.Join(", ", lab.Plan.Hosts.Select(h => h.Name))}.");
            var info = new ProcessStartInfo("ip") { UseShellExecute = false };
            foreach (var argument in new[] { "netns", "exec", target.Namespace }.Concat(parse.GetValue(command)!))
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start ip netns exec");
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return process.ExitCode;
        });
    }
}

internal sealed class LabVerifyCommand : Command
{
    public LabVerifyCommand(CliContext context)
        : base("verify", "Run the verify suite against a running lab: egress identity and geolocation, path, connectivity, latency (judged only with latency emulation), every host's check, and the lab's counters (no client egress via its own IGW, no peering edge-to-edge or IGW drops). Exit 0 pass, 1 fail.")
    {
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        var verify = new VerifyCliOptions();
        Options.Add(id);
        verify.AddTo(this);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot("verify");
            var lab = LabCli.Open(LabCli.RunningId(parse.GetValue(id)));
            return await LabCli.VerifyAsync(context, parse, verify, lab, cancellationToken);
        });
    }
}

internal sealed class LabDownCommand : Command
{
    public LabDownCommand(CliContext context)
        : base("down", "Remove the lab: every namespace (and with it every veth), /etc/netns entry, process and state file it made. Idempotent.")
    {
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        var all = new Option<bool>("--all") { Description = "Remove every lab whose owner is gone: leftovers of crashed runs and labs made by 'lab up' (their egl-* namespaces, /etc/netns/egl-* entries, /run/egress-lab state). A lab whose 'lab up', 'lab run' or test process still runs is kept." };
        var force = new Option<bool>("--force") { Description = "With --all: remove the labs of running owners too (it breaks their runs)." };
        Options.Add(id);
        Options.Add(all);
        Options.Add(force);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot("down");
            if (parse.GetValue(force) && !parse.GetValue(all))
            {
                throw new UsageException("--force goes with --all (a single lab is removed by 'lab down --id ID' whoever owns it).");
            }

            var clock = Stopwatch.StartNew();
            var sweep = parse.GetValue(all)
                ? await LabController.Default.DownAllAsync(parse.GetValue(force), cancellationToken: cancellationToken)
                : new LabSweep([await LabController.Default.DownAsync(parse.GetValue(id) is { } given ? LabCli.ValidId(given) : LabCli.RunningId(null), cancellationToken)], []);
            foreach (var result in sweep.Removed)
            {
                context.Error.WriteLine(result.WasUp
                    ? $"lab {result.Id}: removed {result.Namespaces.Count} namespaces, {result.EtcEntries} /etc/netns entries, stopped {result.StoppedProcesses.Count} processes"
                    : $"lab {result.Id}: nothing to remove");
            }

            foreach (var kept in sweep.Kept)
            {
                context.Error.WriteLine($"lab {kept.Id}: kept, its owner (pid {kept.Owner.Pid}) still runs; 'lab down --id {kept.Id}' or '--all --force' removes it");
            }

            if (sweep.Removed.Count == 0 && sweep.Kept.Count == 0)
            {
                context.Error.WriteLine("no lab leftovers found");
            }

            context.Error.WriteLine($"down in {clock.Elapsed.TotalSeconds:0.00} s");
            return ExitCodes.Ok;
        });
    }
}

internal sealed class LabRunCommand : Command
{
    public LabRunCommand(CliContext context)
        : base("run", "Up, verify, report, down (always, also on failure, Ctrl-C or SIGTERM: then exit 130). A lab id that is up already is refused (exit 2) and left alone. Exit 0 only if every check passed. The embedded seed topology when there is no -f and no ./egress.yaml.")
    {
        var file = LabCli.FileOption();
        var id = LabCli.IdOption("Lab id (default: a fresh random one).");
        var naive = new Option<bool>("--naive") { Description = "Run the seed's naive design (expected to fail, with the reason counted)." };
        var verify = new VerifyCliOptions();
        var instances = LabCli.InstancesOption();
        var eipDelay = LabCli.EipDelayOption();
        Options.Add(file);
        Options.Add(id);
        Options.Add(naive);
        Options.Add(instances);
        Options.Add(eipDelay);
        verify.AddTo(this);
        SetAction((parse, cancellationToken) => LabCli.ReportingUpFailuresAsync(context, async () =>
        {
            LabCli.RequireRoot("run");
            var topology = LabCli.LoadTopology(context, parse.GetValue(file));
            var labId = parse.GetValue(id) is { } given ? LabCli.ValidId(given) : LabNames.RandomId();
            verify.OptionsFrom(parse); // bad verify options are exit 2 before anything is built
            RunningLab? lab = null;
            try
            {
                // A lab that is up already (or any failure to build) is never this run's to remove: UpAsync touches no
                // lab it did not claim, and removes what it built itself when it fails or is cancelled.
                lab = await LabCli.UpAsync(context, topology, labId, parse.GetValue(naive), cancellationToken, parse.GetValue(instances), parse.GetValue(eipDelay));
                return await LabCli.VerifyAsync(context, parse, verify, lab, cancellationToken);
            }
            finally
            {
                if (lab is not null)
                {
                    var down = await LabController.Default.DownAsync(labId, CancellationToken.None);
                    context.Error.WriteLine(down.WasUp ? $"lab {labId} removed ({down.Namespaces.Count} namespaces)" : $"lab {labId}: nothing left to remove");
                }
            }
        }));
    }
}

/// <summary>Hidden: the lab's services process, started by `lab up` inside the internet namespace.</summary>
internal sealed class LabServeCommand : Command
{
    public LabServeCommand()
        : base("serve", "Run the lab's internet services (started by 'lab up'; not for direct use).")
    {
        Hidden = true;
        var id = new Option<string>("--id") { Required = true };
        Options.Add(id);
        SetAction(async (parse, cancellationToken) =>
        {
            await RunningLab.ServeAsync(LabCli.ValidId(parse.GetValue(id)!), cancellationToken);
            return ExitCodes.Ok;
        });
    }
}

/// <summary>lab reboot HOST: a graceful reboot of a VM host (its systemd reboots it; the unit applies the script at boot).</summary>
internal sealed class LabRebootCommand : Command
{
    public LabRebootCommand(CliContext context)
        : base("reboot", "Reboot a host of a VM lab gracefully (Ctrl-Alt-Del through QEMU: systemd reboots, as on EC2's RebootInstances). 'lab verify' passes again once it is back.")
    {
        var host = new Argument<string>("HOST") { Description = "A host of the topology." };
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        Arguments.Add(host);
        Options.Add(id);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot("reboot");
            var lab = LabCli.Open(LabCli.RunningId(parse.GetValue(id)));
            var name = parse.GetValue(host)!;
            if (lab.Manifest.Instances != LabInstances.Vm)
            {
                throw new UsageException($"lab {lab.Id} runs its hosts in namespaces, which have no boot to go through; 'lab up --instances vm' makes hosts that reboot.");
            }

            if (lab.Plan.Hosts.All(h => h.Name != name))
            {
                throw new UsageException($"lab {lab.Id} has no host '{name}'; hosts: {string.Join(", ", lab.Plan.Hosts.Select(h => h.Name))}.");
            }

            try
            {
                await VmLab.RebootAsync(new VmFiles(lab.State), name, cancellationToken);
            }
            catch (LabException ex)
            {
                throw new UsageException(ex.Message);
            }

            context.Error.WriteLine($"{name} is rebooting; its console: {new VmFiles(lab.State).Console(name)}");
            return ExitCodes.Ok;
        });
    }
}

/// <summary>Hidden: a VPC's instance metadata service (IMDSv2) for the lab's VMs, started by `lab up --instances vm`
/// inside the region's router namespace, at 169.254.169.254:80.</summary>
internal sealed class LabMetadataCommand : Command
{
    public LabMetadataCommand()
        : base("metadata", "Run a VPC's instance metadata service for the lab's VMs (started by 'lab up --instances vm'; not for direct use).")
    {
        Hidden = true;
        var id = new Option<string>("--id") { Required = true };
        var region = new Option<string>("--region") { Required = true };
        Options.Add(id);
        Options.Add(region);
        SetAction(async (parse, cancellationToken) =>
        {
            var lab = RunningLab.Open(LabCli.ValidId(parse.GetValue(id)!));
            var files = new VmFiles(lab.State);
            var name = parse.GetValue(region)!;
            await File.WriteAllTextAsync(files.MetadataPid(name), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
            var key = await File.ReadAllTextAsync(files.PublicKey, cancellationToken);
            var instances = VmInstancePlanner.Plan(lab.Plan).Where(i => i.Region == name)
                .Select(i => new InstanceMetadata(i, key, File.ReadAllBytes(files.UserData(i.Host))))
                .ToList();
            await InstanceMetadataService.RunAsync(System.Net.IPAddress.Parse(LabWorldPlan.MetadataAddress.ToString()), instances, files.MetadataRequests(name),
                () => File.WriteAllText(files.MetadataReady(name), "ready\n"), cancellationToken);
            return ExitCodes.Ok;
        });
    }
}
