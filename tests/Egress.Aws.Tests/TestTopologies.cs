using Egress.Aws.Model;
using Egress.Core.Net;
using Egress.Core.Topology;

namespace Egress.Aws.Tests;

internal static class TestTopologies
{
    public static TopologyModel Seed => Examples.Load(Examples.Seed);

    public static TopologyModel SeedWithSsh => Seed with { Access = new Access { Ssh = Ipv4Cidr.Parse("203.0.113.7/32") } };

    public static TopologyModel ThreeRegion => Examples.Load(Examples.ThreeRegion);

    /// <summary>What finding the stack outside the topology costs: one DescribeRegions, one DescribeTags per other enabled region.</summary>
    public static int SweepReads(int topologyRegions) => 1 + Egress.Core.AwsRegions.All.Count - topologyRegions;

    public static string UserData(TopologyModel topology, string host) => $"#cloud-config\n# egress {topology.Stack} {host}\n";

    public static DesiredState Desired(TopologyModel topology, ProvisionOptions? options = null) =>
        DesiredStateBuilder.Build(topology, UserData, options);
}
