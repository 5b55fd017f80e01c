namespace Egress.Doctor;

/// <summary>The links of the path, in the order the walk takes them. The environment (AWS's resources, or the lab's
/// emulation of them) comes first; each host's own configuration before the probes that cross it, so a broken setting
/// is named as the cause instead of the unreachable gateway it leads to.</summary>
public enum PathLink
{
    /// <summary>AWS resources (peering, routes, security groups, instances, Elastic IPs) or the lab's equivalents.</summary>
    Environment,

    /// <summary>The client's own settings: uplink, sysctls, pinned routes, kill switch, failover watcher.</summary>
    Client,

    /// <summary>The gateway's own settings: NAT table, forwarding, sysctls; its conntrack table and CPU steal.</summary>
    Gateway,

    /// <summary>The overlay: both tunnel ends as configured, the gateway answering through it, the MTU on the wire.</summary>
    Tunnel,

    /// <summary>The client's egress: which gateway its default route uses, and the public address the internet sees.</summary>
    Egress,

    /// <summary>Name resolution on the client: how long each target's name takes to resolve.</summary>
    Dns,
}

/// <summary>Who can fix a finding: <c>egress apply</c> (AWS resources), <c>egress-host apply</c> on the host (its
/// settings, re-applied idempotently), a change to the topology, or a hand step (start an instance, heal a lab gateway).</summary>
public enum FixedBy
{
    EgressApply,
    EgressHostApply,
    Topology,
    Manual,
}

public enum DoctorStatus
{
    Healthy,
    Finding,

    /// <summary>Not looked at: an earlier link is broken, so what it would see follows from that.</summary>
    Skipped,
}

/// <summary>One check of the walk: what was expected, what was seen; for a finding also the fix and who makes it.</summary>
public sealed record DoctorCheck(string Id, PathLink Link, string? Host, DoctorStatus Status, string Expected, string Seen)
{
    public string? Fix { get; init; }

    public FixedBy? FixedBy { get; init; }

    public static DoctorCheck Healthy(string id, PathLink link, string? host, string expected, string seen) =>
        new(id, link, host, DoctorStatus.Healthy, expected, seen);

    public static DoctorCheck Skipped(string id, PathLink link, string? host, string expected, string why) =>
        new(id, link, host, DoctorStatus.Skipped, expected, why);

    public static DoctorCheck Broken(string id, PathLink link, string? host, string expected, string seen, string fix, FixedBy fixedBy) =>
        new(id, link, host, DoctorStatus.Finding, expected, seen) { Fix = fix, FixedBy = fixedBy };
}

/// <summary>What the walk found: every check it made (and the ones it skipped), and the link it stopped at.</summary>
public sealed record DoctorReport(string Environment, IReadOnlyList<DoctorCheck> Checks, PathLink? StoppedAt, TimeSpan Elapsed)
{
    public IEnumerable<DoctorCheck> Findings => Checks.Where(c => c.Status == DoctorStatus.Finding);

    public bool Healthy => StoppedAt is null;
}
