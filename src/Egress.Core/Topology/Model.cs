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

    /// <summary>How a client with several gateways in egressVia moves between them, and what it does when none answers.</summary>
    public FailoverSettings Failover { get; init; } = new();

    public Access Access { get; init; } = new();

    /// <summary>Where clients resolve names (docs/topology.md "dns"); a client's own <see cref="Host.Dns"/> overrides it.</summary>
    public DnsSettings Dns { get; init; } = new();

    public VerifySettings Verify { get; init; } = new();

    public LabSettings Lab { get; init; } = new();

    public IEnumerable<Host> Hosts => Regions.SelectMany(r => r.Hosts);

    public Host? FindHost(string name) => Hosts.FirstOrDefault(h => h.Name == name);

    public Host GetHost(string name) =>
        FindHost(name) ?? throw new KeyNotFoundException($"The topology has no host named '{name}'.");

    public Region RegionOf(Host host) => Regions.First(r => r.Hosts.Contains(host));

    public Subnet SubnetOf(Host host) => RegionOf(host).Subnets.First(s => s.Name == host.Subnet);

    /// <summary>Where <paramref name="client"/> resolves names: its own dns.resolveVia, else the top level's, else
    /// <see cref="DnsResolveVia.Gateway"/> for a client whose whole default route goes through the tunnel (every client
    /// with a gateway: its default halves cover 0.0.0.0/0), else <see cref="DnsResolveVia.Local"/>.</summary>
    public DnsResolveVia ResolveViaOf(Host client)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (client.Role != HostRole.Client)
        {
            return DnsResolveVia.Local;
        }

        return client.Dns ?? Dns.ResolveVia ?? (client.EgressVia.Count > 0 ? DnsResolveVia.Gateway : DnsResolveVia.Local);
    }
}

/// <summary>Where a client's system resolver sends names.</summary>
public enum DnsResolveVia
{
    /// <summary>Internet names through the tunnel to the active gateway's forwarder, which asks its own VPC resolver: geo-aware
    /// DNS answers for where the traffic leaves. VPC names (*.internal) and AWS endpoints stay with the local VPC resolver.</summary>
    Gateway,

    /// <summary>The client's own VPC resolver for everything (nothing changes on the client).</summary>
    Local,
}

public sealed record DnsSettings
{
    /// <summary>Null: auto (gateway for clients whose whole default route goes through the tunnel).</summary>
    public DnsResolveVia? ResolveVia { get; init; }
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

    /// <summary>A client's own dns.resolveVia; null takes the topology's (<see cref="TopologyModel.ResolveViaOf"/>).</summary>
    public DnsResolveVia? Dns { get; init; }

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

/// <summary>What a client does when no gateway of its egressVia answers.</summary>
public enum FailurePolicy
{
    /// <summary>Egress is refused (prohibit routes replace the default halves); management paths keep working: connections that arrived on the uplink route their replies by mark (table 1010), pins stay.</summary>
    FailClosed,

    /// <summary>The default halves are removed, so the client's own internet gateway carries egress (from its own address).</summary>
    FailOpen,
}

/// <summary>The client's watcher: probes every gateway's tunnel address each <see cref="ProbeIntervalMs"/>, declares a
/// gateway down after <see cref="DownAfter"/> consecutive misses and up after <see cref="UpAfter"/> consecutive answers,
/// and points the default egress routes at the most preferred live gateway.</summary>
public sealed record FailoverSettings
{
    public FailurePolicy Policy { get; init; } = FailurePolicy.FailClosed;

    /// <summary>Move back to a more preferred gateway once it has been up for <see cref="HoldDownMs"/>.</summary>
    public bool Failback { get; init; } = true;

    public int HoldDownMs { get; init; } = 5000;

    public int ProbeIntervalMs { get; init; } = 200;

    public int DownAfter { get; init; } = 3;

    public int UpAfter { get; init; } = 5;
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
    // The defaults and the parsed URLs are HttpUrls: each Uri is built when first read, and 'egress validate' reads
    // none (HttpUrl; bench/startup.sh).
    private static readonly HttpUrl DefaultIpEchoUrl = HttpUrl.TryCreate("https://ipinfo.io/json")!;

    private readonly HttpUrl _ipEcho = DefaultIpEchoUrl;

    public static IReadOnlyList<Uri> DefaultTargets { get; } = new HttpUrlList([HttpUrl.TryCreate("https://api.binance.com/api/v3/time")!]);

    public static Uri DefaultIpEcho => DefaultIpEchoUrl.Uri;

    public IReadOnlyList<Uri> Targets { get; init; } = DefaultTargets;

    /// <summary>A service that answers with the caller's address and its location as JSON (ipinfo.io style).</summary>
    public Uri IpEcho { get => _ipEcho.Uri; init => _ipEcho = new HttpUrl(value); }

    /// <summary>The <see cref="IpEcho"/> URL as written, without building its Uri.</summary>
    public HttpUrl IpEchoUrl { get => _ipEcho; init => _ipEcho = value ?? throw new ArgumentNullException(nameof(value)); }

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
