using Egress.Core.Net;

namespace Egress.Core.Topology;

/// <summary>The whole system: regions with their VPCs and hosts, the overlay that joins clients to gateways,
/// host tunings, access rules, what verify checks and how the lab emulates the network.</summary>
public sealed record TopologyModel
{
    public required string Stack { get; init; }

    public required IReadOnlyList<Region> Regions { get; init; }

    public Overlay Overlay { get; init; } = new();

    public Tunings Tunings { get; init; } = new();

    public Access Access { get; init; } = new();

    public VerifySettings Verify { get; init; } = new();

    public LabSettings Lab { get; init; } = new();

    public IEnumerable<Host> Hosts => Regions.SelectMany(r => r.Hosts);

    public Host? FindHost(string name) => Hosts.FirstOrDefault(h => h.Name == name);

    public Host GetHost(string name) =>
        FindHost(name) ?? throw new KeyNotFoundException($"The topology has no host named '{name}'.");

    public Region RegionOf(Host host) => Regions.First(r => r.Hosts.Contains(host));

    public Subnet SubnetOf(Host host) => RegionOf(host).Subnets.First(s => s.Name == host.Subnet);
}

public sealed record Region
{
    /// <summary>AWS region code, e.g. ap-southeast-1.</summary>
    public required string Name { get; init; }

    public required Ipv4Cidr Vpc { get; init; }

    public required IReadOnlyList<Subnet> Subnets { get; init; }

    public required IReadOnlyList<Host> Hosts { get; init; }
}

public sealed record Subnet
{
    public required string Name { get; init; }

    public required Ipv4Cidr Cidr { get; init; }

    /// <summary>Availability zone, e.g. ap-southeast-1a.</summary>
    public required string Az { get; init; }

    /// <summary>The VPC router's address in this subnet: the base address + 1, as on AWS.</summary>
    public Ipv4Address Router => Cidr.At(1);
}

public enum HostRole
{
    Client,
    Gateway,
}

public enum CpuArchitecture
{
    Amd64,
    Arm64,
}

/// <summary>What public IPv4 address a host has: none, one assigned at launch, or an Elastic IP.</summary>
public enum PublicAddressKind
{
    None,
    Auto,
    Elastic,
}

public sealed record Host
{
    public required string Name { get; init; }

    public required HostRole Role { get; init; }

    /// <summary>Name of the subnet of the host's region.</summary>
    public required string Subnet { get; init; }

    public required Ipv4Address PrivateIp { get; init; }

    public required string InstanceType { get; init; }

    public required CpuArchitecture Architecture { get; init; }

    public required PublicAddressKind PublicIp { get; init; }

    /// <summary>For a client: its gateways by name, in order of preference. Empty for a gateway.</summary>
    public IReadOnlyList<string> EgressVia { get; init; } = [];

    /// <summary>An explicit AMI id; when null the AWS provisioner takes Ubuntu 22.04 from the public SSM parameter.</summary>
    public string? Ami { get; init; }

    /// <summary>An existing IAM instance profile to attach (e.g. one carrying AmazonSSMManagedInstanceCore, which
    /// lets verify and status run commands through SSM instead of SSH). Egress does not create IAM roles.</summary>
    public string? InstanceProfile { get; init; }

    public bool HasPublicAddress => PublicIp != PublicAddressKind.None;
}

public enum OverlayMode
{
    Ipip,
    Gre,
    Vxlan,

    /// <summary>IP-in-IP where the kernel has it, else VXLAN; resolved where the script runs.</summary>
    Auto,
}

public sealed record Overlay
{
    public static readonly Ipv4Cidr DefaultPool = Ipv4Cidr.Parse("192.168.250.0/24");

    public OverlayMode Mode { get; init; } = OverlayMode.Ipip;

    /// <summary>Tunnel addresses: one /30 per client–gateway pair, gateway .1 and client .2 of each.</summary>
    public Ipv4Cidr Pool { get; init; } = DefaultPool;

    /// <summary>MTU of the path the tunnel runs over (inter-region peering: 1500).</summary>
    public int UnderlayMtu { get; init; } = Mtu.DefaultUnderlay;

    /// <summary>The tunnel MTU for <see cref="Mode"/>; for <see cref="OverlayMode.Auto"/> the smallest of its candidates.</summary>
    public int TunnelMtu => Mtu.Tunnel(UnderlayMtu, Mode);

    public int TcpMss => Mtu.MssFor(TunnelMtu);
}

public enum RpFilterMode
{
    Off,
    Strict,
    Loose,
}

public sealed record Tunings
{
    /// <summary>net.ipv4.tcp_congestion_control=bbr.</summary>
    public bool Bbr { get; init; } = true;

    /// <summary>net.core.default_qdisc=fq.</summary>
    public bool Fq { get; init; } = true;

    /// <summary>net.ipv4.tcp_slow_start_after_idle; the seed turns it off.</summary>
    public bool SlowStartAfterIdle { get; init; }

    /// <summary>Reverse-path filter on all, default, the uplink and the tunnels; the seed turns it off.</summary>
    public RpFilterMode RpFilter { get; init; } = RpFilterMode.Off;

    /// <summary>nf_conntrack_max on gateways; null = sized from the instance type's memory.</summary>
    public int? ConntrackMax { get; init; }
}

public sealed record Access
{
    /// <summary>Where SSH is allowed from; null means no SSH at all.</summary>
    public Ipv4Cidr? Ssh { get; init; }
}

public sealed record LatencyBudget(int MinMs, int MaxMs);

public enum GeolocationExpectation
{
    /// <summary>The IP echo must place the egress address in the gateway's region (city and country).</summary>
    GatewayRegion,
    None,
}

public sealed record VerifySettings
{
    public static readonly IReadOnlyList<Uri> DefaultTargets = [new("https://api.binance.com/api/v3/time")];

    public static readonly Uri DefaultIpEcho = new("https://ipinfo.io/json");

    public IReadOnlyList<Uri> Targets { get; init; } = DefaultTargets;

    /// <summary>A service that answers with the caller's address and its location as JSON (ipinfo.io style).</summary>
    public Uri IpEcho { get; init; } = DefaultIpEcho;

    public VerifyCriteria Criteria { get; init; } = new();
}

public sealed record VerifyCriteria
{
    /// <summary>The seed's budget for a cold request (new connection) on AWS.</summary>
    public LatencyBudget ColdLatencyMs { get; init; } = new(200, 400);

    public GeolocationExpectation Geolocation { get; init; } = GeolocationExpectation.GatewayRegion;

    /// <summary>The first hop from the client must be its gateway's tunnel address.</summary>
    public bool PathViaGateway { get; init; } = true;

    /// <summary>Rounds of the whole suite; every round must pass.</summary>
    public int Rounds { get; init; } = 5;
}

/// <summary>A round-trip delay the lab emulates between two regions, or between a region and the internet.</summary>
public sealed record LinkLatency(string A, string B, int RttMs)
{
    public const string Internet = "internet";
}

public sealed record LabSettings
{
    public IReadOnlyList<LinkLatency> Latency { get; init; } = [];
}
