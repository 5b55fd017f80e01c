using Egress.Aws.Model;
using Egress.Aws.Ports;

namespace Egress.Aws.Execution;

/// <summary>Finds everything tagged <c>egress:stack=STACK</c> in each region, regions concurrently. Only reads.</summary>
public static class Discovery
{
    public static async Task<ObservedState> DiscoverAsync(IAwsPorts ports, string stack, IEnumerable<string> regions,
        RetryPolicy retry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(retry);
        var tasks = regions.Distinct(StringComparer.Ordinal)
            .Select(region => DiscoverRegionAsync(ports.Ec2(region), stack, retry, cancellationToken));
        return new ObservedState(stack, await Task.WhenAll(tasks).ConfigureAwait(false));
    }

    public static async Task<ObservedRegion> DiscoverRegionAsync(IEc2Port ec2, string stack, RetryPolicy retry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        ArgumentNullException.ThrowIfNull(retry);
        try
        {
            var peerings = await retry.RunAsync(ct => ec2.DescribePeeringsAsync(stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
            return new ObservedRegion(ec2.Region)
            {
                KeyPairs = await retry.RunAsync(ct => ec2.DescribeKeyPairsAsync(stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false),
                Vpcs = await retry.RunAsync(ct => ec2.DescribeVpcsAsync(stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false),
                Subnets = await retry.RunAsync(ct => ec2.DescribeSubnetsAsync(stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false),
                InternetGateways = await retry.RunAsync(ct => ec2.DescribeInternetGatewaysAsync(stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false),
                RouteTables = await retry.RunAsync(ct => ec2.DescribeRouteTablesAsync(stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false),
                SecurityGroups = await retry.RunAsync(ct => ec2.DescribeSecurityGroupsAsync(stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false),
                // A cross-region peering is seen from both sides; it belongs to the requester's region, where its tags are.
                Peerings = [.. peerings.Where(p => p.RequesterRegion == ec2.Region)],
                Instances = await retry.RunAsync(ct => ec2.DescribeInstancesAsync(stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false),
                Addresses = await retry.RunAsync(ct => ec2.DescribeAddressesAsync(stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false),
            };
        }
        catch (AwsApiException ex)
        {
            throw AwsErrors.Map(ex);
        }
    }
}
