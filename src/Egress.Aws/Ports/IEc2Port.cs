using Egress.Aws.Model;

namespace Egress.Aws.Ports;

/// <summary>An EC2 call failed: the AWS error code (e.g. DependencyViolation, RequestLimitExceeded), the action and region.
/// Both the SDK adapter and the fake throw this, so everything above the port sees one shape.</summary>
public sealed class AwsApiException(string errorCode, string message, string action, string region, Exception? inner = null)
    : Exception($"{action} in {region}: {errorCode}: {message}", inner)
{
    public string ErrorCode { get; } = errorCode;

    public string ErrorMessage { get; } = message;

    public string Action { get; } = action;

    public string Region { get; } = region;
}

/// <summary>What a route points at: exactly one of an internet gateway or a peering.</summary>
public sealed record RouteTarget(string? GatewayId, string? PeeringId)
{
    public static RouteTarget Gateway(string id) => new(id, null);

    public static RouteTarget Peering(string id) => new(null, id);

    public string Id => GatewayId ?? PeeringId ?? throw new InvalidOperationException("A route target needs an id.");
}

/// <summary>Everything RunInstances needs for one host.</summary>
public sealed record InstanceLaunch
{
    public required string ImageId { get; init; }
    public required string InstanceType { get; init; }
    public required string SubnetId { get; init; }
    public required string PrivateIp { get; init; }
    public required IReadOnlyList<string> SecurityGroupIds { get; init; }
    public required bool AssociatePublicIp { get; init; }
    public required string UserData { get; init; }
    public string? KeyName { get; init; }
    public string? InstanceProfile { get; init; }
    public required IReadOnlyDictionary<string, string> Tags { get; init; }

    /// <summary>Idempotency token: a retried RunInstances with the same token launches nothing new.</summary>
    public required string ClientToken { get; init; }

    public int RootVolumeGiB { get; init; } = DesiredInstance.RootVolumeGiB;

    /// <summary>Ubuntu's root device.</summary>
    public string RootDeviceName { get; init; } = "/dev/sda1";
}

/// <summary>The narrow EC2 port, bound to one region. Reads find the stack's resources by the egress:stack tag; mutations
/// tag at creation (TagSpecifications) so a crash never leaves an untagged resource. Errors: <see cref="AwsApiException"/>.</summary>
public interface IEc2Port
{
    string Region { get; }

    /// <summary>The regions enabled for the account (DescribeRegions without AllRegions: opt-in-not-required and opted-in).</summary>
    Task<IReadOnlyList<string>> DescribeRegionsAsync(CancellationToken cancellationToken);

    /// <summary>The ids of a few resources of any type in this region tagged <c>egress:stack=STACK</c> (one DescribeTags call):
    /// empty means the stack has nothing here.</summary>
    Task<IReadOnlyList<string>> DescribeStackTagsAsync(string stack, CancellationToken cancellationToken);

    Task<IReadOnlyList<ObservedKeyPair>> DescribeKeyPairsAsync(string stack, CancellationToken cancellationToken);
    Task<IReadOnlyList<ObservedVpc>> DescribeVpcsAsync(string stack, CancellationToken cancellationToken);
    Task<IReadOnlyList<ObservedSubnet>> DescribeSubnetsAsync(string stack, CancellationToken cancellationToken);
    Task<IReadOnlyList<ObservedInternetGateway>> DescribeInternetGatewaysAsync(string stack, CancellationToken cancellationToken);
    Task<IReadOnlyList<ObservedRouteTable>> DescribeRouteTablesAsync(string stack, CancellationToken cancellationToken);
    Task<IReadOnlyList<ObservedSecurityGroup>> DescribeSecurityGroupsAsync(string stack, CancellationToken cancellationToken);
    Task<IReadOnlyList<ObservedPeering>> DescribePeeringsAsync(string stack, CancellationToken cancellationToken);
    Task<IReadOnlyList<ObservedInstance>> DescribeInstancesAsync(string stack, CancellationToken cancellationToken);
    Task<IReadOnlyList<ObservedAddress>> DescribeAddressesAsync(string stack, CancellationToken cancellationToken);

    Task<ObservedPeering?> DescribePeeringAsync(string peeringId, CancellationToken cancellationToken);
    Task<ObservedInstance?> DescribeInstanceAsync(string instanceId, CancellationToken cancellationToken);
    Task<string> GetConsoleOutputAsync(string instanceId, CancellationToken cancellationToken);

    Task<string> ImportKeyPairAsync(string keyName, string publicKey, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken);
    Task DeleteKeyPairAsync(string keyPairId, CancellationToken cancellationToken);

    Task<string> CreateVpcAsync(string cidr, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken);
    Task SetVpcDnsSupportAsync(string vpcId, bool enabled, CancellationToken cancellationToken);
    Task SetVpcDnsHostnamesAsync(string vpcId, bool enabled, CancellationToken cancellationToken);
    Task DeleteVpcAsync(string vpcId, CancellationToken cancellationToken);

    Task<string> CreateSubnetAsync(string vpcId, string cidr, string availabilityZone, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken);
    Task DeleteSubnetAsync(string subnetId, CancellationToken cancellationToken);

    Task<string> CreateInternetGatewayAsync(IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken);
    Task AttachInternetGatewayAsync(string gatewayId, string vpcId, CancellationToken cancellationToken);
    Task DetachInternetGatewayAsync(string gatewayId, string vpcId, CancellationToken cancellationToken);
    Task DeleteInternetGatewayAsync(string gatewayId, CancellationToken cancellationToken);

    Task<string> CreateRouteTableAsync(string vpcId, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken);
    Task<string> AssociateRouteTableAsync(string routeTableId, string subnetId, CancellationToken cancellationToken);
    Task DisassociateRouteTableAsync(string associationId, CancellationToken cancellationToken);
    Task DeleteRouteTableAsync(string routeTableId, CancellationToken cancellationToken);

    Task CreateRouteAsync(string routeTableId, string destination, RouteTarget target, CancellationToken cancellationToken);
    Task ReplaceRouteAsync(string routeTableId, string destination, RouteTarget target, CancellationToken cancellationToken);
    Task DeleteRouteAsync(string routeTableId, string destination, CancellationToken cancellationToken);

    Task<string> CreateSecurityGroupAsync(string vpcId, string groupName, string description, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken);
    Task AuthorizeIngressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken);
    Task RevokeIngressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken);
    Task AuthorizeEgressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken);
    Task RevokeEgressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken);
    Task DeleteSecurityGroupAsync(string groupId, CancellationToken cancellationToken);

    Task<string> CreatePeeringAsync(string vpcId, string peerVpcId, string peerRegion, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken);

    /// <summary>Must be called on the accepter region's port.</summary>
    Task AcceptPeeringAsync(string peeringId, CancellationToken cancellationToken);

    /// <summary>Allows DNS resolution from the remote VPC for this region's side of an active peering (call it in each side's region).</summary>
    Task AllowPeeringDnsAsync(string peeringId, bool requesterSide, CancellationToken cancellationToken);
    Task DeletePeeringAsync(string peeringId, CancellationToken cancellationToken);

    Task<string> RunInstanceAsync(InstanceLaunch launch, CancellationToken cancellationToken);
    Task SetSourceDestCheckAsync(string instanceId, bool enabled, CancellationToken cancellationToken);
    Task TerminateInstanceAsync(string instanceId, CancellationToken cancellationToken);

    Task<string> AllocateAddressAsync(IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken);
    Task<string> AssociateAddressAsync(string allocationId, string instanceId, CancellationToken cancellationToken);
    Task DisassociateAddressAsync(string associationId, CancellationToken cancellationToken);
    Task ReleaseAddressAsync(string allocationId, CancellationToken cancellationToken);
}

/// <summary>One SSM Run Command invocation's outcome.</summary>
public sealed record SsmInvocation(string Status, int ExitCode, string StandardOutput, string StandardError)
{
    public bool IsFinished => Status is "Success" or "Failed" or "Cancelled" or "TimedOut" or "Cancelling" or "Undeliverable" or "Terminated" or "DeliveryTimedOut" or "ExecutionTimedOut";
}

/// <summary>The narrow SSM port, bound to one region: the AMI parameter and Run Command.</summary>
public interface ISsmPort
{
    string Region { get; }

    /// <summary>The parameter's value, or null when it does not exist (ParameterNotFound).</summary>
    Task<string?> GetParameterAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates a String parameter only if none has that name (Overwrite=false, atomic in AWS): true when this call
    /// created it, false when it exists already (ParameterAlreadyExists).</summary>
    Task<bool> PutParameterIfAbsentAsync(string name, string value, CancellationToken cancellationToken);

    /// <summary>Deletes the parameter; nothing happens when it does not exist.</summary>
    Task DeleteParameterAsync(string name, CancellationToken cancellationToken);

    /// <summary>Runs AWS-RunShellScript on one instance; returns the command id.</summary>
    Task<string> SendShellScriptAsync(string instanceId, IReadOnlyList<string> commands, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>The invocation, or null while SSM does not know it yet (InvocationDoesNotExist right after sending).</summary>
    Task<SsmInvocation?> GetInvocationAsync(string commandId, string instanceId, CancellationToken cancellationToken);
}

/// <summary>Makes the ports for each region (the SDK adapter, or the fake in tests).</summary>
public interface IAwsPorts
{
    IEc2Port Ec2(string region);

    ISsmPort Ssm(string region);
}
