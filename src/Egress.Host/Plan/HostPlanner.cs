using System.Globalization;
using Egress.Core.Net;
using Egress.Core.Topology;

namespace Egress.Host.Plan;

/// <summary>Builds a <see cref="HostPlan"/> from the topology: pure, no I/O.</summary>
public static class HostPlanner
{
    /// <summary>Mark for connections that arrived on the client's uplink (DESIGN.md's verified recipe).</summary>
    public const uint ManagementMark = 0x1;

    /// <summary>Routing table whose default route is the VPC router on the uplink, for marked replies.</summary>
    public const int ManagementTable = 1010;

    public const int ManagementRulePriority = 1010;

    /// <summary>Kill switch: rules 1011 (bound to the uplink: main without its default) and 1012 (then this table).</summary>
    public const int KillSwitchTable = 1011;

    public const int KillSwitchRulePriority = 1011;

    /// <summary>Route realm of the routes that lead to the kill switch (nftables refuses what takes them).</summary>
    public const int KillSwitchRealm = 201;

    /// <summary>AWS link-local services every client keeps on the uplink: IMDS, the Route 53 resolver, Time Sync.</summary>
    public static readonly IReadOnlyList<(Ipv4Cidr Cidr, string Why)> LinkLocalServices =
    [
        (Ipv4Cidr.Parse("169.254.169.254/32"), "instance metadata (IMDS)"),
        (Ipv4Cidr.Parse("169.254.169.253/32"), "Amazon DNS resolver"),
        (Ipv4Cidr.Parse("169.254.169.123/32"), "Amazon Time Sync (NTP)"),
    ];

    /// <summary>What the IPv6 kill switch (<see cref="BlockIpv6"/>) lets out of the uplink besides the subnet: EC2's IPv6
    /// router is the link-local fe80::1, ND and DHCPv6 use link-scope multicast, and AWS answers IMDS, DNS and Time Sync at
    /// fd00:ec2::254, ::253 and ::123 (Nitro instances).</summary>
    public static readonly IReadOnlyList<Ipv6Allowed> Ipv6Allowed =
    [
        new("fe80::/10", "link-local: the VPC router (fe80::1), neighbour discovery, DHCPv6"),
        new("ff02::/16", "link-scope multicast: neighbour discovery, DHCPv6, MLD"),
        new("fd00:ec2::254", "instance metadata (IMDS) over IPv6"),
        new("fd00:ec2::253", "Amazon DNS resolver over IPv6"),
        new("fd00:ec2::123", "Amazon Time Sync (NTP) over IPv6"),
    ];

    /// <summary>flock (util-linux, on every Debian and Ubuntu) serialises apply, down and the watcher's route moves;
    /// cksum (coreutils) names the current nftables definition.</summary>
    public static readonly IReadOnlyList<string> RequiredTools = ["ip", "nft", "awk", "grep", "sed", "flock", "cksum"];

    /// <summary>The DNS forwarder and stub (dnsmasq-base on Debian and Ubuntu).</summary>
    public const string DnsTool = "dnsmasq";

    /// <summary>Names a client keeps resolving with its own VPC resolver: the VPC's (ip-10-0-1-10.REGION.compute.internal,
    /// Route 53 private zones under internal) and the AWS endpoints the host itself uses (SSM, EC2, S3: private VPC
    /// endpoints resolve only in the own VPC).</summary>
    public static readonly IReadOnlyList<string> LocalDnsDomains = ["internal", "amazonaws.com"];

    /// <summary>The VPC resolver: the VPC's base address + 2, as on AWS (169.254.169.253 answers too).</summary>
    public static Ipv4Address VpcResolver(Region region)
    {
        ArgumentNullException.ThrowIfNull(region);
        return region.Vpc.At(2);
    }

    /// <summary>conntrack entries per MiB of memory when tunings.conntrackMax is not set (t3.micro: 131072).</summary>
    public const int ConntrackEntriesPerMiB = 128;

    public static string TunnelName(TunnelPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        return string.Create(CultureInfo.InvariantCulture, $"eg{pair.Key}");
    }

    public static HostPlan Build(TopologyModel topology, string hostName)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(hostName);
        var host = topology.FindHost(hostName) ?? throw new ArgumentException(
            $"The topology has no host named '{hostName}'; its hosts: {string.Join(", ", topology.Hosts.Select(h => h.Name))}.", nameof(hostName));
        var overlay = topology.Overlay;
        if (overlay.Mode == OverlayMode.Auto)
        {
            throw new ArgumentException(
                "overlay.mode is 'auto': resolve it to ipip, gre or vxlan before rendering (the lab probes the kernel; on EC2 use ipip), " +
                "e.g. topology with { Overlay = topology.Overlay with { Mode = OverlayMode.Vxlan } }.", nameof(topology));
        }

        var pairs = TunnelPairs.ForHost(topology, host);
        if (pairs.Count == 0)
        {
            throw new ArgumentException(host.Role == HostRole.Client
                ? $"Client '{host.Name}' has no gateway to egress through (egressVia is empty or names no gateway)."
                : $"Gateway '{host.Name}' serves no client (no client lists it in egressVia).", nameof(hostName));
        }

        var subnet = topology.SubnetOf(host);
        var tunnels = pairs.Select(p => Tunnel(p, host, overlay)).ToList();
        var dnsClients = pairs.Where(p => topology.ResolveViaOf(p.Client) == DnsResolveVia.Gateway).ToList();
        var steps = new List<PlanStep>
        {
            new RequireTools(dnsClients.Count > 0 ? [.. RequiredTools, DnsTool] : RequiredTools),
            new FindUplink(host.PrivateIp),
        };
        steps.AddRange(tunnels);
        if (host.Role == HostRole.Gateway)
        {
            // The firewall exists before ip_forward turns on, so the gateway is never an open relay, not even briefly.
            steps.Add(new GatewayFirewall([.. pairs.Select(p => new ForwardClient(TunnelName(p), p.ClientAddress, p.Client.Name))]));
        }

        steps.AddRange(Sysctls(topology, host, tunnels));
        if (host.Role == HostRole.Client)
        {
            steps.Add(new ReplyViaUplink(ManagementMark, ManagementTable, ManagementRulePriority, subnet.Router));
            steps.Add(new KillSwitch(KillSwitchTable, KillSwitchRulePriority, KillSwitchRealm));
            steps.Add(new BlockIpv6(Ipv6Allowed));
            foreach (var pair in pairs)
            {
                steps.Add(new PinRoute(Host32(pair.Gateway.PrivateIp), "route.pin.gateway-underlay", $"{pair.Gateway.Name}'s private IP: the tunnel's underlay"));
            }

            foreach (var region in topology.Regions)
            {
                steps.Add(new PinRoute(region.Vpc, "route.pin.vpc", $"VPC of {region.Name}"));
            }

            foreach (var (cidr, why) in LinkLocalServices)
            {
                steps.Add(new PinRoute(cidr, "route.pin.imds", why));
            }

            var ordered = pairs.OrderBy(p => p.Preference).ToList();
            steps.Add(new DefaultViaTunnel(TunnelName(ordered[0]), ordered[0].GatewayAddress, ordered[0].Gateway.Name));
            var watched = ordered.Select(p => new WatchedGateway(p.Gateway.Name, TunnelName(p), p.GatewayAddress)).ToList();
            steps.Add(new FailoverWatch(watched, topology.Failover));
            if (dnsClients.Count > 0)
            {
                steps.Add(new DnsStub(VpcResolver(topology.RegionOf(host)), LocalDnsDomains, watched));
            }
        }
        else
        {
            var conntrack = topology.Tunings.ConntrackMax ?? InstanceTypes.MemoryOf(host.InstanceType) * ConntrackEntriesPerMiB;
            if (conntrack is { } max)
            {
                steps.Add(new SetSysctl("net.netfilter.nf_conntrack_max", max.ToString(CultureInfo.InvariantCulture), SysctlScope.Machine, "conntrack.max"));
            }

            if (dnsClients.Count > 0)
            {
                steps.Add(new DnsForwarder([.. dnsClients.Select(p => p.GatewayAddress)], VpcResolver(topology.RegionOf(host))));
            }
        }

        return new HostPlan
        {
            Host = host.Name,
            Role = host.Role,
            Stack = topology.Stack,
            Overlay = overlay.Mode,
            PrivateIp = host.PrivateIp,
            VpcRouter = subnet.Router,
            TunnelMtu = overlay.TunnelMtu,
            TcpMss = overlay.TcpMss,
            Steps = steps,
        };
    }

    private static CreateTunnel Tunnel(TunnelPair pair, Core.Topology.Host host, Overlay overlay)
    {
        var isClient = pair.Client == host;
        var peer = isClient ? pair.Gateway : pair.Client;
        return new CreateTunnel(
            TunnelName(pair),
            overlay.Mode,
            host.PrivateIp,
            peer.PrivateIp,
            pair.Key,
            isClient ? pair.ClientAddress : pair.GatewayAddress,
            isClient ? pair.GatewayAddress : pair.ClientAddress,
            overlay.TunnelMtu,
            peer.Name);
    }

    private static IEnumerable<SetSysctl> Sysctls(TopologyModel topology, Core.Topology.Host host, IReadOnlyList<CreateTunnel> tunnels)
    {
        var tunings = topology.Tunings;
        if (host.Role == HostRole.Gateway)
        {
            yield return new SetSysctl("net.ipv4.ip_forward", "1", SysctlScope.Namespace, "sysctl.ip_forward");
        }

        var rp = tunings.RpFilter switch
        {
            RpFilterMode.Off => "0",
            RpFilterMode.Strict => "1",
            RpFilterMode.Loose => "2",
            _ => throw new ArgumentOutOfRangeException(nameof(topology), tunings.RpFilter, "unknown rpFilter mode"),
        };
        foreach (var device in new[] { "all", "default", SetSysctl.UplinkToken }.Concat(tunnels.Select(t => t.Name)))
        {
            yield return new SetSysctl($"net.ipv4.conf.{device}.rp_filter", rp, SysctlScope.Namespace, "sysctl.rp_filter");
        }

        if (tunings.Bbr)
        {
            yield return new SetSysctl("net.ipv4.tcp_congestion_control", "bbr", SysctlScope.Namespace, "tcp.bbr", "bbr");
        }

        if (tunings.Fq)
        {
            yield return new SetSysctl("net.core.default_qdisc", "fq", SysctlScope.Machine, "qdisc.fq", "fq");
        }

        if (host.Role == HostRole.Client)
        {
            // Sockets accepted from a marked SYN, and ICMP replies, carry the mark, so their route lookup already
            // uses table 1010 from the start: the replies leave by the uplink whatever the default halves point at.
            yield return new SetSysctl("net.ipv4.tcp_fwmark_accept", "1", SysctlScope.Namespace, "mgmt.mark-replies");
            yield return new SetSysctl("net.ipv4.fwmark_reflect", "1", SysctlScope.Namespace, "mgmt.mark-replies");
        }

        yield return new SetSysctl("net.ipv4.tcp_slow_start_after_idle", tunings.SlowStartAfterIdle ? "1" : "0", SysctlScope.Namespace, "tcp.slow-start-after-idle");
    }

    private static Ipv4Cidr Host32(Ipv4Address address) => new(address, 32);
}
