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
        ArgumentNullException.ThrowIfNull(regions);
        regions = [.. regions];
        StackNames.Require(stack, regions.FirstOrDefault() ?? "-");
        var tasks = regions.Distinct(StringComparer.Ordinal)
            .Select(region => DiscoverRegionAsync(ports.Ec2(region), stack, retry, cancellationToken));
        return new ObservedState(stack, await Task.WhenAll(tasks).ConfigureAwait(false));
    }

    /// <summary>Discovers the topology's regions and every other enabled region where anything carries the stack's tag, so a
    /// region removed from the topology is still found (and planned away, destroyed, shown and priced). The enabled regions
    /// come from DescribeRegions; when that is refused, from the regions egress knows, skipping those not enabled. Each region
    /// outside the topology costs one DescribeTags call; a full discovery runs only where the tag is found.</summary>
    public static async Task<ObservedState> SweepAsync(IAwsPorts ports, string stack, IReadOnlyList<string> topologyRegions,
        RetryPolicy retry, CancellationToken cancellationToken)
    {
        var found = await FindRegionsAsync(ports, stack, topologyRegions, retry, cancellationToken).ConfigureAwait(false);
        var observed = await DiscoverAsync(ports, stack, [.. topologyRegions, .. found.Tagged], retry, cancellationToken).ConfigureAwait(false);
        var outside = observed.RegionsWithResources.Where(r => !topologyRegions.Contains(r, StringComparer.Ordinal)).ToList();
        return observed with { Sweep = new RegionSweep(found.Searched, found.Source, outside) };
    }

    /// <summary>Which regions outside <paramref name="topologyRegions"/> hold anything tagged for the stack (one DescribeTags call
    /// per other enabled region; no full discovery). DescribeTags still lists a terminated instance for a while, so this may
    /// name a region that holds nothing live: callers that must know read the region in full.</summary>
    public static async Task<StackRegions> FindRegionsAsync(IAwsPorts ports, string stack, IReadOnlyList<string> topologyRegions,
        RetryPolicy retry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(topologyRegions);
        ArgumentNullException.ThrowIfNull(retry);
        var home = topologyRegions[0];
        StackNames.Require(stack, home);
        IReadOnlyList<string> enabled;
        string source;
        var fromKnownList = false;
        try
        {
            enabled = await retry.RunAsync(ct => ports.Ec2(home).DescribeRegionsAsync(ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
            source = "the enabled regions from DescribeRegions";
        }
        catch (AwsApiException ex) when (!IsCredentialError(ex) && ex.ErrorCode != AwsErrors.EndpointUnreachable)
        {
            enabled = [.. Core.AwsRegions.All.Select(r => r.Code)];
            source = $"the {enabled.Count} regions egress knows: DescribeRegions failed with {ex.ErrorCode}";
            fromKnownList = true;
        }
        catch (AwsApiException ex)
        {
            throw AwsErrors.Map(ex);
        }

        var others = enabled.Where(r => !topologyRegions.Contains(r, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        var probes = await Task.WhenAll(others.Select(async region =>
        {
            try
            {
                var ids = await retry.RunAsync(ct => ports.Ec2(region).DescribeStackTagsAsync(stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
                return (region, found: ids.Count > 0, searched: true);
            }
            catch (AwsApiException ex) when (fromKnownList && ex.ErrorCode is "OptInRequired" or "AuthFailure" or "UnauthorizedOperation")
            {
                return (region, found: false, searched: false); // a region the account has not enabled holds nothing
            }
            catch (AwsApiException ex)
            {
                throw AwsErrors.Map(ex);
            }
        })).ConfigureAwait(false);
        return new StackRegions(
            [.. probes.Where(p => p.found).Select(p => p.region).Order(StringComparer.Ordinal)],
            [.. topologyRegions, .. probes.Where(p => p.searched).Select(p => p.region)],
            source);
    }

    private static bool IsCredentialError(AwsApiException ex) =>
        ex.ErrorCode is AwsErrors.NoCredentials or "InvalidClientTokenId" or "UnrecognizedClientException" or "ExpiredToken" or "ExpiredTokenException" or "SignatureDoesNotMatch";

    /// <summary>Everything of the stack in one region. Every resource a describe call returns is kept only when its
    /// <c>egress:stack</c> tag is exactly <paramref name="stack"/> (<see cref="StackNames.Owns"/>): the filters ask AWS for
    /// that already, but an emulator may ignore them (moto does for peerings), and nothing of another stack may ever be
    /// planned for change or deletion.</summary>
    public static async Task<ObservedRegion> DiscoverRegionAsync(IEc2Port ec2, string stack, RetryPolicy retry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        ArgumentNullException.ThrowIfNull(retry);
        StackNames.Require(stack, ec2.Region);
        async Task<IReadOnlyList<T>> Ours<T>(Func<CancellationToken, Task<IReadOnlyList<T>>> describe) where T : ObservedResource =>
            [.. (await retry.RunAsync(describe, cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false)).Where(r => StackNames.Owns(stack, r.Tags))];

        try
        {
            var peerings = await Ours(ct => ec2.DescribePeeringsAsync(stack, ct)).ConfigureAwait(false);
            return new ObservedRegion(ec2.Region)
            {
                KeyPairs = await Ours(ct => ec2.DescribeKeyPairsAsync(stack, ct)).ConfigureAwait(false),
                Vpcs = await Ours(ct => ec2.DescribeVpcsAsync(stack, ct)).ConfigureAwait(false),
                Subnets = await Ours(ct => ec2.DescribeSubnetsAsync(stack, ct)).ConfigureAwait(false),
                InternetGateways = await Ours(ct => ec2.DescribeInternetGatewaysAsync(stack, ct)).ConfigureAwait(false),
                RouteTables = await Ours(ct => ec2.DescribeRouteTablesAsync(stack, ct)).ConfigureAwait(false),
                SecurityGroups = await Ours(ct => ec2.DescribeSecurityGroupsAsync(stack, ct)).ConfigureAwait(false),
                // A cross-region peering is seen from both sides; it belongs to the requester's region, where its tags are.
                Peerings = [.. peerings.Where(p => p.RequesterRegion == ec2.Region)],
                Instances = await Ours(ct => ec2.DescribeInstancesAsync(stack, ct)).ConfigureAwait(false),
                Addresses = await Ours(ct => ec2.DescribeAddressesAsync(stack, ct)).ConfigureAwait(false),
            };
        }
        catch (AwsApiException ex)
        {
            throw AwsErrors.Map(ex);
        }
    }
}

/// <summary>Where a stack was looked for outside the topology: the regions where its tag was found (ordinal order), every
/// region searched (the topology's first), and how the region list was obtained.</summary>
public sealed record StackRegions(IReadOnlyList<string> Tagged, IReadOnlyList<string> Searched, string Source);
