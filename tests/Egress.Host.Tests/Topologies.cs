using Egress.Core.Topology;

namespace Egress.Host.Tests;

internal static class Topologies
{
    public static TopologyModel Seed(OverlayMode mode = OverlayMode.Ipip) => WithMode(Examples.Load(Examples.Seed), mode);

    public static TopologyModel ThreeRegion(OverlayMode mode = OverlayMode.Ipip) => WithMode(Examples.Load(Examples.ThreeRegion), mode);

    public static TopologyModel WithMode(TopologyModel topology, OverlayMode mode) =>
        topology with { Overlay = topology.Overlay with { Mode = mode } };

    public static readonly OverlayMode[] ConcreteModes = [OverlayMode.Ipip, OverlayMode.Gre, OverlayMode.Vxlan];
}
