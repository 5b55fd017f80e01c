namespace Egress.Core.Cost;

/// <summary>What the scenarios are priced for: how long everything runs, and how much each client sends to and
/// receives from the internet in that time.</summary>
public sealed record Traffic
{
    public const decimal HoursPerWeek = 168;

    /// <summary>AWS's billing month: 730 hours (365 × 24 / 12).</summary>
    public const decimal HoursPerMonth = 730;

    /// <summary>The shortest run priced: 0.01 h (36 s). Shorter runs would scale a per-week figure by more than 16,800.</summary>
    public const decimal MinHours = 0.01m;

    /// <summary>The longest run priced: 1,000,000 h (about 114 years).</summary>
    public const decimal MaxHours = 1_000_000m;

    /// <summary>The most GB per client each way: 1e12 GB (a zettabyte).</summary>
    public const decimal MaxGb = 1_000_000_000_000m;

    /// <summary>The seed's scenario: one week, under 1 GB each way.</summary>
    public static Traffic SeedWeek { get; } = new() { Hours = HoursPerWeek, GbOutPerClient = 1, GbInPerClient = 1 };

    /// <summary>Hours everything runs; <see cref="MinHours"/> to <see cref="MaxHours"/>.</summary>
    public required decimal Hours { get; init; }

    /// <summary>GB each client sends to the internet (requests, uploads) in <see cref="Hours"/>.</summary>
    public required decimal GbOutPerClient { get; init; }

    /// <summary>GB each client receives from the internet (responses, downloads) in <see cref="Hours"/>.</summary>
    public required decimal GbInPerClient { get; init; }
}

public enum ScenarioKind
{
    /// <summary>This topology: EC2 gateways reached through the overlay on VPC peering.</summary>
    ThisTopology,

    /// <summary>A NAT Gateway in the gateway's region, reached through Transit Gateway inter-region peering.</summary>
    TransitGatewayNat,

    /// <summary>A NAT Gateway in each client's own region: no cross-region egress (reference).</summary>
    LocalNatGateway,
}

/// <summary>One billed item: what, where, how much of it, at what price.</summary>
public sealed record CostLine
{
    public required PriceItem Item { get; init; }

    public required string Description { get; init; }

    /// <summary>The region whose price applies (for transfer: the sending region).</summary>
    public required string Region { get; init; }

    public required decimal Quantity { get; init; }

    public string Unit => PriceItems.UnitOf(Item);

    /// <summary>US dollars per <see cref="Unit"/>.</summary>
    public required decimal UnitPrice { get; init; }

    /// <summary>True when the price is marked as an estimate in the table.</summary>
    public bool Estimate { get; init; }

    public decimal Cost => Quantity * UnitPrice;
}

/// <summary>One scenario's bill for <see cref="Hours"/>, and the same rate per week and per month.</summary>
public sealed record ScenarioCost
{
    public required ScenarioKind Kind { get; init; }

    public required decimal Hours { get; init; }

    public required IReadOnlyList<CostLine> Lines { get; init; }

    /// <summary>Stable name for JSON: this-topology, transit-gateway-nat, local-nat-gateway.</summary>
    public string Id => Kind switch
    {
        ScenarioKind.ThisTopology => "this-topology",
        ScenarioKind.TransitGatewayNat => "transit-gateway-nat",
        _ => "local-nat-gateway",
    };

    public string Title => Kind switch
    {
        ScenarioKind.ThisTopology => "This topology: EC2 gateway over the tunnel on VPC peering",
        ScenarioKind.TransitGatewayNat => "NAT Gateway in the gateway's region via Transit Gateway peering",
        _ => "NAT Gateway in the client's own region (no cross-region egress; reference)",
    };

    public decimal Total => Lines.Sum(l => l.Cost);

    /// <summary>The same usage rate over 168 hours: <see cref="Total"/> × 168 / <see cref="Hours"/>.</summary>
    public decimal PerWeek => Total * Traffic.HoursPerWeek / Hours;

    /// <summary>The same usage rate over 730 hours: <see cref="Total"/> × 730 / <see cref="Hours"/>.</summary>
    public decimal PerMonth => Total * Traffic.HoursPerMonth / Hours;
}

/// <summary>The three scenarios for the same traffic, and what this topology saves against the other two.</summary>
public sealed record CostComparison
{
    public required Traffic Traffic { get; init; }

    public required PriceTable Prices { get; init; }

    public required ScenarioCost ThisTopology { get; init; }

    public required ScenarioCost TransitGatewayNat { get; init; }

    public required ScenarioCost LocalNatGateway { get; init; }

    public IReadOnlyList<ScenarioCost> Scenarios => [ThisTopology, TransitGatewayNat, LocalNatGateway];

    /// <summary>(TGW+NAT − this) / (TGW+NAT) × 100.</summary>
    public decimal SavingsVsTransitGatewayNatPercent => CostModel.SavingsPercent(ThisTopology.Total, TransitGatewayNat.Total);

    /// <summary>(local NAT − this) / (local NAT) × 100; negative when this topology costs more.</summary>
    public decimal SavingsVsLocalNatGatewayPercent => CostModel.SavingsPercent(ThisTopology.Total, LocalNatGateway.Total);
}

/// <summary>A figure of the comparison does not fit in a decimal (about 7.9e28): inputs at the edges of their
/// allowed ranges combined (many clients, the most GB, the highest prices, the fewest hours).</summary>
public sealed class CostOutOfRangeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The table lacks prices the calculation needs; <see cref="Missing"/> lists every one.</summary>
public sealed class PriceNotFoundException : Exception
{
    public PriceNotFoundException(string tableName, IReadOnlyList<string> missing)
        : base($"{tableName}: {missing.Count} price{(missing.Count == 1 ? string.Empty : "s")} missing: {string.Join("; ", missing)}")
    {
        TableName = tableName;
        Missing = missing;
    }

    public string TableName { get; }

    public IReadOnlyList<string> Missing { get; }
}
