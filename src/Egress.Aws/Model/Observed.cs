namespace Egress.Aws.Model;

/// <summary>A resource as AWS reports it; <see cref="Tags"/> carry the stack and component.</summary>
public abstract record ObservedResource(string Id, IReadOnlyDictionary<string, string> Tags)
{
    public string? Component => Tags.TryGetValue(StackTags.Component, out var c) ? c : null;
}

public sealed record ObservedVpc(string Id, IReadOnlyDictionary<string, string> Tags, string Cidr, bool DnsSupport, bool DnsHostnames, string State)
    : ObservedResource(Id, Tags);

public sealed record ObservedSubnet(string Id, IReadOnlyDictionary<string, string> Tags, string VpcId, string Cidr, string AvailabilityZone)
    : ObservedResource(Id, Tags);

public sealed record ObservedInternetGateway(string Id, IReadOnlyDictionary<string, string> Tags, IReadOnlyList<string> AttachedVpcIds)
    : ObservedResource(Id, Tags);

/// <summary>A route; its target is an internet gateway ("igw-..."), a peering ("pcx-...") or "local".</summary>
public sealed record ObservedRoute(string Destination, string Target, string State);

/// <summary>A route of one of the stack's route tables, as a resource of its own (AWS cannot tag routes).</summary>
public sealed record ObservedRouteEntry(string RouteTableId, ObservedRoute Route)
    : ObservedResource($"{RouteTableId}:{Route.Destination}", new Dictionary<string, string>());

public sealed record ObservedAssociation(string AssociationId, string? SubnetId, bool Main);

public sealed record ObservedRouteTable(string Id, IReadOnlyDictionary<string, string> Tags, string VpcId,
    IReadOnlyList<ObservedRoute> Routes, IReadOnlyList<ObservedAssociation> Associations) : ObservedResource(Id, Tags);

public sealed record ObservedSecurityGroup(string Id, IReadOnlyDictionary<string, string> Tags, string VpcId, string GroupName,
    IReadOnlyList<SecurityGroupRule> Ingress, IReadOnlyList<SecurityGroupRule> Egress) : ObservedResource(Id, Tags);

public static class InstanceStates
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string ShuttingDown = "shutting-down";
    public const string Terminated = "terminated";
    public const string Stopping = "stopping";
    public const string Stopped = "stopped";

    /// <summary>Terminated instances stay visible (with tags) for a while; they are gone for every other purpose.</summary>
    public static bool IsGone(string state) => state is Terminated or ShuttingDown;
}

public sealed record ObservedInstance(string Id, IReadOnlyDictionary<string, string> Tags) : ObservedResource(Id, Tags)
{
    public required string State { get; init; }

    public required string InstanceType { get; init; }

    public required string ImageId { get; init; }

    public string? SubnetId { get; init; }

    public string? PrivateIp { get; init; }

    public string? PublicIp { get; init; }

    public IReadOnlyList<string> SecurityGroupIds { get; init; } = [];

    public bool SourceDestCheck { get; init; } = true;

    public string? KeyName { get; init; }

    public string? HttpTokens { get; init; }

    /// <summary>The instance profile's ARN, e.g. arn:aws:iam::123:instance-profile/NAME.</summary>
    public string? InstanceProfileArn { get; init; }
}

public sealed record ObservedAddress(string Id, IReadOnlyDictionary<string, string> Tags, string PublicIp, string? InstanceId, string? AssociationId)
    : ObservedResource(Id, Tags);

public static class PeeringStates
{
    public const string InitiatingRequest = "initiating-request";
    public const string PendingAcceptance = "pending-acceptance";
    public const string Provisioning = "provisioning";
    public const string Active = "active";
    public const string Failed = "failed";
    public const string Deleted = "deleted";
    public const string Deleting = "deleting";
    public const string Rejected = "rejected";
    public const string Expired = "expired";

    public static bool IsGone(string status) => status is Failed or Deleted or Deleting or Rejected or Expired;
}

public sealed record ObservedPeering(string Id, IReadOnlyDictionary<string, string> Tags) : ObservedResource(Id, Tags)
{
    public required string RequesterVpcId { get; init; }

    public required string RequesterRegion { get; init; }

    public required string AccepterVpcId { get; init; }

    public required string AccepterRegion { get; init; }

    public required string Status { get; init; }

    public string? StatusMessage { get; init; }

    public bool RequesterAllowsDns { get; init; }

    public bool AccepterAllowsDns { get; init; }
}

public sealed record ObservedKeyPair(string Id, IReadOnlyDictionary<string, string> Tags, string KeyName, string? Fingerprint)
    : ObservedResource(Id, Tags);

/// <summary>Everything tagged for the stack in one region.</summary>
public sealed record ObservedRegion(string Region)
{
    public IReadOnlyList<ObservedKeyPair> KeyPairs { get; init; } = [];
    public IReadOnlyList<ObservedVpc> Vpcs { get; init; } = [];
    public IReadOnlyList<ObservedSubnet> Subnets { get; init; } = [];
    public IReadOnlyList<ObservedInternetGateway> InternetGateways { get; init; } = [];
    public IReadOnlyList<ObservedRouteTable> RouteTables { get; init; } = [];
    public IReadOnlyList<ObservedSecurityGroup> SecurityGroups { get; init; } = [];
    public IReadOnlyList<ObservedPeering> Peerings { get; init; } = [];
    public IReadOnlyList<ObservedInstance> Instances { get; init; } = [];
    public IReadOnlyList<ObservedAddress> Addresses { get; init; } = [];

    /// <summary>Every live tagged resource (terminated instances and dead peerings excluded; a shutting-down instance
    /// still holds its private IP and security group, so it counts until it is terminated).</summary>
    public IEnumerable<ObservedResource> All =>
        KeyPairs.Cast<ObservedResource>().Concat(Vpcs).Concat(Subnets).Concat(InternetGateways).Concat(RouteTables)
            .Concat(SecurityGroups).Concat(Peerings.Where(p => !PeeringStates.IsGone(p.Status)))
            .Concat(Instances.Where(i => i.State != InstanceStates.Terminated)).Concat(Addresses);
}

/// <summary>Which regions a discovery searched for the stack's tag, and how it knew them.</summary>
/// <param name="Searched">Every region looked at (the topology's first).</param>
/// <param name="Source">"DescribeRegions", or the known region list and why DescribeRegions could not be used.</param>
/// <param name="Outside">Regions outside the topology where the stack has resources.</param>
public sealed record RegionSweep(IReadOnlyList<string> Searched, string Source, IReadOnlyList<string> Outside)
{
    public override string ToString() =>
        $"searched {Searched.Count} regions ({Source})" +
        (Outside.Count == 0 ? string.Empty : $"; the stack also has resources in {string.Join(", ", Outside)}, which the topology does not name");
}

/// <summary>What discovery found: every region of the topology, and every other region where the stack's tag was found.</summary>
public sealed record ObservedState(string Stack, IReadOnlyList<ObservedRegion> Regions)
{
    /// <summary>How the regions were chosen; null when only the given regions were read.</summary>
    public RegionSweep? Sweep { get; init; }

    /// <summary>The regions that hold anything of the stack.</summary>
    public IReadOnlyList<string> RegionsWithResources => [.. Regions.Where(r => r.All.Any()).Select(r => r.Region)];

    public ObservedRegion Region(string name) => Regions.FirstOrDefault(r => r.Region == name) ?? new ObservedRegion(name);

    public bool IsEmpty => Regions.All(r => !r.All.Any());
}
