using Egress.Core.Topology;

namespace Egress.Core.Cost;

/// <summary>Prices a topology and its managed alternatives for the same traffic. Pure: a topology, a price table
/// and the traffic in, line items out. Formulas: docs/cost.md.</summary>
public static class CostModel
{
    /// <summary>All three scenarios for <paramref name="traffic"/>, every figure computed. Throws <see cref="PriceNotFoundException"/>
    /// listing every price the table lacks; <see cref="ArgumentException"/> for hours or GB outside
    /// <see cref="Traffic"/>'s ranges; <see cref="CostOutOfRangeException"/> when a figure does not fit in a decimal
    /// (only at the edges of the ranges combined: never a bare <see cref="OverflowException"/>).</summary>
    public static CostComparison Compare(TopologyModel topology, PriceTable prices, Traffic traffic)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(prices);
        Check(traffic);
        var pricer = new Pricer(prices);
        CostComparison comparison;
        try
        {
            comparison = new CostComparison
            {
                Traffic = traffic,
                Prices = prices,
                ThisTopology = ThisTopology(topology, pricer, traffic),
                TransitGatewayNat = TransitGatewayNat(topology, pricer, traffic),
                LocalNatGateway = LocalNatGateway(topology, pricer, traffic),
            };
            pricer.ThrowIfMissing();
            Evaluate(comparison);
        }
        catch (OverflowException ex)
        {
            throw OutOfRange(ex);
        }

        return comparison;
    }

    /// <summary>Every figure a report prints, computed once here: decimal arithmetic is checked, and an overflow
    /// becomes one clear <see cref="CostOutOfRangeException"/> instead of surfacing while the report is written.</summary>
    private static void Evaluate(CostComparison comparison)
    {
        foreach (var scenario in comparison.Scenarios)
        {
            foreach (var line in scenario.Lines)
            {
                _ = line.Cost;
            }

            _ = scenario.Total;
            _ = scenario.PerWeek;
            _ = scenario.PerMonth;
        }

        _ = comparison.SavingsVsTransitGatewayNatPercent;
        _ = comparison.SavingsVsLocalNatGatewayPercent;
    }

    private static CostOutOfRangeException OutOfRange(OverflowException ex) => new(
        "the figures are too large to compute (a decimal holds about 7.9e28): the hours, GB and prices combined are out of range; " +
        "lower --gb-out/--gb-in, --hours or the prices (or raise --hours: the per-week and per-month figures scale by 168/H and 730/H)", ex);

    /// <summary>What the running stack costs per hour with no traffic: every instance and public IPv4 address.
    /// Throws <see cref="PriceNotFoundException"/> when the table lacks one of their prices.</summary>
    public static ScenarioCost HourlyRunningCost(TopologyModel topology, PriceTable prices)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(prices);
        var pricer = new Pricer(prices);
        try
        {
            var cost = ThisTopology(topology, pricer, new Traffic { Hours = 1, GbOutPerClient = 0, GbInPerClient = 0 });
            pricer.ThrowIfMissing();
            _ = cost.Total;
            _ = cost.PerWeek;
            _ = cost.PerMonth;
            return cost;
        }
        catch (OverflowException ex)
        {
            throw OutOfRange(ex);
        }
    }

    /// <summary>(other − this) / other × 100; 0 when <paramref name="other"/> is 0.</summary>
    public static decimal SavingsPercent(decimal thisCost, decimal other) => other == 0 ? 0 : (other - thisCost) / other * 100;

    /// <summary>Bytes on the peering link per byte of client traffic: full-size packets carry the encapsulation
    /// header, so underlay MTU / tunnel MTU (IP-in-IP: 1500 / 1480).</summary>
    public static decimal TunnelOverheadFactor(Overlay overlay)
    {
        ArgumentNullException.ThrowIfNull(overlay);
        return (decimal)overlay.UnderlayMtu / overlay.TunnelMtu;
    }

    private static void Check(Traffic traffic)
    {
        ArgumentNullException.ThrowIfNull(traffic);
        if (traffic.Hours is < Traffic.MinHours or > Traffic.MaxHours)
        {
            throw new ArgumentException($"hours must be from {Traffic.MinHours} to {Traffic.MaxHours}, got {traffic.Hours}", nameof(traffic));
        }

        if (traffic.GbOutPerClient is < 0 or > Traffic.MaxGb || traffic.GbInPerClient is < 0 or > Traffic.MaxGb)
        {
            throw new ArgumentException($"GB must be from 0 to {Traffic.MaxGb}, got out {traffic.GbOutPerClient}, in {traffic.GbInPerClient}", nameof(traffic));
        }
    }

    private static ScenarioCost ThisTopology(TopologyModel topology, Pricer pricer, Traffic traffic)
    {
        var lines = new List<CostLine>();
        foreach (var host in topology.Hosts)
        {
            lines.Add(Instance(topology, host, pricer, traffic.Hours));
        }

        foreach (var host in topology.Hosts.Where(h => h.HasPublicAddress))
        {
            var kind = host.PublicIp == PublicAddressKind.Elastic ? "Elastic IP" : "auto-assigned";
            lines.Add(pricer.Line(PriceItem.PublicIpv4, topology.RegionOf(host).Name, $"Public IPv4: {host.Name} ({kind})", traffic.Hours));
        }

        var factor = TunnelOverheadFactor(topology.Overlay);
        var overhead = Mtu.Overhead(topology.Overlay.Mode);
        foreach (var (client, gateway) in PrimaryPairs(topology))
        {
            var clientRegion = topology.RegionOf(client).Name;
            var gatewayRegion = topology.RegionOf(gateway).Name;
            if (clientRegion != gatewayRegion)
            {
                AddTraffic(lines, pricer, PriceItem.InterRegionTransfer, clientRegion,
                    $"Tunnel {client.Name} -> {gateway.Name} (+{overhead} B/packet)", traffic.GbOutPerClient * factor);
                AddTraffic(lines, pricer, PriceItem.InterRegionTransfer, gatewayRegion,
                    $"Tunnel {gateway.Name} -> {client.Name} (+{overhead} B/packet)", traffic.GbInPerClient * factor);
            }

            AddTraffic(lines, pricer, PriceItem.InternetEgress, gatewayRegion, $"Internet egress: {gateway.Name} for {client.Name}", traffic.GbOutPerClient);
        }

        return new ScenarioCost { Kind = ScenarioKind.ThisTopology, Hours = traffic.Hours, Lines = lines };
    }

    private static ScenarioCost TransitGatewayNat(TopologyModel topology, Pricer pricer, Traffic traffic)
    {
        var lines = new List<CostLine>();
        AddClients(topology, pricer, traffic, lines);
        var pairs = PrimaryPairs(topology);

        // A client whose primary gateway is in another region reaches the NAT Gateway through a transit gateway in
        // each of the two regions (one VPC attachment each) and one inter-region peering (an attachment on each
        // side). A client in its gateway's own VPC reaches the NAT Gateway directly: no TGW lines.
        var crossRegion = pairs.Select(p => (p.Client, p.Gateway, ClientRegion: topology.RegionOf(p.Client).Name, GatewayRegion: topology.RegionOf(p.Gateway).Name))
            .Where(p => p.ClientRegion != p.GatewayRegion).ToList();
        foreach (var region in crossRegion.SelectMany(p => new[] { p.ClientRegion, p.GatewayRegion }).Distinct(StringComparer.Ordinal))
        {
            lines.Add(pricer.Line(PriceItem.TransitGatewayAttachmentHour, region, "TGW VPC attachment", traffic.Hours));
        }

        foreach (var (clientRegion, gatewayRegion) in crossRegion.Select(p => (p.ClientRegion, p.GatewayRegion)).Distinct())
        {
            lines.Add(pricer.Line(PriceItem.TransitGatewayAttachmentHour, clientRegion, $"TGW peering attachment to {gatewayRegion}", traffic.Hours));
            lines.Add(pricer.Line(PriceItem.TransitGatewayAttachmentHour, gatewayRegion, $"TGW peering attachment to {clientRegion}", traffic.Hours));
        }

        foreach (var (client, _, clientRegion, gatewayRegion) in crossRegion)
        {
            AddTraffic(lines, pricer, PriceItem.TransitGatewayData, clientRegion, $"TGW data: {client.Name} requests", traffic.GbOutPerClient);
            AddTraffic(lines, pricer, PriceItem.TransitGatewayData, gatewayRegion, $"TGW data: responses to {client.Name}", traffic.GbInPerClient);
            AddTraffic(lines, pricer, PriceItem.InterRegionTransfer, clientRegion, $"TGW peering: {client.Name} requests", traffic.GbOutPerClient);
            AddTraffic(lines, pricer, PriceItem.InterRegionTransfer, gatewayRegion, $"TGW peering: responses to {client.Name}", traffic.GbInPerClient);
        }

        // One NAT Gateway (with its Elastic IP) in place of each gateway host.
        foreach (var gateway in topology.Hosts.Where(h => h.Role == HostRole.Gateway))
        {
            var region = topology.RegionOf(gateway).Name;
            var clients = pairs.Count(p => p.Gateway == gateway);
            lines.Add(pricer.Line(PriceItem.NatGatewayHour, region, $"NAT Gateway (in place of {gateway.Name})", traffic.Hours));
            lines.Add(pricer.Line(PriceItem.PublicIpv4, region, "Public IPv4: NAT Gateway (Elastic IP)", traffic.Hours));
            AddTraffic(lines, pricer, PriceItem.NatGatewayData, region, "NAT Gateway data, both directions",
                clients * (traffic.GbOutPerClient + traffic.GbInPerClient));
            AddTraffic(lines, pricer, PriceItem.InternetEgress, region, "Internet egress: NAT Gateway", clients * traffic.GbOutPerClient);
        }

        return new ScenarioCost { Kind = ScenarioKind.TransitGatewayNat, Hours = traffic.Hours, Lines = lines };
    }

    private static ScenarioCost LocalNatGateway(TopologyModel topology, Pricer pricer, Traffic traffic)
    {
        var lines = new List<CostLine>();
        AddClients(topology, pricer, traffic, lines);
        var clientRegions = topology.Hosts.Where(h => h.Role == HostRole.Client)
            .GroupBy(h => topology.RegionOf(h).Name, StringComparer.Ordinal);
        foreach (var group in clientRegions)
        {
            var region = group.Key;
            var clients = group.Count();
            lines.Add(pricer.Line(PriceItem.NatGatewayHour, region, "NAT Gateway", traffic.Hours));
            lines.Add(pricer.Line(PriceItem.PublicIpv4, region, "Public IPv4: NAT Gateway (Elastic IP)", traffic.Hours));
            AddTraffic(lines, pricer, PriceItem.NatGatewayData, region, "NAT Gateway data, both directions",
                clients * (traffic.GbOutPerClient + traffic.GbInPerClient));
            AddTraffic(lines, pricer, PriceItem.InternetEgress, region, "Internet egress: NAT Gateway", clients * traffic.GbOutPerClient);
        }

        return new ScenarioCost { Kind = ScenarioKind.LocalNatGateway, Hours = traffic.Hours, Lines = lines };
    }

    /// <summary>The client instances and their public addresses (for SSH): the same in every scenario.</summary>
    private static void AddClients(TopologyModel topology, Pricer pricer, Traffic traffic, List<CostLine> lines)
    {
        var clients = topology.Hosts.Where(h => h.Role == HostRole.Client).ToList();
        foreach (var client in clients)
        {
            lines.Add(Instance(topology, client, pricer, traffic.Hours));
        }

        foreach (var client in clients.Where(c => c.HasPublicAddress))
        {
            lines.Add(pricer.Line(PriceItem.PublicIpv4, topology.RegionOf(client).Name, $"Public IPv4: {client.Name} (SSH)", traffic.Hours));
        }
    }

    private static CostLine Instance(TopologyModel topology, Host host, Pricer pricer, decimal hours) =>
        pricer.Line(PriceItem.Ec2Instance, topology.RegionOf(host).Name, $"EC2 {host.InstanceType}: {host.Name}", hours, host.InstanceType, $"host {host.Name}");

    private static void AddTraffic(List<CostLine> lines, Pricer pricer, PriceItem item, string region, string description, decimal gb)
    {
        if (gb > 0)
        {
            lines.Add(pricer.Line(item, region, description, gb));
        }
    }

    /// <summary>Each client with its primary gateway: the one that carries its traffic (standbys only run).</summary>
    private static List<(Host Client, Host Gateway)> PrimaryPairs(TopologyModel topology) =>
        [.. topology.Hosts.Where(h => h.Role == HostRole.Client && h.EgressVia.Count > 0)
            .Select(c => (Client: c, Gateway: topology.FindHost(c.EgressVia[0])))
            .Where(p => p.Gateway is { Role: HostRole.Gateway })
            .Select(p => (p.Client, p.Gateway!))];

    /// <summary>Looks prices up and remembers every one that is missing, so one run names them all.</summary>
    private sealed class Pricer(PriceTable table)
    {
        private readonly List<string> _missing = [];

        public CostLine Line(PriceItem item, string region, string description, decimal quantity, string? instanceType = null, string? neededBy = null)
        {
            var price = table.Find(item, region, instanceType);
            if (price is null)
            {
                var what = PriceItems.NameOf(item) + (instanceType is null ? string.Empty : " " + instanceType);
                var text = $"no {what} price for {region}" + (neededBy is null ? string.Empty : $" (needed by {neededBy})");
                if (!_missing.Contains(text))
                {
                    _missing.Add(text);
                }
            }

            return new CostLine
            {
                Item = item,
                Region = region,
                Description = description,
                Quantity = quantity,
                UnitPrice = price?.Usd ?? 0,
                Estimate = price?.Estimate ?? false,
            };
        }

        public void ThrowIfMissing()
        {
            if (_missing.Count > 0)
            {
                throw new PriceNotFoundException(table.Name, _missing);
            }
        }
    }
}
