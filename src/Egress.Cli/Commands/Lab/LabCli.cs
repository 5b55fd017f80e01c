using System.CommandLine;
using System.Diagnostics;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Lab;
using Egress.Lab.Vm;
using Egress.Lab.World;

namespace Egress.Cli.Commands;

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

    public static Option<string?> EipDelayOption() => new("--eip-delay")
    {
        Description = "With --instances vm: when the gateways' Elastic IPs are associated (their IGW NAT starts), as on AWS where that comes after launch: 'boot' (default) once their cloud-init finished, so first boot runs without internet; or SECONDS after launch (0 to 3600).",
        HelpName = "boot|SECONDS",
    };

    /// <summary>--eip-delay as the VM lab's option: null for 'boot' (or not given), else seconds in 0..3600; else exit 2.</summary>
    public static TimeSpan? ParseEipDelay(string? value, LabInstances instances)
    {
        if (value is null)
        {
            return null;
        }

        if (instances != LabInstances.Vm)
        {
            throw new UsageException("--eip-delay goes with --instances vm (a namespace lab has no boot to wait for).");
        }

        if (value == "boot")
        {
            return null;
        }

        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds <= 3600
            ? TimeSpan.FromSeconds(seconds)
            : throw new UsageException($"--eip-delay {value}: give 'boot' (associate once the gateways' cloud-init finished) or 0 to 3600 seconds.");
    }

    public static Option<string[]> ResolverDelayOption() => new("--resolver-delay")
    {
        Description = $"Make a region's VPC resolver answer every query after MS milliseconds (1 to {Egress.Lab.Services.LabResolverDelay.MaxDelayMs}), like a slow or far resolver; repeat for more regions (docs/lab.md).",
        HelpName = Egress.Lab.Services.LabResolverDelay.OptionHelp,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>--resolver-delay values as the lab's option (region → ms); else exit 2 naming the value and the fix.</summary>
    public static IReadOnlyDictionary<string, int> ParseResolverDelays(IReadOnlyList<string> values, TopologyModel topology)
    {
        try
        {
            return Egress.Lab.Services.LabResolverDelay.Parse(values, topology);
        }
        catch (LabException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

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

    /// <summary>`egress lab resolver --id ID --region REGION`: a region's delaying resolver, started in its router's namespace.</summary>
    public static CommandSpec ResolverCommand(string id, string region) => Self(["lab", "resolver", "--id", id, "--region", region]);

    /// <summary>This egress with <paramref name="arguments"/>: the apphost when that is what runs, else `dotnet egress.dll`.</summary>
    public static CommandSpec Self(IReadOnlyList<string> arguments)
    {
        var process = Environment.ProcessPath ?? "dotnet";
        // Not Assembly.Location: empty in a single-file or native build. A framework-dependent build's egress.dll sits in its base directory.
        var assembly = Path.Combine(AppContext.BaseDirectory, "egress.dll");
        return Path.GetFileNameWithoutExtension(process) == "egress"
            ? new CommandSpec(process, arguments)
            : new CommandSpec(DotnetHost(process), [assembly, .. arguments]);
    }

    private static string DotnetHost(string process) =>
        Path.GetFileNameWithoutExtension(process) == "dotnet" ? process
        : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : "dotnet";

    public static async Task<RunningLab> UpAsync(CliContext context, TopologyModel topology, string id, bool naive, CancellationToken cancellationToken, LabInstances instances = LabInstances.Namespaces, string? eipDelayOption = null, IReadOnlyList<string>? resolverDelayOptions = null)
    {
        var eipDelay = ParseEipDelay(eipDelayOption, instances);
        var resolverDelays = ParseResolverDelays(resolverDelayOptions ?? [], topology);

        if (instances == LabInstances.Vm && naive)
        {
            throw new UsageException("--naive and --instances vm do not go together: a naive lab has no host scripts to boot with.");
        }

        RequireRoot(naive ? "up --naive" : "up");
        try
        {
            // One policy for both kinds of lab: install what is missing, or refuse (exit 2) naming it; never a bug's exit 70.
            await LabPackages.EnsureAsync(ProcessRunner.Instance, m => context.Error.WriteLine(m), instances, cancellationToken: cancellationToken);
            var clock = Stopwatch.StartNew();
            context.Error.WriteLine($"lab {id}: building {topology.Stack}{(naive ? " (NAIVE: the seed's 0.0.0.0/0 → peering design, no overlay)" : string.Empty)}");
            var lab = await LabController.Default.UpAsync(new LabUpOptions
            {
                Topology = topology,
                Id = id,
                Naive = naive,
                ServicesCommand = ServicesCommand,
                ResolverDelays = resolverDelays,
                ResolverCommand = ResolverCommand,
                Scripts = HostRendererScripts.Instance,
                Progress = m => context.Error.WriteLine("  " + m),
                Vms = instances == LabInstances.Vm
                    ? new VmLabOptions
                    {
                        UserData = host => HostUserData.Render(topology, host),
                        MetadataCommand = MetadataCommand,
                        EipDelay = eipDelay,
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
        void Line(string text) => CliText.WriteLine(context.Error, text, context.Width);

        Line("counters (packets):");
        Line("  IGW NAT out/in (conn): " + string.Join(", ", counters.IgwNatOut.Select(c => $"{c.Key} {c.Value}/{counters.IgwNatIn.GetValueOrDefault(c.Key)}")));
        Line("  IGW drops:             " + string.Join(", ", counters.IgwDrops.Select(c => $"{c.Key} {c.Value}")));
        Line("  peering edge-to-edge:  " + string.Join(", ", counters.PeeringDrops.Select(c => $"{c.Key} {c.Value}")));
        Line("  peering frag-needed:   " + string.Join(", ", counters.PeeringFragNeededDrops.Select(c => $"{c.Key} {c.Value}")));
        Line("  security-group drops:  " + string.Join(", ", counters.SecurityGroupDrops.Select(c => $"{c.Key} {c.Value}")));
        Line("  gateway forward drops: " + string.Join(", ", counters.GatewayForwardDrops.Select(c => $"{c.Key} {c.Value}")));
        foreach (var (region, flows) in counters.Dropped.Where(d => d.Value.Count > 0))
        {
            Line($"  dropped in {region}: " + string.Join("; ", flows.OrderByDescending(f => f.Packets).Take(5).Select(f => $"{f.Point} {f}")));
        }
    }
}
