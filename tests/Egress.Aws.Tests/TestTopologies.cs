using Egress.Aws.Model;
using Egress.Core.Net;
using Egress.Core.Topology;

namespace Egress.Aws.Tests;

internal static class TestTopologies
{
    public static TopologyModel Seed => Examples.Load(Examples.Seed);

    public static TopologyModel SeedWithSsh => Seed with { Access = new Access { Ssh = Ipv4Cidr.Parse("203.0.113.7/32") } };

    public static TopologyModel ThreeRegion => Examples.Load(Examples.ThreeRegion);

    public static string UserData(TopologyModel topology, string host) => $"#cloud-config\n# egress {topology.Stack} {host}\n";

    public static DesiredState Desired(TopologyModel topology, ProvisionOptions? options = null) =>
        DesiredStateBuilder.Build(topology, UserData, options);
}
