using Egress.Core.Net;
using Egress.Core.Topology;

namespace Egress.Host.Plan;

/// <summary>What one host needs, as ordered typed steps. The renderer writes the steps' values into the script's data
/// block; each step kind is one step of the shell library (apply_X, down_X, check_X in src/Egress.Host/Scripts). Nothing
/// in a step depends on the machine, so the uplink is referred to symbolically.</summary>
public sealed record HostPlan
{
    public required string Host { get; init; }

    public required HostRole Role { get; init; }

    public required string Stack { get; init; }

    /// <summary>Never <see cref="OverlayMode.Auto"/>: the caller resolves it first.</summary>
    public required OverlayMode Overlay { get; init; }

    public required Ipv4Address PrivateIp { get; init; }

    /// <summary>The VPC router of the host's subnet (base + 1): the uplink's next hop.</summary>
    public required Ipv4Address VpcRouter { get; init; }

    public required int TunnelMtu { get; init; }

    public required int TcpMss { get; init; }

    /// <summary>In apply order; down undoes them in reverse.</summary>
    public required IReadOnlyList<PlanStep> Steps { get; init; }

    public IEnumerable<T> StepsOf<T>() where T : PlanStep => Steps.OfType<T>();
}

/// <summary>One thing apply does; <see cref="Summary"/> says it in a line (the script's apply logs the same from its data).</summary>
public abstract record PlanStep
{
    public abstract string Summary { get; }
}

/// <summary>Fail before anything changes when a program the script calls is missing.</summary>
public sealed record RequireTools(IReadOnlyList<string> Programs) : PlanStep
{
    public override string Summary => $"require {string.Join(", ", Programs)}";
}

/// <summary>Find the uplink interface by the host's private IP (eth0 in the seed and the lab, ens5 on Nitro Ubuntu).</summary>
public sealed record FindUplink(Ipv4Address PrivateIp) : PlanStep
{
    public override string Summary => $"find the interface that holds {PrivateIp}";
}

/// <summary>One overlay tunnel to a peer host, with its /30 address and MTU.</summary>
public sealed record CreateTunnel(
    string Name,
    OverlayMode Mode,
    Ipv4Address Local,
    Ipv4Address Remote,
    int Key,
    Ipv4Address Address,
    Ipv4Address PeerAddress,
    int Mtu,
    string PeerHost) : PlanStep
{
    public const int PrefixLength = TunnelPair.PrefixLength;

    public const int VxlanPort = 4789;

    public override string Summary => $"tunnel {Name} ({Mode.ToString().ToLowerInvariant()}) to {PeerHost} {Remote}, {Address}/{PrefixLength}, mtu {Mtu}";
}

/// <summary>Whether a sysctl belongs to the network namespace or to the whole machine.</summary>
public enum SysctlScope
{
    Namespace,

    /// <summary>Global to the machine (net.core.default_qdisc, nf_conntrack_max): skipped with a warning when
    /// EGRESS_NETNS_ONLY=1, as in the lab.</summary>
    Machine,
}

/// <summary>A kernel parameter under /proc/sys. <see cref="Key"/> is dotted and may contain
/// <see cref="UplinkToken"/> or a tunnel name. <see cref="Feature"/> names a kernel feature that may be missing:
/// then apply warns and check reports it as not available instead of failing.</summary>
public sealed record SetSysctl(string Key, string Value, SysctlScope Scope, string Invariant, string? Feature = null) : PlanStep
{
    public const string UplinkToken = "{uplink}";

    public override string Summary => $"sysctl {Key}={Value}";
}

/// <summary>A route for <see cref="Destination"/> via the VPC router on the uplink (main table), so the underlay,
/// the VPC and the link-local AWS services never go into the tunnel.</summary>
public sealed record PinRoute(Ipv4Cidr Destination, string Invariant, string Why) : PlanStep
{
    public override string Summary => $"pin {Destination} via the VPC router on the uplink ({Why})";
}

/// <summary>0.0.0.0/1 and 128.0.0.0/1 via the gateway's tunnel address: more specific than the original default
/// route, which stays; removing these two routes fails open.</summary>
public sealed record DefaultViaTunnel(string Tunnel, Ipv4Address Via, string Gateway) : PlanStep
{
    public static readonly IReadOnlyList<Ipv4Cidr> Halves = [Ipv4Cidr.Parse("0.0.0.0/1"), Ipv4Cidr.Parse("128.0.0.0/1")];

    public override string Summary => $"default egress via {Tunnel} ({Via}, {Gateway}); the original default route stays";
}

/// <summary>Connections that arrive on the uplink (SSH to the public IP) are answered via the uplink: the nftables
/// table marks them, a policy rule sends marked packets to a table whose default is the VPC router.</summary>
public sealed record ReplyViaUplink(uint Mark, int Table, int Priority, Ipv4Address Router) : PlanStep
{
    public override string Summary => $"answer connections that arrive on the uplink via the uplink (fwmark 0x{Mark:x} -> table {Table})";
}

/// <summary>The client's kill switch: while egress is configured nothing new leaves the uplink for the internet. A socket
/// bound to the uplink (<c>curl --interface eth0</c>) looks up the main table without its default route (rule
/// <see cref="Priority"/>) and then table <see cref="Table"/>, whose default via the VPC router carries realm
/// <see cref="Realm"/>; the fail-closed halves carry it too. nftables refuses a packet that took a realm route unless it
/// belongs to a connection that arrived on the uplink (management, the host's own services, UDP included), and drops
/// any packet with a tunnel address as source on the uplink. The pins, fail-open (the watcher takes the realm off) and
/// replies by mark are unaffected.</summary>
public sealed record KillSwitch(int Table, int Priority, int Realm) : PlanStep
{
    public override string Summary => $"kill switch: nothing new leaves the uplink for the internet (rules {Priority}-{Priority + 1}, table {Table}, realm {Realm})";
}

/// <summary>The client's IPv6 kill switch (issue 24): the gateway path is IPv4 only, so internet-bound IPv6 is refused.
/// Its own nftables table (<c>table ip6 egress</c>) rejects new IPv6 packets leaving the uplink unless they go to one of
/// <see cref="Allowed"/> (link-local, link-scope multicast, AWS's IPv6 instance metadata, DNS and time addresses), to a
/// prefix on the uplink's own link (the subnet, found at run time), or belong to a connection that arrived on the
/// uplink (the IPv4 reply path's ct mark). Neighbour discovery always passes.</summary>
public sealed record BlockIpv6(IReadOnlyList<Ipv6Allowed> Allowed) : PlanStep
{
    public override string Summary => $"IPv6 kill switch: new IPv6 leaves the uplink only for {string.Join(", ", Allowed.Select(a => a.Prefix))} and the subnet (table ip6 egress)";
}

/// <summary>An IPv6 destination the client may still reach by the uplink, as nftables writes it, and why.</summary>
public sealed record Ipv6Allowed(string Prefix, string Why);

/// <summary>The gateway's firewall: <c>table ip egress</c>, replaced atomically. Forward only from each client's
/// tunnel to the uplink (plus established/related back), count and drop the rest, masquerade out of the uplink
/// everything that arrived through a tunnel (matched by input interface, so whatever source the client's kernel
/// picked is covered: DESIGN ruling 5), clamp the MSS of forwarded SYNs to the route MTU.</summary>
public sealed record GatewayFirewall(IReadOnlyList<ForwardClient> Clients) : PlanStep
{
    public override string Summary => $"nftables table ip egress: forward and masquerade {string.Join(", ", Clients.Select(c => c.Client))}, drop the rest";
}

/// <summary>One client the gateway serves: the tunnel it arrives through and the tunnel source address it uses.</summary>
public sealed record ForwardClient(string Tunnel, Ipv4Address Source, string Client);

/// <summary>A gateway the client's watcher probes: its name, the client's tunnel to it and its tunnel address.</summary>
public sealed record WatchedGateway(string Name, string Tunnel, Ipv4Address Via);

/// <summary>The client's failover watcher (<c>egress-host watch</c>, run by systemd): probes every gateway's tunnel
/// address, moves the default halves to the most preferred live gateway, and applies the policy when none answers.
/// Apply itself only routes via the primary when no default half of egress's exists yet: after that the watcher owns them.</summary>
public sealed record FailoverWatch(IReadOnlyList<WatchedGateway> Gateways, FailoverSettings Settings) : PlanStep
{
    public override string Summary =>
        $"failover watcher: {string.Join(", ", Gateways.Select(g => g.Name))} every {Settings.ProbeIntervalMs} ms, " +
        $"{(Settings.Policy == FailurePolicy.FailOpen ? "fail-open" : "fail-closed")}";
}

/// <summary>The gateway's DNS forwarder (dnsmasq): listens only on the tunnel addresses of the clients that resolve
/// through it and forwards to the gateway's own VPC resolver, so geo-aware names answer for where the traffic leaves.
/// For each listen address A it answers <c>A-with-dashes.HOST.dns.egress.test</c> with A itself: each client's check asks
/// the name of its own tunnel address.</summary>
public sealed record DnsForwarder(IReadOnlyList<Ipv4Address> Listen, Ipv4Address Upstream) : PlanStep
{
    public override string Summary => $"dns forwarder (dnsmasq) on {string.Join(", ", Listen)} to the VPC resolver {Upstream}";
}

/// <summary>The client's DNS stub (dnsmasq on 127.0.0.1, /etc/resolv.conf pointed at it): internet names go through the
/// tunnel to the active gateway's forwarder (the watcher repoints it with egress), <see cref="LocalDomains"/> to the
/// client's own VPC resolver. Down restores /etc/resolv.conf byte for byte (a symlink as the symlink).</summary>
public sealed record DnsStub(Ipv4Address VpcResolver, IReadOnlyList<string> LocalDomains, IReadOnlyList<WatchedGateway> Gateways) : PlanStep
{
    public override string Summary =>
        $"dns stub (dnsmasq on 127.0.0.1): internet names via the active gateway ({string.Join(", ", Gateways.Select(g => g.Via))}), {string.Join(", ", LocalDomains)} via {VpcResolver}";
}
