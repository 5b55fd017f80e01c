using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Lab.World;

namespace Egress.Lab.Vm;

/// <summary>One topology host as an EC2-like VM: what QEMU, the DHCP server and the metadata service need to know.
/// Identities (MAC, instance id, SMBIOS UUID) are derived from the lab id and host name, so a re-plan gives the same.</summary>
public sealed record VmInstance
{
    public required string Host { get; init; }

    public required HostRole Role { get; init; }

    public required string Region { get; init; }

    public required string AvailabilityZone { get; init; }

    public required string InstanceType { get; init; }

    /// <summary>The VPC router's namespace: the tap lives here, in the place of the namespace lab's veth end.</summary>
    public required string RouterNamespace { get; init; }

    public required string Tap { get; init; }

    /// <summary>Locally administered, like EC2's (02:...).</summary>
    public required string Mac { get; init; }

    /// <summary>i-0 and 16 hex digits, like EC2's.</summary>
    public required string InstanceId { get; init; }

    /// <summary>Starts with "ec2", as on EC2: with SMBIOS manufacturer "Amazon EC2" and serial = UUID, cloud-init's
    /// ds-identify and its Ec2 datasource take this for AWS.</summary>
    public required string SmbiosUuid { get; init; }

    /// <summary>ip-10-1-1-10, EC2's private DNS name scheme.</summary>
    public required string LocalHostname { get; init; }

    public required Ipv4Address PrivateIp { get; init; }

    public required Ipv4Cidr Subnet { get; init; }

    public required Ipv4Address SubnetRouter { get; init; }

    public required string VpcId { get; init; }

    public Ipv4Address? PublicIp { get; init; }

    public required int MemoryMiB { get; init; }

    /// <summary>The topology's link delays as this VM emulates them on its own NIC (netem by destination, first match
    /// wins; the image's egress-lab-delay): empty when the topology sets none.</summary>
    public IReadOnlyList<VmDelay> Delays { get; init; } = [];
}

/// <summary>What a VM delays toward <paramref name="Destination"/>: <paramref name="DelayMs"/> on every packet it sends there (0: none).</summary>
public sealed record VmDelay(Ipv4Cidr Destination, int DelayMs)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Destination}@{DelayMs}");
}

/// <summary>Pure: the VMs of a lab plan.</summary>
public static class VmInstancePlanner
{
    /// <summary>Enough for Debian with cloud-init under software emulation (measured: bench/lab-vm.sh).</summary>
    public const int DefaultMemoryMiB = 512;

    public static IReadOnlyList<VmInstance> Plan(LabWorldPlan plan, int memoryMiB = DefaultMemoryMiB)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return [.. plan.Hosts.Select(h => Instance(plan, h, memoryMiB))];
    }

    private static VmInstance Instance(LabWorldPlan plan, LabHost host, int memoryMiB)
    {
        var model = plan.Topology.GetHost(host.Name);
        var region = plan.Topology.RegionOf(model);
        var subnet = region.Subnets.First(s => s.Name == model.Subnet);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"egress-lab/{plan.Id}/{host.Name}"));
        var hex = Convert.ToHexStringLower(hash);
        var uuid = $"ec2{hex[3..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
        return new VmInstance
        {
            Host = host.Name,
            Role = host.Role,
            Region = region.Name,
            AvailabilityZone = subnet.Az,
            InstanceType = model.InstanceType,
            RouterNamespace = plan.RouterOf(region.Name).Namespace,
            Tap = LabWorldPlanner.HostPort(plan.Topology, host.Name),
            Mac = string.Create(CultureInfo.InvariantCulture, $"02:{hash[0]:x2}:{hash[1]:x2}:{hash[2]:x2}:{hash[3]:x2}:{hash[4]:x2}"),
            InstanceId = "i-0" + hex[..16],
            SmbiosUuid = uuid,
            LocalHostname = "ip-" + host.PrivateIp.ToString().Replace('.', '-'),
            PrivateIp = host.PrivateIp,
            Subnet = subnet.Cidr,
            SubnetRouter = subnet.Router,
            VpcId = "vpc-0" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"egress-lab/{plan.Id}/{region.Name}")))[..16],
            PublicIp = host.PublicIp,
            MemoryMiB = memoryMiB,
            Delays = Delays(plan, region.Name),
        };
    }

    private static readonly Ipv4Cidr LinkLocal = Ipv4Cidr.Parse("169.254.0.0/16");

    private static readonly Ipv4Cidr Anywhere = Ipv4Cidr.Parse("0.0.0.0/0");

    /// <summary>The lab.latency entries as one VM emulates them where the lab machine's kernel has no netem (the VMs'
    /// Debian kernel has): each VM delays what it sends, so a link between two VMs gets half its round trip on each
    /// end (as the namespace lab puts half on each end of the peering) and a link to the internet, whose end delays
    /// nothing, gets the whole round trip here. Its own VPC and link-local (metadata, the Amazon resolver) come first
    /// with no delay, then every other VPC (half the round trip of a latency entry with that region, else none), the
    /// geo name's edges, then the internet. Empty when no entry of this region has a round trip.</summary>
    public static IReadOnlyList<VmDelay> Delays(LabWorldPlan plan, string region)
    {
        ArgumentNullException.ThrowIfNull(plan);
        int RttTo(string other) => LabLatency.RoundTrip(plan.Topology, region, other);
        var own = plan.RouterOf(region);
        var delays = new List<VmDelay> { new(own.Vpc, 0), new(LinkLocal, 0) };
        foreach (var router in plan.Routers.Where(r => r.Region != region))
        {
            var peered = plan.Peerings.Any(p => (p.Requester == region && p.Accepter == router.Region) || (p.Accepter == region && p.Requester == router.Region));
            var rtt = peered ? RttTo(router.Region) : 0;
            delays.Add(new VmDelay(router.Vpc, LabLatency.Half(rtt)));
        }

        // The geo name's edges (a CDN), each at its whole round trip from this region (the edge's end delays nothing).
        foreach (var edge in plan.Edges)
        {
            delays.Add(new VmDelay(new Ipv4Cidr(edge.Address, 32), LabLatency.EdgeRoundTrip(plan.Topology, region, edge.Region)));
        }

        delays.Add(new VmDelay(Anywhere, RttTo(LinkLatency.Internet)));
        return delays.Any(d => d.DelayMs > 0) ? delays : [];
    }
}
