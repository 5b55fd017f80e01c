using System.Globalization;
using Egress.Core.Topology;

namespace Egress.Lab.World;

/// <summary>A client's IPv6 in the lab (<c>lab up</c> with IPv6): its address in its subnet's /64, the VPC router's
/// addresses on its port (<see cref="LabIpv6.RouterLinkLocal"/>, as EC2's, and <see cref="RouterAddress"/> in the subnet:
/// "the VPC" over IPv6).</summary>
public sealed record LabIpv6Host(string Host, string Region, string Port, string Address, string Subnet, string RouterAddress, string VpcBlock);

/// <summary>IPv6 on the clients' subnets (issue 24, item 2), as EC2 gives a subnet with an IPv6 block: each region's VPC a
/// /56 and each subnet a /64 of the documentation prefix 2001:db8::/32 (never anything else), the VPC router at the
/// link-local fe80::1 on every client's port with a default route to it, AWS's IPv6 IMDS address on the router, and an
/// IPv6 "internet": <see cref="InternetAddress"/> in 2001:db8:ffff::/48 on the internet namespace, reached through each
/// region's IGW link without NAT (like an IGW for IPv6). Only client hosts get IPv6: the gateway path is IPv4. Pure: it
/// adds sysctls and <c>ip -batch</c> lines to an IPv4 plan. Namespace instances only.</summary>
public static class LabIpv6
{
    /// <summary>The lab internet's IPv6 address: ping target and an HTTP listener (port 80) of the services.</summary>
    public const string InternetAddress = "2001:db8:ffff::1";

    /// <summary>EC2's IPv6 router: the subnet's link-local fe80::1.</summary>
    public const string RouterLinkLocal = "fe80::1";

    /// <summary>AWS's instance metadata service over IPv6 (Nitro), on every VPC router of an IPv6 lab.</summary>
    public const string MetadataAddress = "fd00:ec2::254";

    /// <summary>Link-local addresses of an IGW link: the internet's end and the router's end.</summary>
    public const string IgwInternetEnd = "fe80::ff:1";

    public const string IgwRouterEnd = "fe80::ff:2";

    /// <summary>Region r's VPC block: 2001:db8:0:(r+1)00::/56.</summary>
    public static string VpcBlock(int region) => string.Create(CultureInfo.InvariantCulture, $"2001:db8:0:{region + 1}00::/56");

    /// <summary>Subnet s of region r: 2001:db8:0:(r+1)ss::/64 (s as two hex digits).</summary>
    public static string SubnetPrefix(int region, int subnet) => string.Create(CultureInfo.InvariantCulture, $"2001:db8:0:{region + 1}{subnet:x2}::");

    /// <summary>The IPv6 hosts of <paramref name="plan"/>'s topology: every client, its address ending in its private IP's
    /// last octet written as is (10.0.1.10 → ...::10).</summary>
    public static IReadOnlyList<LabIpv6Host> Hosts(LabWorldPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var hosts = new List<LabIpv6Host>();
        var regions = plan.Topology.Regions.ToList();
        for (var r = 0; r < regions.Count; r++)
        {
            var region = regions[r];
            foreach (var host in region.Hosts.Where(h => h.Role == HostRole.Client))
            {
                var s = region.Subnets.ToList().FindIndex(n => n.Name == host.Subnet);
                var prefix = SubnetPrefix(r, s);
                var last = host.PrivateIp.ToString().Split('.')[3];
                hosts.Add(new LabIpv6Host(host.Name, region.Name, LabWorldPlanner.HostPort(plan.Topology, host.Name), prefix + last, prefix + "/64", prefix + "1", VpcBlock(r)));
            }
        }

        return hosts;
    }

    /// <summary><paramref name="plan"/> with IPv6 on: the clients', their routers' and the internet's namespaces enable
    /// IPv6 (no duplicate address detection on the links it uses, so addresses work at once) and get their addresses and
    /// routes. Other namespaces keep IPv6 disabled as in every lab.</summary>
    public static LabWorldPlan With(LabWorldPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Instances != LabInstances.Namespaces)
        {
            throw new LabPlanException("IPv6 in the lab is for namespace instances only (the VM lab's hosts stay IPv4).");
        }

        var hosts = Hosts(plan);
        var regions = plan.Topology.Regions.Select(r => r.Name).ToList();
        var namespaces = plan.Namespaces.Select(ns =>
        {
            switch (ns.Role)
            {
                case LabNamespaceRole.Host when hosts.FirstOrDefault(h => h.Host == ns.Owner) is { } h:
                    return Enable(ns, [LabWorldPlanner.HostUplink], [],
                    [
                        $"addr add {h.Address}/64 dev {LabWorldPlanner.HostUplink} nodad",
                        $"route add default via {RouterLinkLocal} dev {LabWorldPlanner.HostUplink}",
                    ]);
                case LabNamespaceRole.Router when hosts.Where(h => h.Region == ns.Owner).ToList() is { Count: > 0 } mine:
                    var ports = mine.Select(h => h.Port).ToList();
                    var batch = new List<string> { $"addr add {MetadataAddress}/128 dev lo" };
                    foreach (var h in mine)
                    {
                        batch.Add($"addr add {RouterLinkLocal}/64 dev {h.Port} nodad");
                        batch.Add($"addr add {h.RouterAddress}/128 dev {h.Port} nodad");
                        batch.Add($"route add {h.Address}/128 dev {h.Port}");
                    }

                    batch.Add($"addr add {IgwRouterEnd}/64 dev {LabWorldPlanner.RouterWan} nodad");
                    batch.Add($"route add default via {IgwInternetEnd} dev {LabWorldPlanner.RouterWan}");
                    return Enable(ns, [.. ports, LabWorldPlanner.RouterWan], ["net.ipv6.conf.all.forwarding=1"], batch);
                case LabNamespaceRole.Internet:
                    var links = new List<string>();
                    var lines = new List<string> { $"addr add {InternetAddress}/128 dev lo" };
                    foreach (var region in hosts.Select(h => h.Region).Distinct())
                    {
                        var router = plan.RouterOf(region);
                        links.Add(router.InternetInterface);
                        lines.Add($"addr add {IgwInternetEnd}/64 dev {router.InternetInterface} nodad");
                        lines.Add($"route add {VpcBlock(regions.IndexOf(region))} via {IgwRouterEnd} dev {router.InternetInterface}");
                    }

                    return Enable(ns, links, [], lines);
                default:
                    return ns;
            }
        }).ToList();
        return plan with { Namespaces = namespaces, Ipv6 = true };
    }

    private static LabNamespace Enable(LabNamespace ns, IReadOnlyList<string> links, IReadOnlyList<string> sysctls, IReadOnlyList<string> batch) => ns with
    {
        Sysctls =
        [
            .. ns.Sysctls.Where(s => !s.StartsWith("net.ipv6.conf.all.disable_ipv6=", StringComparison.Ordinal) && !s.StartsWith("net.ipv6.conf.default.disable_ipv6=", StringComparison.Ordinal)),
            "net.ipv6.conf.all.disable_ipv6=0",
            "net.ipv6.conf.default.disable_ipv6=0",
            .. links.Select(l => $"net.ipv6.conf.{l}.accept_dad=0"),
            .. sysctls,
        ],
        IpBatch = [.. ns.IpBatch, .. batch],
    };
}
