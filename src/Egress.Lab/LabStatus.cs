using System.Text.Json;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Rendering;
using Egress.Lab.World;

namespace Egress.Lab;

public sealed record LabNamespaceStatus(string Name, string Role, string Owner, bool Exists, IReadOnlyList<string> Addresses);

public sealed record LabTunnelStatus(string Host, string Interface, string Kind, string State, int Mtu);

/// <summary>The lab's counters: IGW NAT per host, IGW drops per region, peering edge-to-edge drops and
/// ICMP frag-needed drops per region, security-group drops per host, what was dropped (by packet), and the gateways'
/// forward drops (from the host script's nftables).</summary>
public sealed record LabCounters
{
    public required IReadOnlyDictionary<string, long> IgwNatOut { get; init; }

    public required IReadOnlyDictionary<string, long> IgwNatIn { get; init; }

    public required IReadOnlyDictionary<string, long> IgwDrops { get; init; }

    public required IReadOnlyDictionary<string, long> PeeringDrops { get; init; }

    public required IReadOnlyDictionary<string, long> PeeringFragNeededDrops { get; init; }

    public required IReadOnlyDictionary<string, long> GatewayForwardDrops { get; init; }

    /// <summary>Packets each host's emulated security group refused (at its VPC port).</summary>
    public IReadOnlyDictionary<string, long> SecurityGroupDrops { get; init; } = new Dictionary<string, long>();

    /// <summary>Per region, what its VPC router's drop points dropped, by packet (<see cref="LabDropLog"/>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<DroppedFlow>> Dropped { get; init; } = new Dictionary<string, IReadOnlyList<DroppedFlow>>();

    public long TotalPeeringDrops => PeeringDrops.Values.Sum();
}

public sealed record LabStatusReport
{
    /// <summary>docs/json.md.</summary>
    public int SchemaVersion { get; init; } = 1;

    public required string Id { get; init; }

    public required string Stack { get; init; }

    public required bool Naive { get; init; }

    public required string Overlay { get; init; }

    public required string Latency { get; init; }

    public required int? ServicesPid { get; init; }

    public required IReadOnlyList<LabNamespaceStatus> Namespaces { get; init; }

    public required IReadOnlyDictionary<string, string?> PublicAddresses { get; init; }

    public required IReadOnlyList<LabTunnelStatus> Tunnels { get; init; }

    public required IReadOnlyList<HostCheckResult> Checks { get; init; }

    public required LabCounters Counters { get; init; }

    /// <summary>Each client's failover watcher: which gateway its egress goes through now.</summary>
    public IReadOnlyList<LabFailoverStatus> Failover { get; init; } = [];

    /// <summary>`lab up --resolver-delay`: each delayed region's forwarder (without it, that resolver answers nothing).</summary>
    public IReadOnlyList<LabResolverDelayStatus> ResolverDelays { get; init; } = [];

    /// <summary>Every namespace exists, the services run, every host's check passes, every client's failover watcher
    /// runs under its supervisor (a dead watcher means a later gateway failure would neither fail over nor fail closed),
    /// and every delaying resolver forwarder runs.</summary>
    public bool Healthy => ServicesPid is not null && Namespaces.All(n => n.Exists) && Checks.All(c => c.Passed) && Failover.All(f => f.Healthy)
        && ResolverDelays.All(r => r.Pid is not null);
}

/// <summary>A region whose VPC resolver answers after <see cref="DelayMs"/>: its forwarder's PID when alive.</summary>
public sealed record LabResolverDelayStatus(string Region, int DelayMs, int? Pid);

/// <summary>A client's watcher: its PID when alive, whether its supervisor (which restarts it) runs, and the active
/// gateway from its state file ("-" = none: every gateway down, the policy applies; null = no state yet).</summary>
public sealed record LabFailoverStatus(string Client, int? WatcherPid, string? ActiveGateway, IReadOnlyList<string> GatewayStates)
{
    public bool Supervised { get; init; }

    public bool Healthy => WatcherPid is not null && Supervised;
}

/// <summary>Reads a running lab's state from the machine: namespaces, addresses, tunnels, checks, counters.</summary>
public static class LabStatusCollector
{
    /// <summary>Reads each client's watcher and supervisor PID files and its state file; none for a naive lab (no watchers).</summary>
    public static IReadOnlyList<LabFailoverStatus> Failover(RunningLab lab)
    {
        ArgumentNullException.ThrowIfNull(lab);
        if (lab.Manifest.Naive)
        {
            return [];
        }

        return [.. lab.Plan.Hosts.Where(h => h.Role == Core.Topology.HostRole.Client).Select(h =>
        {
            var pid = LabController.TryReadPid(lab.State.WatcherPid(h.Name)) is { } p && LabController.IsAlive(p) ? p : (int?)null;
            var supervised = LabController.TryReadPid(lab.State.WatcherSupervisorPid(h.Name)) is { } s && LabController.IsAlive(s);
            var path = lab.State.FailoverState(h.Name);
            var lines = File.Exists(path) ? File.ReadAllLines(path) : [];
            var active = lines.FirstOrDefault(l => l.StartsWith("active ", StringComparison.Ordinal))?.Split(' ')[1];
            var gateways = lines.Where(l => l.StartsWith("gateway ", StringComparison.Ordinal)).Select(l => string.Join(' ', l.Split(' ')[1..3])).ToList();
            return new LabFailoverStatus(h.Name, pid, active, gateways) { Supervised = supervised };
        })];
    }

    /// <summary>Each delayed region's forwarder, from its PID file (null when it does not run).</summary>
    public static IReadOnlyList<LabResolverDelayStatus> ResolverDelays(RunningLab lab)
    {
        ArgumentNullException.ThrowIfNull(lab);
        return [.. lab.Manifest.ResolverDelays.Select(d => new LabResolverDelayStatus(d.Key, d.Value,
            LabController.TryReadPid(lab.State.ResolverDelayFile(d.Key, "pid")) is { } pid && LabController.IsAlive(pid) ? pid : null))];
    }

    public static async Task<LabStatusReport> CollectAsync(RunningLab lab, ICommandRunner? runner = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        runner ??= ProcessRunner.Instance;
        var plan = lab.Plan;
        var existing = (await runner.RunAsync(CommandSpec.Of("ip", "netns", "list"), cancellationToken)).StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', 2)[0]).ToHashSet(StringComparer.Ordinal);
        var namespaces = await Task.WhenAll(plan.Namespaces.Select(async ns =>
        {
            var exists = existing.Contains(ns.Name);
            var addresses = exists ? await AddressesAsync(runner, ns.Name, cancellationToken) : [];
            return new LabNamespaceStatus(ns.Name, ns.Role.ToString().ToLowerInvariant(), ns.Owner, exists, addresses);
        }));
        var tunnels = new List<LabTunnelStatus>();
        var checks = new List<HostCheckResult>();
        foreach (var host in plan.Hosts.Where(h => existing.Contains(h.Namespace)))
        {
            tunnels.AddRange(await TunnelsAsync(runner, host, cancellationToken));
            if (File.Exists(lab.State.HostScript(host.Name)))
            {
                checks.Add(await CheckAsync(lab, host.Name, runner, cancellationToken));
            }
        }

        return new LabStatusReport
        {
            Id = lab.Id,
            Stack = lab.Topology.Stack,
            Naive = lab.Manifest.Naive,
            Overlay = lab.Manifest.OverlayNote,
            Latency = lab.Manifest.LatencyNote,
            ServicesPid = lab.ServicesPid,
            Namespaces = namespaces,
            PublicAddresses = plan.Hosts.ToDictionary(h => h.Name, h => h.PublicIp?.ToString()),
            Tunnels = tunnels,
            Checks = checks,
            Counters = await CountersAsync(lab, runner, cancellationToken),
            ResolverDelays = ResolverDelays(lab),
            Failover = Failover(lab),
        };
    }

    public static async Task<HostCheckResult> CheckAsync(RunningLab lab, string host, ICommandRunner? runner = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var result = await lab.RunnerFor(host, runner).RunAsync(lab.CheckCommand(host), cancellationToken);
        return HostCheck.Parse(host, result);
    }

    public static async Task<LabCounters> CountersAsync(RunningLab lab, ICommandRunner? runner = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        runner ??= ProcessRunner.Instance;
        var natOut = new Dictionary<string, long>();
        var natIn = new Dictionary<string, long>();
        var igwDrops = new Dictionary<string, long>();
        var pcxDrops = new Dictionary<string, long>();
        var fragDrops = new Dictionary<string, long>();
        var sgDrops = new Dictionary<string, long>();
        var dropped = new Dictionary<string, IReadOnlyList<DroppedFlow>>();
        foreach (var router in lab.Plan.Routers)
        {
            var table = await RouterTableAsync(runner, router.Namespace, cancellationToken);
            var counters = table is null ? new Dictionary<string, long>() : ParseNamedCounters(table);
            dropped[router.Region] = table is null ? [] : LabDropLog.Parse(table);
            igwDrops[router.Region] = counters.GetValueOrDefault(LabWorldPlanner.IgwDropCounter);
            pcxDrops[router.Region] = counters.GetValueOrDefault(LabWorldPlanner.PeeringDropCounter);
            fragDrops[router.Region] = counters.GetValueOrDefault(LabWorldPlanner.PeeringFragNeededCounter);
            foreach (var host in lab.Plan.Hosts.Where(h => h.Region == router.Region))
            {
                sgDrops[host.Name] = counters.GetValueOrDefault(LabWorldPlanner.SecurityGroupDropCounter(host.Name));
                if (host.PublicIp is not null)
                {
                    natOut[host.Name] = counters.GetValueOrDefault(LabWorldPlanner.IgwOutCounter(host.Name));
                    natIn[host.Name] = counters.GetValueOrDefault(LabWorldPlanner.IgwInCounter(host.Name));
                }
            }
        }

        var gatewayDrops = new Dictionary<string, long>();
        foreach (var gateway in lab.Plan.Hosts.Where(h => h.Role == HostRole.Gateway))
        {
            gatewayDrops[gateway.Name] = await GatewayDropsAsync(runner, gateway.Namespace, cancellationToken);
        }

        return new LabCounters
        {
            IgwNatOut = natOut,
            IgwNatIn = natIn,
            IgwDrops = igwDrops,
            PeeringDrops = pcxDrops,
            PeeringFragNeededDrops = fragDrops,
            GatewayForwardDrops = gatewayDrops,
            SecurityGroupDrops = sgDrops,
            Dropped = dropped,
        };
    }

    /// <summary>The router's `table ip lab` as nft JSON (counters and drop-log sets), or null when it cannot be read.</summary>
    private static async Task<string?> RouterTableAsync(ICommandRunner runner, string ns, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(CommandSpec.Of("ip", "netns", "exec", ns, "nft", "-j", "list", "table", "ip", "lab"), cancellationToken);
        return result.Succeeded ? result.StandardOutput : null;
    }

    internal static Dictionary<string, long> ParseNamedCounters(string json)
    {
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(json);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("counter", out var counter) && counter.TryGetProperty("name", out var name))
            {
                counters[name.GetString()!] = counter.GetProperty("packets").GetInt64();
            }
        }

        return counters;
    }

    /// <summary>Packets dropped by counted drop rules of the gateway's `table ip egress` (the host script's forward filter).</summary>
    private static async Task<long> GatewayDropsAsync(ICommandRunner runner, string ns, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(CommandSpec.Of("ip", "netns", "exec", ns, "nft", "-j", "list", "table", "ip", "egress"), cancellationToken);
        return result.Succeeded ? SumDropCounters(result.StandardOutput) : 0;
    }

    internal static long SumDropCounters(string json)
    {
        long total = 0;
        using var document = JsonDocument.Parse(json);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("rule", out var rule) || !rule.TryGetProperty("expr", out var expr))
            {
                continue;
            }

            long packets = 0;
            var drops = false;
            foreach (var e in expr.EnumerateArray())
            {
                if (e.TryGetProperty("counter", out var c) && c.ValueKind == JsonValueKind.Object && c.TryGetProperty("packets", out var p))
                {
                    packets += p.GetInt64();
                }

                drops |= e.TryGetProperty("drop", out _);
            }

            if (drops)
            {
                total += packets;
            }
        }

        return total;
    }

    private static async Task<IReadOnlyList<string>> AddressesAsync(ICommandRunner runner, string ns, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(CommandSpec.Of("ip", "-n", ns, "-j", "-4", "addr", "show"), cancellationToken);
        if (!result.Succeeded)
        {
            return [];
        }

        using var document = JsonDocument.Parse(result.StandardOutput);
        return [.. document.RootElement.EnumerateArray()
            .Where(l => l.GetProperty("ifname").GetString() != "lo" || l.GetProperty("addr_info").EnumerateArray().Any(a => a.GetProperty("local").GetString() != "127.0.0.1"))
            .SelectMany(l => l.GetProperty("addr_info").EnumerateArray()
                .Where(a => a.GetProperty("local").GetString() != "127.0.0.1")
                .Select(a => $"{l.GetProperty("ifname").GetString()} {a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}"))];
    }

    private static async Task<IReadOnlyList<LabTunnelStatus>> TunnelsAsync(ICommandRunner runner, LabHost host, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(CommandSpec.Of("ip", "-n", host.Namespace, "-j", "-d", "link", "show"), cancellationToken);
        if (!result.Succeeded)
        {
            return [];
        }

        using var document = JsonDocument.Parse(result.StandardOutput);
        var tunnels = new List<LabTunnelStatus>();
        foreach (var link in document.RootElement.EnumerateArray())
        {
            var kind = link.TryGetProperty("linkinfo", out var info) && info.TryGetProperty("info_kind", out var k) ? k.GetString() ?? string.Empty : string.Empty;
            if (kind is "vxlan" or "ipip" or "gre" or "wireguard")
            {
                tunnels.Add(new LabTunnelStatus(host.Name, link.GetProperty("ifname").GetString()!, kind, link.GetProperty("operstate").GetString() ?? "?", link.GetProperty("mtu").GetInt32()));
            }
        }

        return tunnels;
    }
}
