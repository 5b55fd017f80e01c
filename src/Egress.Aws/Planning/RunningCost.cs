using Egress.Aws.Model;
using Egress.Core.Cost;

namespace Egress.Aws.Planning;

/// <summary>One priced item of what runs now.</summary>
public sealed record RunningCostLine(string Region, string Description, decimal? UsdPerHour);

/// <summary>What the stack costs per hour as it stands in AWS (not as the topology says): every instance that is
/// pending or running and every public IPv4 address (auto-assigned or Elastic IP, associated or not). Data transfer
/// is extra and depends on traffic (egress cost). Pure.</summary>
public sealed record RunningCost(IReadOnlyList<RunningCostLine> Lines)
{
    public decimal UsdPerHour => Lines.Sum(l => l.UsdPerHour ?? 0);

    /// <summary>Lines the price table has no price for.</summary>
    public IEnumerable<RunningCostLine> Unpriced => Lines.Where(l => l.UsdPerHour is null);

    public static RunningCost Of(ObservedState observed, PriceTable prices)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(prices);
        var lines = new List<RunningCostLine>();
        foreach (var region in observed.Regions)
        {
            var elastic = region.Addresses.Select(a => a.PublicIp).ToHashSet(StringComparer.Ordinal);
            foreach (var instance in region.Instances.Where(i => i.State is InstanceStates.Pending or InstanceStates.Running))
            {
                lines.Add(new(region.Region, $"{instance.Component ?? instance.Id}: {instance.InstanceType}",
                    prices.Find(PriceItem.Ec2Instance, region.Region, instance.InstanceType)?.Usd));
                if (instance.PublicIp is { } ip && !elastic.Contains(ip))
                {
                    lines.Add(new(region.Region, $"{instance.Component ?? instance.Id}: public IPv4 {ip}", prices.Find(PriceItem.PublicIpv4, region.Region)?.Usd));
                }
            }

            foreach (var address in region.Addresses)
            {
                lines.Add(new(region.Region, $"{address.Component ?? address.Id}: Elastic IP {address.PublicIp}{(address.InstanceId is null ? " (unassociated)" : string.Empty)}",
                    prices.Find(PriceItem.PublicIpv4, region.Region)?.Usd));
            }
        }

        return new RunningCost(lines);
    }
}
