using System.Globalization;
using System.Text;
using Egress.Core;
using Egress.Core.Net;
using Egress.Core.Topology;

namespace Egress.Lab.World;

/// <summary>A topology the lab cannot build (e.g. more regions than it has public ranges).</summary>
public sealed class LabPlanException(string message) : Exception(message);

/// <summary>Topology → <see cref="LabWorldPlan"/>: names, veths, addresses, routes and nftables rulesets. Pure.</summary>
public static class LabWorldPlanner
{
    /// <summary>RFC 5737 ranges split into /26s, one per region in document order.</summary>
    public static IReadOnlyList<Ipv4Cidr> PublicRangePool { get; } =
    [
        .. Enumerable.Range(0, 4).Select(i => Ipv4Cidr.Parse("198.51.100.0/24").Subnet(26, i)),
        .. Enumerable.Range(0, 4).Select(i => Ipv4Cidr.Parse("203.0.113.0/24").Subnet(26, i)),
    ];

    public static Ipv4Cidr ServiceRange { get; } = Ipv4Cidr.Parse("192.0.2.0/24");

    public static Ipv4Address InternetAddress { get; } = ServiceRange.At(1);

    /// <summary>Transit links: IGW link of region r is 100.64.0.4r/30 and its edge link k (k ≥ 1) 100.64.k.4r/30 (internet
    /// .1, router .2); peering k is 100.65.0.4k/30 (requester .1, accepter .2). Shared address space, never routed outside.</summary>
    private static readonly Ipv4Cidr IgwTransit = Ipv4Cidr.Parse("100.64.0.0/16");

    private static readonly Ipv4Cidr PeeringTransit = Ipv4Cidr.Parse("100.65.0.0/16");

    public const string HostUplink = "eth0";

    public const string RouterWan = "wan0";

    public const string Org = "AS16509 Amazon.com, Inc.";

    /// <summary>Amazon's DNS resolver at its link-local address; each lab VPC resolver answers there too.</summary>
    public static Ipv4Address AmazonDns { get; } = Ipv4Address.Parse("169.254.169.253");

    /// <summary>The geo name's edge of region r: 192.0.2.241 + r (services use .10 to .240).</summary>
    public const int FirstEdgeOffset = 241;

    /// <summary>Offset of the first public address in a region's range (host j gets range + 10 + j).</summary>
    public const int FirstPublicOffset = 10;

    public static LabWorldPlan Plan(TopologyModel topology, string id, OverlayMode overlay, bool naive = false, LabInstances instances = LabInstances.Namespaces, bool ipv6 = false)
    {
        var plan = PlanIpv4(topology, id, overlay, naive, instances);
        return ipv6 ? LabIpv6.With(plan) : plan;
    }

    private static LabWorldPlan PlanIpv4(TopologyModel topology, string id, OverlayMode overlay, bool naive, LabInstances instances)
    {
        ArgumentNullException.ThrowIfNull(topology);
        if (!LabNames.IsValidId(id))
        {
            throw new LabPlanException($"lab id '{id}' is invalid: use {LabNames.ValidIdRule}.");
        }

        if (topology.Regions.Count > PublicRangePool.Count)
        {
            throw new LabPlanException(
                $"the lab has public ranges for {PublicRangePool.Count} regions; the topology has {topology.Regions.Count}. Remove regions to run it in the lab.");
        }

        var internetNs = LabNames.InternetNamespace(id);
        var regions = topology.Regions.ToList();
        var hosts = new List<LabHost>();
        var routers = new List<LabRouter>();
        var veths = new List<LabVeth>();
        for (var r = 0; r < regions.Count; r++)
        {
            var region = regions[r];
            var routerNs = LabNames.RouterNamespace(id, region.Name);
            routers.Add(new LabRouter(region.Name, routerNs, region.Vpc, PublicRangePool[r], RouterWan, $"igw{r}"));
            veths.Add(new LabVeth(routerNs, RouterWan, internetNs, $"igw{r}"));
            for (var j = 0; j < region.Hosts.Count; j++)
            {
                var host = region.Hosts[j];
                var ns = LabNames.HostNamespace(id, host.Name);
                Ipv4Address? publicIp = host.HasPublicAddress ? PublicRangePool[r].At(FirstPublicOffset + j) : null;
                hosts.Add(new LabHost(host.Name, host.Role, region.Name, ns, host.PrivateIp, publicIp));
                if (instances == LabInstances.Namespaces)
                {
                    veths.Add(new LabVeth(ns, HostUplink, routerNs, PortName(region, host)));
                }
            }
        }

        var peerings = Peerings(topology);
        foreach (var peering in peerings)
        {
            veths.Add(new LabVeth(
                LabNames.RouterNamespace(id, peering.Requester), peering.Interface,
                LabNames.RouterNamespace(id, peering.Accepter), peering.Interface));
        }

        var services = Services(topology);
        var edges = regions.Select((region, r) => new LabEdge(region.Name, ServiceRange.At(FirstEdgeOffset + r))).ToList();
        // Every lab has them, the VM lab too: a gateway's dns step forwards to its VPC resolver (base + 2) and a client's
        // stub sends VPC names there, whichever way the host runs.
        var resolvers = routers.Select((router, r) => new LabResolver(router.Region, router.Namespace, router.Vpc.At(2), edges[r].Address, ResolverHosts(topology, services, edges[r]))).ToList();
        var edgeLinks = instances == LabInstances.Namespaces ? EdgeLinks(topology, routers, peerings, edges, naive) : [];
        var ranges = regions.Select((region, r) =>
        {
            var aws = AwsRegions.Find(region.Name);
            return new LabPublicRange(PublicRangePool[r], region.Name, aws?.City ?? region.Name, aws?.CountryCode ?? "ZZ", Org);
        }).ToList();

        var namespaces = new List<LabNamespace>();
        if (instances == LabInstances.Namespaces)
        {
            foreach (var host in hosts)
            {
                namespaces.Add(HostNamespace(topology, host, naive));
            }
        }

        // VM instances are reached over SSH from the lab's internet, as `egress verify` reaches EC2 hosts: their security
        // groups let the internet's address in on tcp/22 (the lab's "your address"), whatever access.ssh says.
        var routed = instances == LabInstances.Vm
            ? topology with { Access = topology.Access with { Ssh = Ipv4Cidr.Parse(InternetAddress + "/32") } }
            : topology;
        foreach (var router in routers)
        {
            namespaces.Add(RouterNamespace(routed, router, routers.IndexOf(router), hosts, peerings, edgeLinks.Where(l => l.Region == router.Region).ToList(), naive, overlay, instances));
        }

        veths.AddRange(edgeLinks.Select(l => new LabVeth(LabNames.RouterNamespace(id, l.Region), l.RouterInterface, internetNs, l.InternetInterface)));
        namespaces.Add(InternetNamespaceOf(internetNs, routers, services, edges, edgeLinks));

        return new LabWorldPlan
        {
            Id = id,
            Naive = naive,
            Instances = instances,
            Overlay = overlay,
            Topology = topology,
            Namespaces = namespaces,
            Veths = veths,
            Hosts = hosts,
            Routers = routers,
            Peerings = peerings,
            Services = services,
            PublicRanges = ranges,
            Delays = Delays(topology, id, routers, peerings, edgeLinks),
            Resolvers = resolvers,
            Edges = edges,
            EdgeLinks = edgeLinks,
            InternetNamespace = internetNs,
            InternetAddress = InternetAddress,
        };
    }

    /// <summary>One peering per distinct pair of regions joined by a client–gateway tunnel; requester = the client's.</summary>
    public static IReadOnlyList<LabPeering> Peerings(TopologyModel topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var result = new List<LabPeering>();
        foreach (var pair in TunnelPairs.Of(topology))
        {
            var requester = topology.RegionOf(pair.Client).Name;
            var accepter = topology.RegionOf(pair.Gateway).Name;
            if (requester == accepter || result.Any(p => (p.Requester == requester && p.Accepter == accepter) || (p.Requester == accepter && p.Accepter == requester)))
            {
                continue;
            }

            var k = result.Count;
            var link = PeeringTransit.Subnet(30, k);
            result.Add(new LabPeering(k, requester, accepter, $"pcx{k}", link.At(1), link.At(2)));
        }

        return result;
    }

    /// <summary>api.binance.com, ipinfo.io and every other host name of the verify targets and the IP echo,
    /// each on its own 192.0.2.x address (.10, .20, ...).</summary>
    public static IReadOnlyList<LabService> Services(TopologyModel topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var names = topology.Verify.Targets.Append(topology.Verify.IpEcho)
            .Select(u => u.Host)
            .Prepend("ipinfo.io")
            .Prepend("api.binance.com")
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Where(n => !Ipv4Address.TryParse(n, out _))
            .ToList();
        if (names.Count > 24)
        {
            throw new LabPlanException($"the lab serves at most 24 service names; the topology's verify targets name {names.Count}.");
        }

        return [.. names.Select((n, i) => new LabService(n.ToLowerInvariant(), ServiceRange.At(10 * (i + 1))))];
    }

    /// <summary>What a region's VPC resolver answers (dnsmasq --addn-hosts): every host's AWS private DNS name
    /// (ip-10-0-1-10.REGION.compute.internal; peered VPCs resolve each other's), the service names, and the geo name with
    /// <paramref name="edge"/>.</summary>
    private static string ResolverHosts(TopologyModel topology, IReadOnlyList<LabService> services, LabEdge edge)
    {
        var text = new StringBuilder();
        foreach (var region in topology.Regions)
        {
            foreach (var host in region.Hosts)
            {
                text.Append($"{host.PrivateIp} ip-{host.PrivateIp.ToString().Replace('.', '-')}.{region.Name}.compute.internal\n");
            }
        }

        foreach (var service in services)
        {
            text.Append($"{service.Address} {service.Name}\n");
        }

        text.Append($"{edge.Address} {LabWorldPlan.GeoName}\n");
        return text.ToString();
    }

    /// <summary>The router's port facing <paramref name="hostName"/> (a veth end, or a VM's tap), e.g. vpc0p0.</summary>
    public static string HostPort(TopologyModel topology, string hostName)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var host = topology.GetHost(hostName);
        return PortName(topology.RegionOf(host), host);
    }

    private static string PortName(Region region, Egress.Core.Topology.Host host)
    {
        var subnet = region.Subnets.ToList().FindIndex(s => s.Name == host.Subnet);
        var index = region.Hosts.ToList().IndexOf(host);
        return string.Create(CultureInfo.InvariantCulture, $"vpc{subnet}p{index}");
    }

    private static readonly string[] CommonSysctls =
    [
        "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1",
    ];

    private static readonly string[] ForwardingSysctls =
    [
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0",
    ];

    private static LabNamespace HostNamespace(TopologyModel topology, LabHost host, bool naive)
    {
        var model = topology.GetHost(host.Name);
        var subnet = topology.SubnetOf(model);
        var batch = new List<string>
        {
            "link set lo up",
            $"addr add {host.PrivateIp}/{subnet.Cidr.PrefixLength} dev {HostUplink}",
            $"link set {HostUplink} up",
            $"route add default via {subnet.Router} dev {HostUplink}",
        };
        var sysctls = new List<string>(CommonSysctls);
        string? nft = null;
        if (naive && host.Role == HostRole.Gateway)
        {
            // The seed's own NAT proxy script: ip_forward and MASQUERADE for the client VPCs, nothing else.
            sysctls.Add("net.ipv4.ip_forward=1");
            sysctls.Add("net.ipv4.conf.all.rp_filter=0");
            var clientVpcs = TunnelPairs.Of(topology).Where(p => p.Gateway.Name == host.Name)
                .Select(p => topology.RegionOf(p.Client).Vpc).Distinct().ToList();
            nft = "table ip egress_naive {\n" +
                  "  chain postrouting {\n" +
                  "    type nat hook postrouting priority srcnat; policy accept;\n" +
                  string.Concat(clientVpcs.Select(v => $"    ip saddr {v} oifname \"{HostUplink}\" masquerade\n")) +
                  "  }\n" +
                  "}\n";
        }

        return new LabNamespace
        {
            Name = host.Namespace,
            Role = LabNamespaceRole.Host,
            Owner = host.Name,
            Sysctls = sysctls,
            IpBatch = batch,
            Nftables = nft,
        };
    }

    /// <summary>For each region whose default route is its IGW (not a naive client region's), one more IGW link per
    /// distinct half round trip of the geo name's edges that differs from the region's internet one: an edge in the
    /// region is as near as the nearest region is to the internet, another region's as far as that region
    /// (<see cref="LabLatency.EdgeRoundTrip"/>). Extra links with plain netem rather than one link with a prio tree and
    /// u32 filters per delay: with those, the full-kernel tier's Debian 6.1 kernel locked up in softirq (docs/lab.md).</summary>
    private static IReadOnlyList<LabEdgeLink> EdgeLinks(TopologyModel topology, IReadOnlyList<LabRouter> routers, IReadOnlyList<LabPeering> peerings, IReadOnlyList<LabEdge> edges, bool naive)
    {
        var links = new List<LabEdgeLink>();
        for (var r = 0; r < routers.Count; r++)
        {
            var region = topology.Regions.First(g => g.Name == routers[r].Region);
            if (naive && NaiveDefault(topology, region, peerings.Where(p => p.Requester == region.Name || p.Accepter == region.Name).ToList()) is not null)
            {
                continue;
            }

            var own = LabLatency.Half(LabLatency.RoundTrip(topology, region.Name, LinkLatency.Internet));
            var groups = edges
                .Select(e => (e.Address, Half: LabLatency.Half(LabLatency.EdgeRoundTrip(topology, region.Name, e.Region))))
                .Where(e => e.Half != own)
                .GroupBy(e => e.Half)
                .OrderBy(g => g.Key)
                .ToList();
            for (var k = 1; k <= groups.Count; k++)
            {
                var index = 64 * k + r; // 100.64.k.4r/30, and the same number names the internet's routing table
                links.Add(new LabEdgeLink(
                    region.Name, $"wan{k}", $"igw{r}e{k}", IgwTransit.Subnet(30, index), groups[k - 1].Key,
                    [.. groups[k - 1].Select(e => e.Address)], index));
            }
        }

        return links;
    }

    private static LabNamespace RouterNamespace(TopologyModel topology, LabRouter router, int regionIndex, IReadOnlyList<LabHost> hosts, IReadOnlyList<LabPeering> peerings, IReadOnlyList<LabEdgeLink> edgeLinks, bool naive, OverlayMode overlay, LabInstances instances)
    {
        var region = topology.Regions.First(r => r.Name == router.Region);
        var igwLink = IgwTransit.Subnet(30, regionIndex);
        var batch = new List<string> { "link set lo up", $"addr add {LabWorldPlan.MetadataAddress}/32 dev lo" };
        // The VPC resolver (dnsmasq, started by the controller): base + 2 and Amazon's link-local DNS address. In a VM lab
        // the router's DHCP server (another dnsmasq, bound to the taps only) hands out the port address as resolver.
        batch.Add($"addr add {region.Vpc.At(2)}/32 dev lo");
        batch.Add($"addr add {AmazonDns}/32 dev lo");

        // Like AWS's VPC fabric, the router is L3 to every host: each host's veth port carries the subnet's router
        // address (base + 1) as a /32 and a /32 route to the host, and proxy ARP answers for the rest of the subnet,
        // so even host-to-host traffic in a subnet is routed. (A bridge here would make the kernel segment every
        // tunnel GSO packet in software and cut overlay throughput to a quarter.)
        foreach (var subnet in region.Subnets)
        {
            foreach (var host in region.Hosts.Where(h => h.Subnet == subnet.Name))
            {
                var port = PortName(region, host);
                if (instances == LabInstances.Vm)
                {
                    // The VM's NIC is a tap in the host's place: the router's port. The subnet's prefix (without its
                    // route) lets the DHCP server on the port know the subnet it serves; routing stays per host /32.
                    batch.Add($"tuntap add dev {port} mode tap");
                    batch.Add($"addr add {subnet.Router}/{subnet.Cidr.PrefixLength} dev {port} noprefixroute");
                }
                else
                {
                    batch.Add($"addr add {subnet.Router}/32 dev {port}");
                }

                batch.Add($"link set {port} up");
                batch.Add($"route add {host.PrivateIp}/32 dev {port}");
            }
        }

        // Route table: local (the VPC), peer VPCs → peering, default → IGW (naive: → peering).
        batch.Add($"route add unreachable {region.Vpc}");
        var mine = peerings.Where(p => p.Requester == region.Name || p.Accepter == region.Name).ToList();
        foreach (var peering in mine)
        {
            var requester = peering.Requester == region.Name;
            var local = requester ? peering.RequesterAddress : peering.AccepterAddress;
            var remote = requester ? peering.AccepterAddress : peering.RequesterAddress;
            var peerVpc = topology.Regions.First(r => r.Name == (requester ? peering.Accepter : peering.Requester)).Vpc;
            batch.Add($"addr add {local}/30 dev {peering.Interface}");
            batch.Add($"link set {peering.Interface} up");
            batch.Add($"route add {peerVpc} via {remote} dev {peering.Interface}");
        }

        batch.Add($"addr add {igwLink.At(2)}/30 dev {RouterWan}");
        batch.Add($"link set {RouterWan} up");
        var naiveDefault = naive ? NaiveDefault(topology, region, mine) : null;
        batch.Add(naiveDefault is null
            ? $"route add default via {igwLink.At(1)} dev {RouterWan}"
            : $"route add default via {(naiveDefault.Requester == region.Name ? naiveDefault.AccepterAddress : naiveDefault.RequesterAddress)} dev {naiveDefault.Interface}");
        foreach (var link in edgeLinks)
        {
            batch.Add($"addr add {link.RouterAddress}/30 dev {link.RouterInterface}");
            batch.Add($"link set {link.RouterInterface} up");
            batch.AddRange(link.Edges.Select(e => $"route add {e}/32 via {link.InternetAddress} dev {link.RouterInterface}"));
        }

        return new LabNamespace
        {
            Name = router.Namespace,
            Role = LabNamespaceRole.Router,
            Owner = router.Region,
            Sysctls = [.. CommonSysctls, .. ForwardingSysctls, "net.ipv4.conf.all.proxy_arp=1"],
            IpBatch = batch,
            Nftables = RouterRuleset(topology, region, hosts.Where(h => h.Region == region.Name).ToList(), mine, [RouterWan, .. edgeLinks.Select(l => l.RouterInterface)], overlay),
        };
    }

    /// <summary>The seed's misleading first design: a client region's 0.0.0.0/0 points at the peering to its gateway's region.</summary>
    private static LabPeering? NaiveDefault(TopologyModel topology, Region region, IReadOnlyList<LabPeering> mine)
    {
        var client = region.Hosts.FirstOrDefault(h => h.Role == HostRole.Client && h.EgressVia.Count > 0);
        if (client is null)
        {
            return null;
        }

        var gatewayRegion = topology.RegionOf(topology.GetHost(client.EgressVia[0])).Name;
        return mine.FirstOrDefault(p => p.Requester == gatewayRegion || p.Accepter == gatewayRegion);
    }

    /// <summary>Counter name for a host's IGW translations: igw_out_sg_client.</summary>
    public static string CounterSlug(string hostName) =>
        new([.. hostName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);

    public const string IgwDropCounter = "igw_drop";

    /// <summary>Counter (and drop-log name) of the packets from the internet whose source is private (<see cref="InternetBogons"/>).</summary>
    public const string IgwBogonDropCounter = "igw_bogon_drop";

    /// <summary>The IGW's set of sources it never takes from the internet.</summary>
    public const string IgwBogonSet = "igw_bogons";

    /// <summary>RFC 1918: what AWS's internet gateway never takes from the internet as a source.</summary>
    public static IReadOnlyList<Ipv4Cidr> PrivateRanges { get; } =
        [Ipv4Cidr.Parse("10.0.0.0/8"), Ipv4Cidr.Parse("172.16.0.0/12"), Ipv4Cidr.Parse("192.168.0.0/16")];

    /// <summary>Sources the IGW drops when they arrive from the internet: RFC 1918, every VPC CIDR of the topology and
    /// its tunnel pool, each range once (one inside another is left out: nft refuses overlapping intervals). A packet
    /// from the internet with a VPC host's private address as source is a forgery: AWS's IGW does not deliver it, so
    /// neither does the lab's (issue 24: VXLAN with the client's outer source, sent to the gateway's Elastic IP).</summary>
    public static IReadOnlyList<Ipv4Cidr> InternetBogons(TopologyModel topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var all = PrivateRanges.Concat(topology.Regions.Select(r => r.Vpc)).Append(topology.Overlay.Pool).Distinct().ToList();
        return [.. all.Where(c => !all.Any(o => o != c && o.Contains(c))).OrderBy(c => c.Network.Value).ThenBy(c => c.PrefixLength)];
    }

    public const string PeeringDropCounter = "pcx_drop";

    public const string PeeringFragNeededCounter = "pcx_fragneeded";

    public static string IgwOutCounter(string host) => "igw_out_" + CounterSlug(host);

    public static string IgwInCounter(string host) => "igw_in_" + CounterSlug(host);

    /// <summary>Counter (and drop-log name) of the packets a host's emulated security group refused.</summary>
    public static string SecurityGroupDropCounter(string host) => "sg_drop_" + CounterSlug(host);

    /// <summary>The VPC router's nftables: IGW 1:1 NAT for hosts with a public address, drop+count internet-bound
    /// packets from the rest, a peering link that forwards only VPC-to-VPC packets (no edge-to-edge routing), and each
    /// host's security group at its port. ICMP "fragmentation needed" never crosses a peering link, so the overlay must not
    /// rely on PMTU discovery. Every counted drop also records the packets it drops (<see cref="LabDropLog"/>).</summary>
    private static string RouterRuleset(TopologyModel topology, Region region, IReadOnlyList<LabHost> hosts, IReadOnlyList<LabPeering> peerings, IReadOnlyList<string> igwLinks, OverlayMode overlay)
    {
        // What leaves through the IGW leaves through any of its links (the edge links too), NATed and counted alike.
        var links = igwLinks.Count == 1 ? $"\"{igwLinks[0]}\"" : $"{{ {string.Join(", ", igwLinks.Select(l => $"\"{l}\""))} }}";
        var toIgw = "oifname " + links;
        var publicHosts = hosts.Where(h => h.PublicIp is not null).ToList();
        var text = new StringBuilder();
        text.Append("table ip lab {\n");
        foreach (var host in publicHosts)
        {
            text.Append($"  counter {IgwInCounter(host.Name)} {{\n  }}\n");
            text.Append($"  counter {IgwOutCounter(host.Name)} {{\n  }}\n");
        }

        text.Append($"  counter {IgwDropCounter} {{\n  }}\n");
        text.Append($"  counter {IgwBogonDropCounter} {{\n  }}\n");
        text.Append($"  set {IgwBogonSet} {{\n    type ipv4_addr\n    flags interval\n    elements = {{ {string.Join(", ", InternetBogons(topology))} }}\n  }}\n");
        text.Append($"  counter {PeeringDropCounter} {{\n  }}\n");
        text.Append($"  counter {PeeringFragNeededCounter} {{\n  }}\n");
        foreach (var host in hosts)
        {
            text.Append($"  counter {SecurityGroupDropCounter(host.Name)} {{\n  }}\n");
        }

        text.Append(LabDropLog.Sets(IgwDropCounter));
        text.Append(LabDropLog.Sets(IgwBogonDropCounter));
        if (peerings.Count > 0)
        {
            text.Append(LabDropLog.Sets(PeeringDropCounter));
        }

        foreach (var host in hosts)
        {
            text.Append(LabDropLog.Sets(SecurityGroupDropCounter(host.Name)));
        }

        // The IGW's ingress, before conntrack and its 1:1 NAT: a packet from the internet whose source is private is
        // dropped and counted, whatever it is addressed to (a host's public address, the router itself).
        text.Append("  chain igw_ingress {\n    type filter hook prerouting priority raw; policy accept;\n");
        AppendLoggedDrop(text, $"iifname {links} ip saddr @{IgwBogonSet}", IgwBogonDropCounter);
        text.Append("  }\n");
        text.Append("  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n");
        foreach (var host in publicHosts)
        {
            text.Append($"    iifname {links} ip daddr {host.PublicIp} counter name {IgwInCounter(host.Name)} dnat to {host.PrivateIp}\n");
        }

        text.Append("  }\n");
        text.Append("  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n");
        foreach (var host in publicHosts)
        {
            text.Append($"    {toIgw} ip saddr {host.PrivateIp} counter name {IgwOutCounter(host.Name)} snat to {host.PublicIp}\n");
        }

        text.Append("  }\n");
        text.Append("  chain forward {\n    type filter hook forward priority filter; policy accept;\n");
        foreach (var peering in peerings)
        {
            var peerVpc = topology.Regions.First(r => r.Name == (peering.Requester == region.Name ? peering.Accepter : peering.Requester)).Vpc;
            var nic = peering.Interface;
            text.Append($"    oifname \"{nic}\" icmp type destination-unreachable icmp code frag-needed counter name {PeeringFragNeededCounter} drop\n");
            text.Append($"    iifname \"{nic}\" icmp type destination-unreachable icmp code frag-needed counter name {PeeringFragNeededCounter} drop\n");
            text.Append($"    oifname \"{nic}\" ip saddr {region.Vpc} ip daddr {peerVpc} accept\n");
            text.Append($"    iifname \"{nic}\" ip saddr {peerVpc} ip daddr {region.Vpc} accept\n");
            foreach (var direction in new[] { "oifname", "iifname" })
            {
                AppendLoggedDrop(text, $"{direction} \"{nic}\"", PeeringDropCounter);
            }
        }

        if (publicHosts.Count > 0)
        {
            text.Append($"    {toIgw} ip saddr {{ {string.Join(", ", publicHosts.Select(h => h.PrivateIp))} }} accept\n");
        }

        AppendLoggedDrop(text, toIgw, IgwDropCounter);
        text.Append("  }\n");

        // Security groups, in a base chain of their own after the route table's: an accept here cannot skip the
        // peering's and the IGW's rules, and their drops stand. Stateful like AWS's: replies (and ICMP errors about
        // a host's own flows) always pass; a new flow needs a rule; outbound is all.
        var resolved = topology with { Overlay = topology.Overlay with { Mode = overlay } };
        text.Append("  chain security_groups {\n    type filter hook forward priority filter + 10; policy accept;\n");
        foreach (var host in hosts)
        {
            var port = $"oifname \"{PortName(region, topology.GetHost(host.Name))}\"";
            text.Append($"    {port} ct state established,related accept\n");
            foreach (var rule in SecurityGroupIngress.For(resolved, topology.GetHost(host.Name)))
            {
                text.Append($"    {port} ip saddr {rule.Cidr} {Match(rule)}accept\n");
            }

            AppendLoggedDrop(text, port, SecurityGroupDropCounter(host.Name));
        }

        text.Append("  }\n");
        text.Append("}\n");
        return text.ToString();
    }

    private static void AppendLoggedDrop(StringBuilder text, string match, string counter)
    {
        foreach (var rule in LabDropLog.Rules(match, counter))
        {
            text.Append("    ").Append(rule).Append('\n');
        }

        text.Append($"    {match} counter name {counter} drop\n");
    }

    /// <summary>A security-group rule's protocol and ports as an nft match (with a trailing space), or "" for all traffic.</summary>
    private static string Match(IngressRule rule) => rule.Protocol switch
    {
        "-1" => string.Empty,
        "tcp" or "udp" when rule.FromPort >= 0 => rule.FromPort == rule.ToPort
            ? string.Create(CultureInfo.InvariantCulture, $"{rule.Protocol} dport {rule.FromPort} ")
            : string.Create(CultureInfo.InvariantCulture, $"{rule.Protocol} dport {rule.FromPort}-{rule.ToPort} "),
        _ => $"meta l4proto {rule.Protocol} ",
    };

    private static LabNamespace InternetNamespaceOf(string ns, IReadOnlyList<LabRouter> routers, IReadOnlyList<LabService> services, IReadOnlyList<LabEdge> edges, IReadOnlyList<LabEdgeLink> edgeLinks)
    {
        var batch = new List<string> { "link set lo up", $"addr add {InternetAddress}/32 dev lo" };
        batch.AddRange(services.Select(s => $"addr add {s.Address}/32 dev lo"));
        batch.AddRange(edges.Select(e => $"addr add {e.Address}/32 dev lo"));
        for (var r = 0; r < routers.Count; r++)
        {
            var link = IgwTransit.Subnet(30, r);
            var router = routers[r];
            batch.Add($"addr add {link.At(1)}/30 dev {router.InternetInterface}");
            batch.Add($"link set {router.InternetInterface} up");
            batch.Add($"route add {router.PublicRange} via {link.At(2)} dev {router.InternetInterface} src {InternetAddress}");
        }

        // An edge answers a region through the link the region reached it by: a rule per edge and region.
        foreach (var link in edgeLinks)
        {
            var range = routers.First(r => r.Region == link.Region).PublicRange;
            batch.Add($"addr add {link.InternetAddress}/30 dev {link.InternetInterface}");
            batch.Add($"link set {link.InternetInterface} up");
            batch.Add($"route add {range} via {link.RouterAddress} dev {link.InternetInterface} table {link.Table}");
            batch.AddRange(link.Edges.Select(e => $"rule add from {e}/32 to {range} lookup {link.Table} pref 1000"));
        }

        return new LabNamespace
        {
            Name = ns,
            Role = LabNamespaceRole.Internet,
            Owner = "internet",
            Sysctls = [.. CommonSysctls, .. ForwardingSysctls],
            IpBatch = batch,
        };
    }

    /// <summary>Each latency entry becomes half its round trip on both ends of the link it names:
    /// region–region on their peering, region–internet on the IGW link. Pairs with no link are skipped, and so are
    /// entries of 0 ms: they emulate nothing, so a lab whose entries are all 0 has no latency emulated (and verify does
    /// not judge the latency budget on it). An edge link takes half its edges' round trip on both ends.</summary>
    private static IReadOnlyList<LabLinkDelay> Delays(TopologyModel topology, string id, IReadOnlyList<LabRouter> routers, IReadOnlyList<LabPeering> peerings, IReadOnlyList<LabEdgeLink> edgeLinks)
    {
        var delays = new List<LabLinkDelay>();
        foreach (var latency in topology.Lab.Latency.Where(l => l.RttMs > 0))
        {
            var half = LabLatency.Half(latency.RttMs);
            var internetEnd = latency.A == LinkLatency.Internet ? latency.B : latency.B == LinkLatency.Internet ? latency.A : null;
            if (internetEnd is not null)
            {
                var router = routers.FirstOrDefault(r => r.Region == internetEnd);
                if (router is not null)
                {
                    delays.Add(new LabLinkDelay(router.Namespace, router.IgwInterface, half));
                    delays.Add(new LabLinkDelay(LabNames.InternetNamespace(id), router.InternetInterface, half));
                }

                continue;
            }

            var peering = peerings.FirstOrDefault(p => (p.Requester == latency.A && p.Accepter == latency.B) || (p.Requester == latency.B && p.Accepter == latency.A));
            if (peering is not null)
            {
                delays.Add(new LabLinkDelay(LabNames.RouterNamespace(id, peering.Requester), peering.Interface, half));
                delays.Add(new LabLinkDelay(LabNames.RouterNamespace(id, peering.Accepter), peering.Interface, half));
            }
        }

        foreach (var link in edgeLinks.Where(l => l.DelayMs > 0))
        {
            delays.Add(new LabLinkDelay(LabNames.RouterNamespace(id, link.Region), link.RouterInterface, link.DelayMs));
            delays.Add(new LabLinkDelay(LabNames.InternetNamespace(id), link.InternetInterface, link.DelayMs));
        }

        return delays;
    }
}
