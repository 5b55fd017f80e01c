using Egress.Core.Topology;

namespace Egress.Lab.World;

/// <summary>The round trips `lab.latency` gives, read the same way by the namespace lab (netem on its links) and the VM lab
/// (netem inside each VM).</summary>
public static class LabLatency
{
    /// <summary>The round trip between <paramref name="a"/> and <paramref name="b"/> (regions or "internet"); 0 when no
    /// entry names the pair.</summary>
    public static int RoundTrip(TopologyModel topology, string a, string b)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return topology.Lab.Latency.Where(l => (l.A == a && l.B == b) || (l.B == a && l.A == b)).Select(l => l.RttMs).DefaultIfEmpty(0).Max();
    }

    /// <summary>The round trip from <paramref name="region"/> to the geo name's edge in <paramref name="edgeRegion"/>, like a
    /// CDN's: the edge in the same region is as near as the nearest region is to the internet; another region's is as far
    /// as that region (the pair's round trip), or, when no entry names the pair, as far as any internet address. So a
    /// client that resolves locally and sends through Tokyo pays Singapore-Tokyo twice; one that resolves via Tokyo does not.</summary>
    public static int EdgeRoundTrip(TopologyModel topology, string region, string edgeRegion)
    {
        ArgumentNullException.ThrowIfNull(topology);
        if (region == edgeRegion)
        {
            return topology.Lab.Latency.Where(l => l.A == LinkLatency.Internet || l.B == LinkLatency.Internet).Select(l => l.RttMs).DefaultIfEmpty(0).Min();
        }

        var pair = topology.Lab.Latency.Where(l => (l.A == region && l.B == edgeRegion) || (l.B == region && l.A == edgeRegion)).Select(l => l.RttMs).ToList();
        return pair.Count > 0 ? pair.Max() : RoundTrip(topology, region, LinkLatency.Internet);
    }

    /// <summary>Half of a round trip, for one end of a link that emulates it on both (at least 1 ms when not 0).</summary>
    public static int Half(int rttMs) => rttMs > 0 ? Math.Max(1, rttMs / 2) : 0;
}
