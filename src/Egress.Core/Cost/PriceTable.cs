namespace Egress.Core.Cost;

/// <summary>What a price is for. Each kind has one unit (<see cref="PriceItems.UnitOf"/>).</summary>
public enum PriceItem
{
    /// <summary>An EC2 instance of one type, per hour (needs an instance type).</summary>
    Ec2Instance,

    /// <summary>A public IPv4 address (auto-assigned or Elastic IP, NAT Gateway's included), per address-hour.</summary>
    PublicIpv4,

    /// <summary>Data sent from the region to another AWS region, per GB (charged by the source region).</summary>
    InterRegionTransfer,

    /// <summary>Data sent from the region to the internet, per GB.</summary>
    InternetEgress,

    /// <summary>A NAT Gateway, per hour.</summary>
    NatGatewayHour,

    /// <summary>Data a NAT Gateway processes, per GB, both directions.</summary>
    NatGatewayData,

    /// <summary>A Transit Gateway attachment (VPC or peering), per attachment-hour.</summary>
    TransitGatewayAttachmentHour,

    /// <summary>Data sent into a Transit Gateway from a VPC attachment, per GB.</summary>
    TransitGatewayData,
}

public static class PriceItems
{
    public static IReadOnlyList<PriceItem> All { get; } = Enum.GetValues<PriceItem>();

    /// <summary>The name used in price files, e.g. <c>nat-gateway-hour</c>.</summary>
    public static string NameOf(PriceItem item) => item switch
    {
        PriceItem.Ec2Instance => "ec2-instance",
        PriceItem.PublicIpv4 => "public-ipv4",
        PriceItem.InterRegionTransfer => "inter-region-transfer",
        PriceItem.InternetEgress => "internet-egress",
        PriceItem.NatGatewayHour => "nat-gateway-hour",
        PriceItem.NatGatewayData => "nat-gateway-data",
        PriceItem.TransitGatewayAttachmentHour => "transit-gateway-attachment-hour",
        PriceItem.TransitGatewayData => "transit-gateway-data",
        _ => throw new ArgumentOutOfRangeException(nameof(item), item, null),
    };

    public static PriceItem? Parse(string name) => All.Cast<PriceItem?>().FirstOrDefault(i => NameOf(i!.Value) == name);

    /// <summary>The only unit a price of this kind may be given in.</summary>
    public static string UnitOf(PriceItem item) => item switch
    {
        PriceItem.Ec2Instance or PriceItem.NatGatewayHour => "hour",
        PriceItem.PublicIpv4 => "address-hour",
        PriceItem.TransitGatewayAttachmentHour => "attachment-hour",
        _ => "GB",
    };
}

/// <summary>One price: what it is for, where, per what unit, how much, and where and when it was read.</summary>
public sealed record Price
{
    /// <summary>A region that stands for every region without a price of its own.</summary>
    public const string AnyRegion = "*";

    public required PriceItem Item { get; init; }

    /// <summary>AWS region code, or <see cref="AnyRegion"/>.</summary>
    public required string Region { get; init; }

    /// <summary>For <see cref="PriceItem.Ec2Instance"/> only.</summary>
    public string? InstanceType { get; init; }

    public string Unit => PriceItems.UnitOf(Item);

    /// <summary>The highest price a table may hold, per unit: $1,000,000 (the dearest EC2 instance is about $400/h).</summary>
    public const decimal MaxUsd = 1_000_000m;

    /// <summary>US dollars per <see cref="Unit"/>, from 0 to <see cref="MaxUsd"/>.</summary>
    public required decimal Usd { get; init; }

    /// <summary>The URL or document the figure comes from.</summary>
    public required string Source { get; init; }

    /// <summary>The date the figure was read from <see cref="Source"/>.</summary>
    public required DateOnly Read { get; init; }

    /// <summary>True when the figure was not confirmed from a page on <see cref="Read"/> (a last-known rate).</summary>
    public bool Estimate { get; init; }

    public string? Note { get; init; }
}

/// <summary>A set of prices; the built-in one ships embedded in this assembly (<see cref="BuiltIn"/>).</summary>
public sealed record PriceTable
{
    public const string BuiltInName = "built-in price table";

    public const string Currency = "USD";

    /// <summary>Where the table came from: a file path, or <see cref="BuiltInName"/>.</summary>
    public required string Name { get; init; }

    public required IReadOnlyList<Price> Prices { get; init; }

    /// <summary>The region's own price, else the <see cref="Price.AnyRegion"/> one; null when neither exists.</summary>
    public Price? Find(PriceItem item, string region, string? instanceType = null)
    {
        Price? wildcard = null;
        foreach (var price in Prices)
        {
            if (price.Item != item || (item == PriceItem.Ec2Instance && price.InstanceType != instanceType))
            {
                continue;
            }

            if (price.Region == region)
            {
                return price;
            }

            if (price.Region == Price.AnyRegion)
            {
                wildcard ??= price;
            }
        }

        return wildcard;
    }

    /// <summary>The price table shipped with egress (Cost/prices.json).</summary>
    public static PriceTable BuiltIn => LazyBuiltIn.Value;

    /// <summary>The JSON text of the built-in table exactly as shipped: a starting point for your own.</summary>
    public static string BuiltInText()
    {
        using var stream = typeof(PriceTable).Assembly.GetManifestResourceStream("Egress.Core.Cost.prices.json")
            ?? throw new InvalidOperationException("The built-in price table is missing from the assembly (a build error).");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static readonly Lazy<PriceTable> LazyBuiltIn = new(() =>
    {
        var result = PriceTableParser.Parse(BuiltInText(), BuiltInName);
        return result.Table ?? throw new InvalidOperationException(
            "The built-in price table is invalid (a build error): " + string.Join("; ", result.Diagnostics));
    });
}
