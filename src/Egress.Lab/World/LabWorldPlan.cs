using Egress.Core.Net;
using Egress.Core.Topology;

namespace Egress.Lab.World;

public enum LabNamespaceRole
{
    Host,
    Router,
    Internet,
}

/// <summary>One network namespace of the lab and everything the lab itself puts in it (host scripts come later).</summary>
public sealed record LabNamespace
{
    public required string Name { get; init; }

    public required LabNamespaceRole Role { get; init; }

    /// <summary>The host name, the region code, or "internet".</summary>
    public required string Owner { get; init; }

    /// <summary>"key=value" for `sysctl -w`, applied inside the namespace.</summary>
    public required IReadOnlyList<string> Sysctls { get; init; }

    /// <summary>Lines for `ip -batch`, run inside the namespace after its veths exist.</summary>
    public required IReadOnlyList<string> IpBatch { get; init; }

    /// <summary>An nftables ruleset for `nft -f`, or null.</summary>
    public string? Nftables { get; init; }
}

/// <summary>A veth pair created directly between two lab namespaces (never through the root namespace).</summary>
public sealed record LabVeth(string NamespaceA, string InterfaceA, string NamespaceB, string InterfaceB)
{
    /// <summary>The `ip -batch` line run from the root namespace; both ends are born inside lab namespaces.</summary>
    public string BatchLine => $"link add {InterfaceA} netns {NamespaceA} type veth peer name {InterfaceB} netns {NamespaceB}";
}

/// <summary>What each topology host is in the lab: a network namespace running the host script (fast, the default),
/// or a QEMU VM booted from the instance image the way EC2 boots one (cloud-init, IMDSv2, systemd).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(Egress.Core.JsonCamelCaseEnum<LabInstances>))]
public enum LabInstances
{
    Namespaces,
    Vm,
}

public sealed record LabHost(string Name, HostRole Role, string Region, string Namespace, Ipv4Address PrivateIp, Ipv4Address? PublicIp);

/// <summary>A region's VPC router (route table + IGW) and the public range its IGW hands out.</summary>
public sealed record LabRouter(string Region, string Namespace, Ipv4Cidr Vpc, Ipv4Cidr PublicRange, string IgwInterface, string InternetInterface);

/// <summary>A VPC peering between a requester (client) region and an accepter (gateway) region.</summary>
public sealed record LabPeering(int Index, string Requester, string Accepter, string Interface, Ipv4Address RequesterAddress, Ipv4Address AccepterAddress);

/// <summary>A public service name answered in the internet namespace.</summary>
public sealed record LabService(string Name, Ipv4Address Address);

/// <summary>A region's VPC resolver (dnsmasq in the VPC router's namespace, at the VPC base + 2 and 169.254.169.253): it
/// answers the VPC's names, the lab's service names and <see cref="LabWorldPlan.GeoName"/> (and every name under it) with
/// <see cref="Edge"/>, the edge in its own region, and refuses every other name (it never forwards: nothing leaves the lab).</summary>
public sealed record LabResolver(string Region, string Namespace, Ipv4Address Address, Ipv4Address Edge, string HostsFile);

/// <summary>A CDN-like edge in the lab internet: one RFC 5737 address per region, served by the services process, whose
/// /lab/edge answer names the region of the edge that answered.</summary>
public sealed record LabEdge(string Region, Ipv4Address Address);

/// <summary>What the IP echo says about an address in this range.</summary>
public sealed record LabPublicRange(Ipv4Cidr Range, string Region, string City, string Country, string Org);

/// <summary>A second (third, ...) link between a region's VPC router and the internet, for the geo name's edges that are
/// nearer or farther from the region than the rest of the internet (<see cref="LabLatency.EdgeRoundTrip"/>): the router
/// routes them (<see cref="Edges"/>, /32 each) through <see cref="RouterInterface"/>, and the internet sends their answers
/// to the region's public range back the same way (a source rule to <see cref="Table"/>). Each end delays by
/// <see cref="DelayMs"/> with a plain netem root qdisc, like every other link of the lab. Namespace labs only (a VM
/// delays by destination inside itself).</summary>
public sealed record LabEdgeLink(string Region, string RouterInterface, string InternetInterface, Ipv4Cidr Link, int DelayMs, IReadOnlyList<Ipv4Address> Edges, int Table)
{
    public Ipv4Address InternetAddress => Link.At(1);

    public Ipv4Address RouterAddress => Link.At(2);
}

/// <summary>Half of a link's round trip, emulated with netem on one end.</summary>
public sealed record LabLinkDelay(string Namespace, string Interface, int DelayMs);

/// <summary>Everything `lab up` builds, computed from the topology without touching the machine.</summary>
public sealed record LabWorldPlan
{
    public required string Id { get; init; }

    public required bool Naive { get; init; }

    public LabInstances Instances { get; init; } = LabInstances.Namespaces;

    /// <summary>The overlay the host scripts use here (auto/ipip resolved against the kernel).</summary>
    public required OverlayMode Overlay { get; init; }

    public required TopologyModel Topology { get; init; }

    public required IReadOnlyList<LabNamespace> Namespaces { get; init; }

    public required IReadOnlyList<LabVeth> Veths { get; init; }

    public required IReadOnlyList<LabHost> Hosts { get; init; }

    public required IReadOnlyList<LabRouter> Routers { get; init; }

    public required IReadOnlyList<LabPeering> Peerings { get; init; }

    public required IReadOnlyList<LabService> Services { get; init; }

    public required IReadOnlyList<LabPublicRange> PublicRanges { get; init; }

    public required IReadOnlyList<LabLinkDelay> Delays { get; init; }

    /// <summary>One per region (namespace instances only; the VM lab's dnsmasq serves its VMs).</summary>
    public IReadOnlyList<LabResolver> Resolvers { get; init; } = [];

    /// <summary>The geo name's edge in each region, on the internet namespace.</summary>
    public IReadOnlyList<LabEdge> Edges { get; init; } = [];

    /// <summary>The IGW links that carry the edges whose round trip from a region differs from the rest of the internet's.</summary>
    public IReadOnlyList<LabEdgeLink> EdgeLinks { get; init; } = [];

    /// <summary>The lab's geo-aware name: each region's resolver answers it with the edge in its own region, like a CDN or
    /// a latency-routed API. Only DNS knows it (never /etc/hosts). RFC 2606 reserves .example: it is never real.</summary>
    public const string GeoName = "cdn.lab.example";

    /// <summary>IPv6 on the clients' subnets and an IPv6 internet (<see cref="LabIpv6"/>); off unless `lab up` asks for it.</summary>
    public bool Ipv6 { get; init; }

    public required string InternetNamespace { get; init; }

    /// <summary>The internet namespace's own address: the source of "SSH from the internet" and of probes.</summary>
    public required Ipv4Address InternetAddress { get; init; }

    /// <summary>The stand-in for the instance metadata service, on every VPC router.</summary>
    public static Ipv4Address MetadataAddress { get; } = Ipv4Address.Parse("169.254.169.254");

    /// <summary>/etc/netns/&lt;ns&gt;/hosts for every lab namespace: the services, nothing else.</summary>
    public string HostsFile =>
        "127.0.0.1 localhost\n" + string.Concat(Services.Select(s => $"{s.Address} {s.Name}\n"));

    /// <summary>/etc/netns/&lt;ns&gt;/resolv.conf of a router or the internet: a resolver that answers nothing, fast, so no
    /// lookup leaves the lab.</summary>
    public static string ResolvConf => "# egress lab: names come from /etc/hosts only\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n";

    /// <summary>/etc/netns/&lt;ns&gt;/resolv.conf of namespace <paramref name="ns"/>: a host's points at its region's VPC resolver
    /// (as DHCP sets it on EC2), everything else at <see cref="ResolvConf"/>.</summary>
    public string ResolvConfOf(LabNamespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var host = ns.Role == LabNamespaceRole.Host ? Hosts.FirstOrDefault(h => h.Namespace == ns.Name) : null;
        var resolver = host is null ? null : Resolvers.FirstOrDefault(r => r.Region == host.Region);
        return resolver is null
            ? ResolvConf
            : $"# egress lab: the VPC resolver of {resolver.Region}\nnameserver {resolver.Address}\nsearch {host!.Region}.compute.internal\noptions timeout:1 attempts:2\n";
    }

    /// <summary>The whole plan as text (what `lab up` will do), for review and golden tests.</summary>
    public string Describe()
    {
        var text = new System.Text.StringBuilder();
        text.Append($"lab {Id}{(Naive ? " (naive)" : string.Empty)}: overlay {Overlay.ToString().ToLowerInvariant()}\n");
        text.Append("\n# public ranges (IP echo table)\n");
        foreach (var range in PublicRanges)
        {
            text.Append($"{range.Range} {range.Region} {range.City} {range.Country} {range.Org}\n");
        }

        text.Append("\n# hosts\n");
        foreach (var host in Hosts)
        {
            text.Append($"{host.Name} {host.Role.ToString().ToLowerInvariant()} {host.Region} {host.Namespace} private {host.PrivateIp} public {host.PublicIp?.ToString() ?? "none"}\n");
        }

        text.Append("\n# peerings\n");
        foreach (var peering in Peerings)
        {
            text.Append($"{peering.Interface} requester {peering.Requester} {peering.RequesterAddress} accepter {peering.Accepter} {peering.AccepterAddress}\n");
        }

        text.Append("\n# services\n");
        foreach (var service in Services)
        {
            text.Append($"{service.Name} {service.Address}\n");
        }

        text.Append("\n# dns (VPC resolvers; the geo name " + GeoName + " answers the edge of the resolver's region)\n");
        foreach (var resolver in Resolvers)
        {
            text.Append($"{resolver.Region} {resolver.Namespace} {resolver.Address} {GeoName} -> {resolver.Edge}\n");
        }

        if (EdgeLinks.Count > 0)
        {
            text.Append("\n# edge links (IGW links for the geo name's edges that are nearer or farther than the rest of the internet)\n");
            foreach (var link in EdgeLinks)
            {
                text.Append($"{link.Region} {link.RouterInterface} <-> {link.InternetInterface} {link.Link} {link.DelayMs}ms each end, table {link.Table}: {string.Join(' ', link.Edges)}\n");
            }
        }

        if (Ipv6)
        {
            text.Append($"\n# ipv6 (clients' subnets; internet {LabIpv6.InternetAddress})\n");
            foreach (var host in LabIpv6.Hosts(this))
            {
                text.Append($"{host.Host} {host.Address} subnet {host.Subnet} vpc {host.VpcBlock} router {LabIpv6.RouterLinkLocal} and {host.RouterAddress}\n");
            }
        }

        text.Append("\n# delays (netem, where the kernel has it)\n");
        foreach (var delay in Delays)
        {
            text.Append($"{delay.Namespace} {delay.Interface} {delay.DelayMs}ms\n");
        }

        text.Append("\n# root namespace: ip -batch (namespaces and veths; no link ever lives here)\n");
        foreach (var ns in Namespaces)
        {
            text.Append($"netns add {ns.Name}\n");
        }

        foreach (var veth in Veths)
        {
            text.Append(veth.BatchLine).Append('\n');
        }

        foreach (var ns in Namespaces)
        {
            text.Append($"\n# {ns.Name} ({ns.Role.ToString().ToLowerInvariant()} {ns.Owner})\n");
            text.Append("sysctl -w ").Append(string.Join(' ', ns.Sysctls)).Append('\n');
            foreach (var line in ns.IpBatch)
            {
                text.Append("ip ").Append(line).Append('\n');
            }

            if (ns.Nftables is not null)
            {
                text.Append("nft -f - <<EOF\n").Append(ns.Nftables).Append("EOF\n");
            }
        }

        return text.ToString();
    }

    public LabHost HostNamed(string name) =>
        Hosts.FirstOrDefault(h => h.Name == name) ?? throw new KeyNotFoundException($"The lab has no host named '{name}'.");

    public LabRouter RouterOf(string region) => Routers.First(r => r.Region == region);

    public LabNamespace NamespaceNamed(string name) => Namespaces.First(n => n.Name == name);
}
