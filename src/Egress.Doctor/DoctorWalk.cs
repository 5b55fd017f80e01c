using System.Diagnostics;
using System.Globalization;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Rendering;
using Egress.Verify;
using Egress.Verify.Probes;
using TopologyHost = Egress.Core.Topology.Host;

namespace Egress.Doctor;

/// <summary>Where the doctor looks: the hosts as the verify suite reaches them (the lab's namespaces, SSH or SSM), and
/// the checks only the environment can make (AWS's describe calls, or the lab's emulated peering and instances).</summary>
/// <param name="Hosts">A runner and a check command per host; the topology (its overlay mode resolved); public addresses.</param>
public sealed record DoctorEnvironment(VerifyEnvironment Hosts)
{
    /// <summary>The <see cref="PathLink.Environment"/> checks; none when null.</summary>
    public Func<CancellationToken, Task<IReadOnlyList<DoctorCheck>>>? EnvironmentChecks { get; init; }
}

/// <summary>Limits the doctor judges against.</summary>
public sealed record DoctorOptions
{
    /// <summary>A name that takes longer to resolve is a finding (the seed: slow DNS makes requests slow).</summary>
    public TimeSpan SlowDns { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>CPU steal above this share of the gateway's CPU time (a t3 out of CPU credits shows it).</summary>
    public double MaxStealPercent { get; init; } = 10;

    /// <summary>Connection tracking entries above this share of nf_conntrack_max.</summary>
    public double MaxConntrackPercent { get; init; } = 80;

    /// <summary>How long the gateway's CPU is sampled for steal.</summary>
    public TimeSpan StealSample { get; init; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>The walk client → tunnel → gateway → NAT → internet: gathers each host's check report and probes, judges the
/// links in order (<see cref="PathLink"/>) and stops at the first with a finding; the links after it are skipped, since
/// what they would show follows from the break.</summary>
public static class DoctorWalk
{
    public static async Task<DoctorReport> RunAsync(DoctorEnvironment environment, DoctorOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(environment);
        options ??= new DoctorOptions();
        var clock = Stopwatch.StartNew();
        var env = environment.Hosts;
        var topology = env.Topology;
        var hosts = topology.Hosts.Where(h => TunnelPairs.ForHost(topology, h).Count > 0).ToList();

        // Evidence first, all hosts at once: each host's check report, and the gateways' counters.
        var reports = hosts.ToDictionary(h => h.Name, h => CheckAsync(env, h.Name, cancellationToken));
        var gatewayProbes = hosts.Where(h => h.Role == HostRole.Gateway)
            .ToDictionary(h => h.Name, h => RunAsync(env.RunnerFor(h.Name), GatewayProbe.Command(options.StealSample), cancellationToken));
        var uplinkMtus = hosts.ToDictionary(h => h.Name, h => RunAsync(env.RunnerFor(h.Name), UplinkMtu.Command, cancellationToken));
        var environmentChecks = environment.EnvironmentChecks?.Invoke(cancellationToken) ?? Task.FromResult<IReadOnlyList<DoctorCheck>>([]);

        // The probes that cross the path start together once both tunnel ends are judged sound (read-only, so starting
        // the later links' probes before the earlier are judged saves their wait; before that point a probe could teach
        // the kernel a path MTU of a broken path).
        var probes = new Lazy<PathProbes>(() => PathProbes.Start(env, hosts, reports, options, cancellationToken));

        // Which failed invariants follow from another, over every host's report (a gateway's tunnel end down explains its
        // clients' derived facts): judged once every report is in, before the first host link.
        var attribution = new Lazy<Task<Attribution>>(() => AttributeAsync(reports));

        var links = new List<(PathLink Link, Func<Task<IReadOnlyList<DoctorCheck>>> Judge)>
        {
            (PathLink.Environment, async () => await environmentChecks),
            (PathLink.Client, async () => await HostLinkAsync(PathLink.Client, hosts.Where(h => h.Role == HostRole.Client), reports, gatewayProbes, options, await attribution.Value)),
            (PathLink.Gateway, async () => await HostLinkAsync(PathLink.Gateway, hosts.Where(h => h.Role == HostRole.Gateway), reports, gatewayProbes, options, await attribution.Value)),
            (PathLink.Tunnel, async () => await TunnelAsync(env, hosts, reports, uplinkMtus, probes, await attribution.Value)),
            (PathLink.Egress, async () => await EgressAsync(env, hosts, reports, probes.Value, await attribution.Value)),
            (PathLink.Dns, async () => await DnsAsync(hosts, reports, options, probes.Value, await attribution.Value)),
        };

        var checks = new List<DoctorCheck>();
        PathLink? stoppedAt = null;
        foreach (var (link, judge) in links)
        {
            if (stoppedAt is { } broken)
            {
                checks.Add(DoctorCheck.Skipped(Name(link), link, null, $"the {Name(link)} link healthy", $"not looked at: the {Name(broken)} link is broken"));
                continue;
            }

            var found = await judge();
            checks.AddRange(found);
            if (found.Any(c => c.Status == DoctorStatus.Finding))
            {
                stoppedAt = link;
            }
        }

        // Evidence gathered for links the walk did not reach is not judged, but its commands are left to finish.
        await Task.WhenAll(reports.Values.Cast<Task>().Concat(gatewayProbes.Values).Concat(uplinkMtus.Values).Concat(probes.IsValueCreated ? probes.Value.All : []));
        return new DoctorReport(env.Name, checks, stoppedAt, clock.Elapsed);
    }

    public static string Name(PathLink link) => link.ToString().ToLowerInvariant();

    private sealed record HostEvidence(CheckReport? Report, string? Problem, string? BootUnit);

    private static async Task<Attribution> AttributeAsync(Dictionary<string, Task<HostEvidence>> reports)
    {
        var judged = new Dictionary<string, CheckReport>(StringComparer.Ordinal);
        foreach (var (host, evidence) in reports)
        {
            if ((await evidence).Report is { } report)
            {
                judged[host] = report;
            }
        }

        return Attribution.Of(judged);
    }

    private static async Task<HostEvidence> CheckAsync(VerifyEnvironment env, string host, CancellationToken ct)
    {
        var runner = env.RunnerFor(host);
        var check = RunAsync(runner, env.CheckCommand(host), ct);
        var unit = RunAsync(runner, new CommandSpec("sh", ["-c", $"systemctl is-enabled {HostScript.UnitName} 2>/dev/null"]) { Timeout = TimeSpan.FromSeconds(15) }, ct);
        var result = HostCheck.Parse(host, await check);
        var bootUnit = (await unit).StandardOutput.Trim() is { Length: > 0 } state ? state : null;
        // A check that ran and judged (exit 1, "ok": false) is evidence; one that could not run is the problem.
        return result.Report is { Invariants.Count: > 0 } report ? new HostEvidence(report, null, bootUnit) : new HostEvidence(null, result.Problem ?? "no report", bootUnit);
    }

    private static async Task<IReadOnlyList<DoctorCheck>> HostLinkAsync(
        PathLink link, IEnumerable<TopologyHost> hosts, Dictionary<string, Task<HostEvidence>> reports,
        Dictionary<string, Task<CommandResult>> gatewayProbes, DoctorOptions options, Attribution attribution)
    {
        var checks = new List<DoctorCheck>();
        foreach (var host in hosts)
        {
            var evidence = await reports[host.Name];
            if (evidence.Report is not { } report)
            {
                checks.Add(DoctorCheck.Broken("host.check", link, host.Name, $"'egress-host check' runs on {host.Name} and reports",
                    evidence.Problem!, $"is {host.Name} running and reachable (SSM agent, SSH, the lab namespace)? Did its user data install /usr/local/sbin/egress-host (the console output shows cloud-init's run)?",
                    FixedBy.Manual));
                continue;
            }

            checks.AddRange(HostFindings.On(link, host.Name, host.Role, report, evidence.BootUnit, attribution));
            if (host.Role == HostRole.Gateway)
            {
                checks.AddRange(GatewayProbe.Judge(host.Name, await gatewayProbes[host.Name], options));
            }
        }

        return checks;
    }

    /// <summary>The probes that cross the path, started at once: a don't-fragment ping per tunnel, the IP echo and the
    /// name lookups per client.</summary>
    private sealed record PathProbes(
        IReadOnlyDictionary<TunnelPair, Task<CommandResult>> MtuPings,
        IReadOnlyDictionary<string, Task<CommandResult>> Echoes,
        IReadOnlyDictionary<string, Task<CommandResult>> Lookups,
        IReadOnlyList<string> Names)
    {
        /// <summary>Full-size don't-fragment echoes per tunnel.</summary>
        public const int MtuEchoes = 2;

        public IEnumerable<Task> All => MtuPings.Values.Concat(Echoes.Values).Concat(Lookups.Values);

        public static PathProbes Start(VerifyEnvironment env, List<TopologyHost> hosts, Dictionary<string, Task<HostEvidence>> reports, DoctorOptions options, CancellationToken ct)
        {
            var mtu = env.Topology.Overlay.TunnelMtu;
            var pings = TunnelPairs.Of(env.Topology).ToDictionary(p => p, p => RunAsync(env.RunnerFor(p.Client.Name), Ping.To(p.GatewayAddress.ToString(), MtuEchoes,
                "-M", "do", "-s", (mtu - 28).ToString(CultureInfo.InvariantCulture), "-I", Egress.Host.Plan.HostPlanner.TunnelName(p)), ct));
            var clients = hosts.Where(h => h.Role == HostRole.Client).Select(h => h.Name).ToList();
            var echoes = clients.ToDictionary(c => c, c => RunAsync(env.RunnerFor(c), Curl.WithBody(env.Topology.Verify.IpEcho, TimeSpan.FromSeconds(10)), ct));
            var names = env.Topology.Verify.Targets.Append(env.Topology.Verify.IpEcho).Select(u => u.Host).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            var lookups = clients.ToDictionary(c => c, c => RunAsync(env.RunnerFor(c), Resolve.Command(names), ct));
            return new PathProbes(pings, echoes, lookups, names);
        }
    }

    private static async Task<IReadOnlyList<DoctorCheck>> TunnelAsync(
        VerifyEnvironment env, List<TopologyHost> hosts, Dictionary<string, Task<HostEvidence>> reports, Dictionary<string, Task<CommandResult>> uplinkMtus, Lazy<PathProbes> probes, Attribution attribution)
    {
        var checks = new List<DoctorCheck>();
        foreach (var host in hosts)
        {
            if (await reports[host.Name] is { Report: { } report } evidence)
            {
                checks.AddRange(HostFindings.On(PathLink.Tunnel, host.Name, host.Role, report, evidence.BootUnit, attribution));
            }
        }

        if (checks.Any(c => c.Status == DoctorStatus.Finding))
        {
            return checks;
        }

        // Each end's uplink carries its tunnel's packets with the overlay's header on.
        foreach (var host in hosts)
        {
            if ((await reports[host.Name]).Report is { } report)
            {
                var tunnels = TunnelPairs.ForHost(env.Topology, host).Select(Egress.Host.Plan.HostPlanner.TunnelName).ToList();
                checks.Add(UplinkMtu.Judge(host.Name, report, tunnels, env.Topology.Overlay.Mode, await uplinkMtus[host.Name]));
            }
        }

        if (checks.Any(c => c.Status == DoctorStatus.Finding))
        {
            return checks;
        }

        // Both ends configured and the gateways answer: packets of the full tunnel MTU cross the path with DF set.
        var mtu = env.Topology.Overlay.TunnelMtu;
        foreach (var (pair, ping) in probes.Value.MtuPings)
        {
            var result = await ping;
            var parsed = Ping.Parse(result, PathProbes.MtuEchoes);
            var expected = $"a {mtu}-byte don't-fragment packet from {pair.Client.Name} reaches {pair.Gateway.Name} ({pair.GatewayAddress}) through {Egress.Host.Plan.HostPlanner.TunnelName(pair)}";
            checks.Add(parsed.Reachable
                ? DoctorCheck.Healthy("path.mtu", PathLink.Tunnel, pair.Client.Name, expected, $"{parsed.Received}/{parsed.Transmitted} answered")
                : DoctorCheck.Broken("path.mtu", PathLink.Tunnel, pair.Client.Name, expected,
                    $"{parsed.Received}/{parsed.Transmitted} answered{(parsed.Problem is { } p ? ": " + p : string.Empty)}{(result.StandardError.Split('\n')[0].Trim() is { Length: > 0 } e ? " (" + e + ")" : string.Empty)}",
                    $"the path carries less than overlay.underlayMtu {env.Topology.Overlay.UnderlayMtu}: lower it in the topology to what the path carries (then 'egress render'/'egress apply'), or find the hop that drops ICMP fragmentation-needed",
                    FixedBy.Topology));
        }

        return checks;
    }

    private static async Task<IReadOnlyList<DoctorCheck>> EgressAsync(VerifyEnvironment env, List<TopologyHost> hosts, Dictionary<string, Task<HostEvidence>> reports, PathProbes probes, Attribution attribution)
    {
        var checks = new List<DoctorCheck>();
        foreach (var client in hosts.Where(h => h.Role == HostRole.Client))
        {
            var evidence = await reports[client.Name];
            var report = evidence.Report!;
            var routing = HostFindings.On(PathLink.Egress, client.Name, client.Role, report, evidence.BootUnit, attribution);
            checks.AddRange(routing);
            if (routing.Any(c => c.Status == DoctorStatus.Finding))
            {
                continue;
            }

            var gateway = report.ActiveGateway ?? client.EgressVia[0];
            var expectedIp = env.PublicAddresses.TryGetValue(gateway, out var address) ? address.ToString() : null;
            var echo = env.Topology.Verify.IpEcho;
            var output = Curl.Parse(await probes.Echoes[client.Name], 1);
            string? problem = null;
            var answer = output.Samples.Count == 0 ? null
                : output.Samples[0].Failure is { } failure ? null
                : IpEcho.Parse(output.Body, out problem);
            problem ??= output.Samples.Count == 0 ? string.Join("; ", output.Problems) : output.Samples[0].Failure;
            var expected = $"the internet ({echo.Host}) sees {gateway}'s public address {expectedIp ?? "(unknown)"}";
            if (answer is null)
            {
                checks.Add(DoctorCheck.Broken("egress.ip", PathLink.Egress, client.Name, expected, $"no answer from {echo}: {problem}",
                    $"{client.Name} reaches {gateway} through the tunnel, so the NAT's way out is broken: is {gateway}'s Elastic IP associated (and its route table's 0.0.0.0/0 to the internet gateway)? 'egress plan' shows a missing one, 'egress apply' restores it",
                    FixedBy.EgressApply));
            }
            else if (expectedIp is not null && answer.Ip != expectedIp)
            {
                checks.Add(DoctorCheck.Broken("egress.ip", PathLink.Egress, client.Name, expected, $"the echo sees {answer.Ip}",
                    $"traffic leaves from {answer.Ip}, not the gateway's Elastic IP: is {gateway}'s Elastic IP associated with it ('egress apply'), or does the client fail open?", FixedBy.EgressApply));
            }
            else
            {
                checks.Add(DoctorCheck.Healthy("egress.ip", PathLink.Egress, client.Name, expected, $"the echo sees {answer.Ip}"));
            }
        }

        return checks;
    }

    private static async Task<IReadOnlyList<DoctorCheck>> DnsAsync(
        List<TopologyHost> hosts, Dictionary<string, Task<HostEvidence>> reports, DoctorOptions options, PathProbes probes, Attribution attribution)
    {
        var checks = new List<DoctorCheck>();
        foreach (var client in hosts.Where(h => h.Role == HostRole.Client))
        {
            // Where the stub sends internet names (the client's check), then how long the names take.
            if (await reports[client.Name] is { Report: { } report } evidence)
            {
                checks.AddRange(HostFindings.On(PathLink.Dns, client.Name, client.Role, report, evidence.BootUnit, attribution));
            }

            checks.Add(Resolve.Judge(client.Name, probes.Names, await probes.Lookups[client.Name], options.SlowDns));
        }

        return checks;
    }

    internal static async Task<CommandResult> RunAsync(ICommandRunner runner, CommandSpec spec, CancellationToken ct)
    {
        try
        {
            return await runner.RunAsync(spec, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A command that cannot run is evidence (the host is unreachable), reported as such.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new CommandResult(255, string.Empty, $"{spec.Program} could not run: {ex.Message}", TimeSpan.Zero);
        }
    }
}
