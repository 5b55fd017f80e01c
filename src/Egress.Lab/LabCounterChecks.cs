using Egress.Core.Topology;
using Egress.Lab.World;

namespace Egress.Lab;

/// <summary>One judged fact about the lab: a check name, the host or region it is about, the outcome and why.</summary>
public sealed record LabCheck(string Name, string Host, bool Ok, string Detail);

/// <summary>What the lab's counters say about a run of checks: no client's egress left through its own IGW (its 1:1
/// NAT counter did not move), the peering links dropped nothing (no edge-to-edge packets), the IGWs dropped nothing
/// (no internet-bound packet from an address without a public IP), no security group refused a packet (in the lab nothing
/// but the topology's own traffic flows, so a refusal is a missing rule or a packet from the wrong place). A failed one says
/// why in words and names the packets.</summary>
public static class LabCounterChecks
{
    public const string NoClientEgressViaOwnIgw = "igw.no-client-egress";

    public const string PeeringDrops = "peering.edge-to-edge-drops";

    public const string IgwDrops = "igw.drops";

    public const string SecurityGroupDrops = "sg.drops";

    public static IReadOnlyList<LabCheck> Evaluate(TopologyModel topology, LabCounters before, LabCounters after)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var checks = new List<LabCheck>();
        foreach (var client in topology.Hosts.Where(h => h.Role == HostRole.Client && h.HasPublicAddress))
        {
            var region = topology.RegionOf(client).Name;
            var crossed = after.IgwNatOut.GetValueOrDefault(client.Name) - before.IgwNatOut.GetValueOrDefault(client.Name);
            checks.Add(new LabCheck(NoClientEgressViaOwnIgw, client.Name, crossed == 0,
                crossed == 0
                    ? $"0 connections of {client.Name}'s egress crossed the {region} IGW"
                    : $"{crossed} connections from {client.Name} left through its own IGW ({region})"));
        }

        foreach (var (region, drops) in after.PeeringDrops)
        {
            var delta = drops - before.PeeringDrops.GetValueOrDefault(region);
            checks.Add(new LabCheck(PeeringDrops, region, delta == 0,
                delta == 0
                    ? "0 packets dropped on the peering link"
                    : $"the {region} VPC router dropped {delta} packets on the peering link: their destination is outside the peer VPC (AWS peering does no edge-to-edge routing){Named(before, after, region, LabWorldPlanner.PeeringDropCounter)}"));
        }

        foreach (var (region, drops) in after.IgwDrops)
        {
            var delta = drops - before.IgwDrops.GetValueOrDefault(region);
            checks.Add(new LabCheck(IgwDrops, region, delta == 0,
                delta == 0
                    ? "0 internet-bound packets dropped"
                    : $"the {region} IGW dropped {delta} internet-bound packets from addresses without a public IP{Named(before, after, region, LabWorldPlanner.IgwDropCounter)}"));
        }

        foreach (var (host, drops) in after.SecurityGroupDrops)
        {
            var delta = drops - before.SecurityGroupDrops.GetValueOrDefault(host);
            var region = topology.RegionOf(topology.GetHost(host)).Name;
            checks.Add(new LabCheck(SecurityGroupDrops, host, delta == 0,
                delta == 0
                    ? "0 packets refused by its security group"
                    : $"{host}'s security group refused {delta} inbound packets no rule allows{Named(before, after, region, LabWorldPlanner.SecurityGroupDropCounter(host))}"));
        }

        return checks;
    }

    /// <summary>": TCP RST 192.168.250.2:49712 → 192.0.2.10:443 ×3; ..." — the packets a drop point dropped between the
    /// readings (at most 5 kinds, most first), or "" when the drop log has none (a full set still counts them).</summary>
    private static string Named(LabCounters before, LabCounters after, string region, string point)
    {
        var flows = LabDropLog.Since(before.Dropped.GetValueOrDefault(region) ?? [], after.Dropped.GetValueOrDefault(region) ?? [], point);
        return flows.Count == 0 ? string.Empty
            : ": " + string.Join("; ", flows.Take(5)) + (flows.Count > 5 ? $"; and {flows.Count - 5} more" : string.Empty);
    }
}
