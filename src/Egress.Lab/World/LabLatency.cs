using Egress.Core.Topology;

namespace Egress.Lab.World;

/// <summary>The round trips `lab.latency` gives, as the lab planners read them: <see cref="Half"/> for both ends of a
/// namespace-lab link and a peering between VMs; <see cref="EdgeRoundTrip"/> for the geo name's edges, each as far as its
/// region (the namespace lab's edge links, the VM lab's delays by destination inside each VM).</summary>
public static class LabLatency
{
    /// <summary>The round trip between <paramref name="a"/> and <paramref name="b"/> (regions or "internet"); 0 when no
    /// entry names the pair.</summary>
    public static int RoundTrip(TopologyModel topology, string a, string b) => Entry(topology, a, b) ?? 0;

    /// <summary>The round trip from <paramref name="region"/> to the geo name's edge in <paramref name="edgeRegion"/>, like a
    /// CDN's: the edge in the same region is as near as the nearest region is to the internet; another region's is as far
    /// as that region (the pair's round trip), or, when no entry names the pair, as far as any internet address. So a
    /// client that resolves locally and sends through Tokyo pays Singapore-Tokyo twice; one that resolves via Tokyo does not.</summary>
    public static int EdgeRoundTrip(TopologyModel topology, string region, string edgeRegion)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return region == edgeRegion
            ? topology.Lab.Latency.Where(l => l.A == LinkLatency.Internet || l.B == LinkLatency.Internet).Select(l => l.RttMs).DefaultIfEmpty(0).Min()
            : Entry(topology, region, edgeRegion) ?? RoundTrip(topology, region, LinkLatency.Internet);
    }

    /// <summary>Half of a round trip, for one end of a link that emulates it on both (at least 1 ms when not 0).</summary>
    public static int Half(int rttMs) => rttMs > 0 ? Math.Max(1, rttMs / 2) : 0;

    /// <summary>The largest round trip of the entries naming <paramref name="a"/> and <paramref name="b"/>; null when none does.</summary>
    private static int? Entry(TopologyModel topology, string a, string b)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var rtts = topology.Lab.Latency.Where(l => (l.A == a && l.B == b) || (l.B == a && l.A == b)).Select(l => l.RttMs).ToList();
        return rtts.Count > 0 ? rtts.Max() : null;
    }
}
