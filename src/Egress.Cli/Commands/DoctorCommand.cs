using Egress.Core;
using System.CommandLine;
using System.Text.Json;
using Egress.Aws.Execution;
using Egress.Aws.Remote;
using Egress.Core.Topology;
using Egress.Doctor;
using Egress.Processes;
using Egress.Host.Rendering;
using Egress.Lab;
using Egress.Verify;

namespace Egress.Cli.Commands;

/// <summary>egress doctor: the seed's troubleshooting guide as one walk along the path (docs/doctor.md).</summary>
internal sealed class DoctorCommand : Command
{
    public DoctorCommand(CliContext context)
        : base("doctor", "Find why egress does not work: walk the path client → tunnel → gateway → NAT → internet, starting from the stack's intended state (AWS's resources read-only, or the lab's), stop at the first broken link and name its cause, the evidence, the fix and whether 'egress apply' or 'egress-host apply' makes it. Exit 0 healthy, 1 findings, 2 bad input. See docs/doctor.md.")
    {
        var aws = new AwsVerb(context, this, desiredState: false);
        var lab = new Option<string?>("--lab")
        {
            Description = "Diagnose a running lab instead of AWS (root): its id, or none for the only lab that is up.",
            HelpName = "ID",
            Arity = ArgumentArity.ZeroOrOne,
        };
        Options.Add(lab);
        var (privateKey, knownHosts) = AwsVerb.AddRemoteAccessOptions(this);
        SetAction(async (parse, cancellationToken) =>
        {
            var json = parse.GetValue(aws.Output) == OutputFormat.Json;
            if (parse.GetResult(lab) is not null)
            {
                LabCli.RequireRoot("doctor --lab");
                var running = LabCli.Open(LabCli.RunningId(parse.GetValue(lab)));
                var report = await DoctorWalk.RunAsync(LabEnvironment(running), cancellationToken: cancellationToken);
                return Print(context, report, json);
            }

            var topology = aws.Topology(parse);
            var access = new RemoteAccess
            {
                PrivateKeyFile = parse.GetValue(privateKey) is { } key ? context.Resolve(key) : null,
                KnownHostsFile = context.Resolve(parse.GetValue(knownHosts)!),
            };
            var desired = aws.Desired(parse, topology);
            return await aws.RunAsync(parse, async (provisioner, ports) =>
            {
                var observed = await provisioner.DiscoverAsync(topology.Stack, Aws.AwsProvisioner.RegionsOf(topology), cancellationToken);
                var environmentChecks = AwsFindings.Judge(topology, desired, observed);
                var runners = new Dictionary<string, ICommandRunner>();
                // Hosts are reached only when AWS itself looks right: a stopped instance or a missing peering is the cause then.
                if (!environmentChecks.Any(c => c.Status == DoctorStatus.Finding))
                {
                    foreach (var host in topology.Hosts)
                    {
                        var remote = await RemoteRunners.ForHostAsync(ports, topology, host.Name, access, context.Time, new RetryPolicy(context.Time),
                            message => context.Error.WriteLine(message), cancellationToken);
                        context.Error.WriteLine($"{host.Name}: {remote.Description}");
                        runners[host.Name] = remote.Runner;
                    }
                }

                var resolved = OverlayPolicy.ForEc2(topology);
                // The walk gathers every link's evidence at once and judges the environment first: a host left unreached has a
                // runner that runs nothing, whose evidence the walk never judges (it stops at the environment link).
                var hosts = new VerifyEnvironment("aws", resolved, host => runners.GetValueOrDefault(host) ?? NotReached.Runner, VerifyCommand.PublicAddresses(topology, observed), LatencyEmulated: false,
                    _ => new CommandSpec("sudo", ["-n", "/bin/sh", HostScript.InstalledPath, "check"]) { Timeout = TimeSpan.FromMinutes(1) });
                var report = await DoctorWalk.RunAsync(new DoctorEnvironment(hosts) { EnvironmentChecks = _ => Task.FromResult(environmentChecks) }, cancellationToken: cancellationToken);
                return Print(context, report, json);
            });
        });
    }

    /// <summary>A host doctor does not reach because AWS itself has findings: every command "fails" at once, unrun.</summary>
    private sealed class NotReached : ICommandRunner
    {
        public static readonly NotReached Runner = new();

        public Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default) =>
            Task.FromResult(new CommandResult(255, string.Empty, "not reached: the AWS environment has findings", TimeSpan.Zero));
    }

    /// <summary>A lab as the doctor's environment: its hosts through their namespaces, and as AWS's side the lab's
    /// emulation of it (a gateway cut off as by a dead instance, a peering link down, the internet's services).</summary>
    internal static DoctorEnvironment LabEnvironment(RunningLab lab)
    {
        var topology = lab.Topology with { Overlay = lab.Topology.Overlay with { Mode = lab.Manifest.Overlay } };
        var hosts = new VerifyEnvironment("lab", topology, host => lab.RunnerFor(host), lab.PublicAddresses, lab.LatencyEmulated, lab.CheckCommand);
        return new DoctorEnvironment(hosts) { EnvironmentChecks = ct => LabChecksAsync(lab, ct) };
    }

    private static async Task<IReadOnlyList<DoctorCheck>> LabChecksAsync(RunningLab lab, CancellationToken cancellationToken)
    {
        var state = await LabController.Default.EmulationStateAsync(lab, cancellationToken);
        var checks = new List<DoctorCheck>();
        foreach (var gateway in lab.Plan.Hosts.Where(h => h.Role == HostRole.Gateway))
        {
            var expected = $"{gateway.Name} running";
            checks.Add(state.CutGateways.Contains(gateway.Name)
                ? DoctorCheck.Broken("instance.running", PathLink.Environment, gateway.Name, expected, "cut off: it drops every packet (as an instance that died)",
                    $"'egress lab heal {gateway.Name}' (on AWS: start the instance; a standby in egressVia carries egress meanwhile)", FixedBy.Manual)
                : DoctorCheck.Healthy("instance.running", PathLink.Environment, gateway.Name, expected, "running"));
        }

        foreach (var peering in lab.Plan.Peerings)
        {
            var expected = $"the peering {peering.Requester} <-> {peering.Accepter} active";
            var down = state.PeeringsDown.Where(p => p.Requester == peering.Requester && p.Accepter == peering.Accepter).ToList();
            checks.Add(down.Count > 0
                ? DoctorCheck.Broken("peering.active", PathLink.Environment, null, expected,
                    string.Join("; ", down.Select(d => $"its link {d.Interface} is {d.State} on the {d.Side} side")),
                    "on AWS: the peering must be active (accepted in the accepter region) with a route to the peer VPC in both route tables: 'egress apply'. In the lab: 'egress lab down' and 'up'",
                    FixedBy.EgressApply)
                : DoctorCheck.Healthy("peering.active", PathLink.Environment, null, expected, "active"));
        }

        checks.Add(state.ServicesUp
            ? DoctorCheck.Healthy("lab.services", PathLink.Environment, null, "the lab's internet services running", "running")
            : DoctorCheck.Broken("lab.services", PathLink.Environment, null, "the lab's internet services running", "the services process is gone",
                "'egress lab down' and 'egress lab up'", FixedBy.Manual));
        return checks;
    }

    private static int Print(CliContext context, DoctorReport report, bool json)
    {
        if (json)
        {
            context.Output.WriteLine(JsonSerializer.Serialize(
                new DoctorDocument(report.Environment, report.Healthy, report.StoppedAt is { } s ? DoctorWalk.Name(s) : null,
                    Math.Round(report.Elapsed.TotalMilliseconds), report.Findings.Select(Json).ToList(), report.Checks.Select(Json).ToList()),
                CliJson.Egress.DoctorDocument));
        }
        else
        {
            foreach (var group in report.Checks.GroupBy(c => c.Link))
            {
                context.Output.WriteLine($"{DoctorWalk.Name(group.Key)}:");
                foreach (var check in group)
                {
                    var mark = check.Status switch { DoctorStatus.Healthy => "ok  ", DoctorStatus.Finding => "FAIL", _ => "skip" };
                    context.Output.WriteLine($"  {mark} {check.Id}{(check.Host is { } h ? $" [{h}]" : string.Empty)}: {check.Seen}");
                    if (check.Status == DoctorStatus.Finding)
                    {
                        context.Output.WriteLine($"       expected: {check.Expected}");
                        context.Output.WriteLine($"       fix ({FixedByText(check.FixedBy)}): {check.Fix}");
                    }
                }
            }

            var findings = report.Findings.ToList();
            context.Output.WriteLine(findings.Count == 0
                ? $"healthy: every link of the path holds ({report.Checks.Count} checks, {report.Elapsed.TotalSeconds:0.0} s)"
                : $"{findings.Count} finding{(findings.Count == 1 ? string.Empty : "s")} at the {DoctorWalk.Name(report.StoppedAt!.Value)} link; the links after it were not looked at ({report.Elapsed.TotalSeconds:0.0} s)");
        }

        return report.Healthy ? ExitCodes.Ok : ExitCodes.CheckFailed;
    }

    private static DoctorCheckDocument Json(DoctorCheck c) => new(c.Id, DoctorWalk.Name(c.Link), c.Host, c.Status.ToString().ToLowerInvariant(),
        c.Expected, c.Seen, c.Fix, c.FixedBy is { } f ? FixedByText(f) : null);

    private static string FixedByText(FixedBy? by) => by switch
    {
        FixedBy.EgressApply => "egress apply",
        FixedBy.EgressHostApply => "egress-host apply",
        FixedBy.Topology => "a topology change",
        _ => "by hand",
    };
}
