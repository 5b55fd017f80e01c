namespace Egress.Core.Topology;

/// <summary>How many entries each list of a topology may hold. Each bound is above any real topology and keeps the
/// work of validating and rendering a hostile document (a YAML alias repeats a whole region) small.</summary>
public static class TopologyLimits
{
    /// <summary>More than AWS has regions (about 36).</summary>
    public const int Regions = 64;

    /// <summary>AWS's default quota of subnets per VPC.</summary>
    public const int SubnetsPerRegion = 200;

    /// <summary>The default tunnel pool (a /24) holds 64 client–gateway pairs.</summary>
    public const int HostsPerRegion = 64;

    /// <summary>A primary and up to seven standby gateways per client.</summary>
    public const int EgressVia = 8;

    public const int Targets = 32;

    public const int LatencyLinks = 64;

    internal static string Why(string path) => path switch
    {
        "regions" => "AWS has fewer regions than that",
        _ when path.EndsWith(".subnets", StringComparison.Ordinal) => "AWS allows 200 subnets per VPC by default",
        _ when path.EndsWith(".hosts", StringComparison.Ordinal) => "the default tunnel pool holds 64 client–gateway pairs",
        _ when path.EndsWith(".egressVia", StringComparison.Ordinal) => "a primary gateway and a few standbys",
        _ => "a topology needs only a few",
    };
}
