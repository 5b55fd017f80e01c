using Egress.Core.Net;

namespace Egress.Core.Topology;

/// <summary>One client–gateway tunnel: its /30 from the pool, the gateway at .1 and the client at .2.</summary>
public sealed record TunnelPair(int Index, Host Client, Host Gateway, Ipv4Cidr Prefix)
{
    public const int PrefixLength = 30;

    public Ipv4Address GatewayAddress => Prefix.At(1);

    public Ipv4Address ClientAddress => Prefix.At(2);

    /// <summary>Tunnel key/VNI for GRE and VXLAN: unique per pair, never 0.</summary>
    public int Key => Index + 1;

    /// <summary>The client's rank of this gateway: 0 = primary, 1.. = standbys.</summary>
    public int Preference => Client.EgressVia.ToList().IndexOf(Gateway.Name);
}

public static class TunnelPairs
{
    /// <summary>Pairs in document order: for each client in order, each of its gateways in order.</summary>
    public static IReadOnlyList<TunnelPair> Of(TopologyModel topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var pairs = new List<TunnelPair>();
        var capacity = Capacity(topology.Overlay.Pool);
        foreach (var client in topology.Hosts.Where(h => h.Role == HostRole.Client))
        {
            foreach (var gatewayName in client.EgressVia)
            {
                var gateway = topology.FindHost(gatewayName);
                if (gateway is null || gateway.Role != HostRole.Gateway)
                {
                    continue; // Validation reports it; pairs are only built for sound references.
                }

                var index = pairs.Count;
                if (index >= capacity)
                {
                    return pairs; // Validation reports the pool as too small.
                }

                pairs.Add(new TunnelPair(index, client, gateway, topology.Overlay.Pool.Subnet(TunnelPair.PrefixLength, index)));
            }
        }

        return pairs;
    }

    /// <summary>How many /30 pairs the pool holds.</summary>
    public static long Capacity(Ipv4Cidr pool) =>
        pool.PrefixLength > TunnelPair.PrefixLength ? 0 : 1L << (TunnelPair.PrefixLength - pool.PrefixLength);

    public static IReadOnlyList<TunnelPair> ForHost(TopologyModel topology, Host host) =>
        [.. Of(topology).Where(p => p.Client == host || p.Gateway == host)];
}
