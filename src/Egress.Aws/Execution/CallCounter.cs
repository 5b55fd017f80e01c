using Egress.Aws.Model;
using Egress.Aws.Ports;

namespace Egress.Aws.Execution;

/// <summary>Counts the calls that go through any <see cref="IAwsPorts"/> (the SDK or the fake): reads (Describe*, Get*)
/// and mutations (everything else), so every verb can say what it cost. The ports are wrapped by plain decorators (one
/// line per port method), not a run-time proxy: the shipped build has no dynamic code (DynamicCodeSupport false,
/// the AOT analyzers on), and a new port method that is not counted here does not compile.</summary>
public sealed class CallCounter : IAwsPorts
{
    private readonly IAwsPorts _inner;
    private int _reads;
    private int _mutations;

    public CallCounter(IAwsPorts inner)
    {
        _inner = inner;
    }

    public int Reads => Volatile.Read(ref _reads);

    public int Mutations => Volatile.Read(ref _mutations);

    public override string ToString() => $"{Reads} read call{(Reads == 1 ? string.Empty : "s")}, {Mutations} mutating call{(Mutations == 1 ? string.Empty : "s")}";

    public IEc2Port Ec2(string region) => new CountingEc2Port(_inner.Ec2(region), this);

    public ISsmPort Ssm(string region) => new CountingSsmPort(_inner.Ssm(region), this);

    /// <summary>Counts a read call (Describe*, Get*) when it is made, whether or not it succeeds (AWS counts it too).</summary>
    internal Task<T> Read<T>(Task<T> call)
    {
        Interlocked.Increment(ref _reads);
        return call;
    }

    internal Task<T> Mutation<T>(Task<T> call)
    {
        Interlocked.Increment(ref _mutations);
        return call;
    }

    internal Task Mutation(Task call)
    {
        Interlocked.Increment(ref _mutations);
        return call;
    }
}

internal sealed class CountingEc2Port(IEc2Port inner, CallCounter counter) : IEc2Port
{
    public string Region => inner.Region;

    public Task<IReadOnlyList<string>> DescribeRegionsAsync(CancellationToken cancellationToken) => counter.Read(inner.DescribeRegionsAsync(cancellationToken));

    public Task<IReadOnlyList<string>> DescribeStackTagsAsync(string stack, CancellationToken cancellationToken) => counter.Read(inner.DescribeStackTagsAsync(stack, cancellationToken));

    public Task<IReadOnlyList<ObservedKeyPair>> DescribeKeyPairsAsync(string stack, CancellationToken cancellationToken) => counter.Read(inner.DescribeKeyPairsAsync(stack, cancellationToken));

    public Task<IReadOnlyList<ObservedVpc>> DescribeVpcsAsync(string stack, CancellationToken cancellationToken) => counter.Read(inner.DescribeVpcsAsync(stack, cancellationToken));

    public Task<IReadOnlyList<ObservedSubnet>> DescribeSubnetsAsync(string stack, CancellationToken cancellationToken) => counter.Read(inner.DescribeSubnetsAsync(stack, cancellationToken));

    public Task<IReadOnlyList<ObservedInternetGateway>> DescribeInternetGatewaysAsync(string stack, CancellationToken cancellationToken) => counter.Read(inner.DescribeInternetGatewaysAsync(stack, cancellationToken));

    public Task<IReadOnlyList<ObservedRouteTable>> DescribeRouteTablesAsync(string stack, CancellationToken cancellationToken) => counter.Read(inner.DescribeRouteTablesAsync(stack, cancellationToken));

    public Task<IReadOnlyList<ObservedSecurityGroup>> DescribeSecurityGroupsAsync(string stack, CancellationToken cancellationToken) => counter.Read(inner.DescribeSecurityGroupsAsync(stack, cancellationToken));

    public Task<IReadOnlyList<ObservedPeering>> DescribePeeringsAsync(string stack, CancellationToken cancellationToken) => counter.Read(inner.DescribePeeringsAsync(stack, cancellationToken));

    public Task<IReadOnlyList<ObservedInstance>> DescribeInstancesAsync(string stack, CancellationToken cancellationToken) => counter.Read(inner.DescribeInstancesAsync(stack, cancellationToken));

    public Task<IReadOnlyList<ObservedAddress>> DescribeAddressesAsync(string stack, CancellationToken cancellationToken) => counter.Read(inner.DescribeAddressesAsync(stack, cancellationToken));

    public Task<ObservedPeering?> DescribePeeringAsync(string peeringId, CancellationToken cancellationToken) => counter.Read(inner.DescribePeeringAsync(peeringId, cancellationToken));

    public Task<ObservedInstance?> DescribeInstanceAsync(string instanceId, CancellationToken cancellationToken) => counter.Read(inner.DescribeInstanceAsync(instanceId, cancellationToken));

    public Task<string> GetConsoleOutputAsync(string instanceId, CancellationToken cancellationToken) => counter.Read(inner.GetConsoleOutputAsync(instanceId, cancellationToken));

    public Task<string> ImportKeyPairAsync(string keyName, string publicKey, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) => counter.Mutation(inner.ImportKeyPairAsync(keyName, publicKey, tags, cancellationToken));

    public Task DeleteKeyPairAsync(string keyPairId, CancellationToken cancellationToken) => counter.Mutation(inner.DeleteKeyPairAsync(keyPairId, cancellationToken));

    public Task<string> CreateVpcAsync(string cidr, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) => counter.Mutation(inner.CreateVpcAsync(cidr, tags, cancellationToken));

    public Task SetVpcDnsSupportAsync(string vpcId, bool enabled, CancellationToken cancellationToken) => counter.Mutation(inner.SetVpcDnsSupportAsync(vpcId, enabled, cancellationToken));

    public Task SetVpcDnsHostnamesAsync(string vpcId, bool enabled, CancellationToken cancellationToken) => counter.Mutation(inner.SetVpcDnsHostnamesAsync(vpcId, enabled, cancellationToken));

    public Task DeleteVpcAsync(string vpcId, CancellationToken cancellationToken) => counter.Mutation(inner.DeleteVpcAsync(vpcId, cancellationToken));

    public Task<string> CreateSubnetAsync(string vpcId, string cidr, string availabilityZone, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) => counter.Mutation(inner.CreateSubnetAsync(vpcId, cidr, availabilityZone, tags, cancellationToken));

    public Task DeleteSubnetAsync(string subnetId, CancellationToken cancellationToken) => counter.Mutation(inner.DeleteSubnetAsync(subnetId, cancellationToken));

    public Task<string> CreateInternetGatewayAsync(IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) => counter.Mutation(inner.CreateInternetGatewayAsync(tags, cancellationToken));

    public Task AttachInternetGatewayAsync(string gatewayId, string vpcId, CancellationToken cancellationToken) => counter.Mutation(inner.AttachInternetGatewayAsync(gatewayId, vpcId, cancellationToken));

    public Task DetachInternetGatewayAsync(string gatewayId, string vpcId, CancellationToken cancellationToken) => counter.Mutation(inner.DetachInternetGatewayAsync(gatewayId, vpcId, cancellationToken));

    public Task DeleteInternetGatewayAsync(string gatewayId, CancellationToken cancellationToken) => counter.Mutation(inner.DeleteInternetGatewayAsync(gatewayId, cancellationToken));

    public Task<string> CreateRouteTableAsync(string vpcId, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) => counter.Mutation(inner.CreateRouteTableAsync(vpcId, tags, cancellationToken));

    public Task<string> AssociateRouteTableAsync(string routeTableId, string subnetId, CancellationToken cancellationToken) => counter.Mutation(inner.AssociateRouteTableAsync(routeTableId, subnetId, cancellationToken));

    public Task DisassociateRouteTableAsync(string associationId, CancellationToken cancellationToken) => counter.Mutation(inner.DisassociateRouteTableAsync(associationId, cancellationToken));

    public Task DeleteRouteTableAsync(string routeTableId, CancellationToken cancellationToken) => counter.Mutation(inner.DeleteRouteTableAsync(routeTableId, cancellationToken));

    public Task CreateRouteAsync(string routeTableId, string destination, RouteTarget target, CancellationToken cancellationToken) => counter.Mutation(inner.CreateRouteAsync(routeTableId, destination, target, cancellationToken));

    public Task ReplaceRouteAsync(string routeTableId, string destination, RouteTarget target, CancellationToken cancellationToken) => counter.Mutation(inner.ReplaceRouteAsync(routeTableId, destination, target, cancellationToken));

    public Task DeleteRouteAsync(string routeTableId, string destination, CancellationToken cancellationToken) => counter.Mutation(inner.DeleteRouteAsync(routeTableId, destination, cancellationToken));

    public Task<string> CreateSecurityGroupAsync(string vpcId, string groupName, string description, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) => counter.Mutation(inner.CreateSecurityGroupAsync(vpcId, groupName, description, tags, cancellationToken));

    public Task AuthorizeIngressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) => counter.Mutation(inner.AuthorizeIngressAsync(groupId, rules, cancellationToken));

    public Task RevokeIngressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) => counter.Mutation(inner.RevokeIngressAsync(groupId, rules, cancellationToken));

    public Task AuthorizeEgressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) => counter.Mutation(inner.AuthorizeEgressAsync(groupId, rules, cancellationToken));

    public Task RevokeEgressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) => counter.Mutation(inner.RevokeEgressAsync(groupId, rules, cancellationToken));

    public Task DeleteSecurityGroupAsync(string groupId, CancellationToken cancellationToken) => counter.Mutation(inner.DeleteSecurityGroupAsync(groupId, cancellationToken));

    public Task<string> CreatePeeringAsync(string vpcId, string peerVpcId, string peerRegion, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) => counter.Mutation(inner.CreatePeeringAsync(vpcId, peerVpcId, peerRegion, tags, cancellationToken));

    public Task AcceptPeeringAsync(string peeringId, CancellationToken cancellationToken) => counter.Mutation(inner.AcceptPeeringAsync(peeringId, cancellationToken));

    public Task AllowPeeringDnsAsync(string peeringId, bool requesterSide, CancellationToken cancellationToken) => counter.Mutation(inner.AllowPeeringDnsAsync(peeringId, requesterSide, cancellationToken));

    public Task DeletePeeringAsync(string peeringId, CancellationToken cancellationToken) => counter.Mutation(inner.DeletePeeringAsync(peeringId, cancellationToken));

    public Task<string> RunInstanceAsync(InstanceLaunch launch, CancellationToken cancellationToken) => counter.Mutation(inner.RunInstanceAsync(launch, cancellationToken));

    public Task SetSourceDestCheckAsync(string instanceId, bool enabled, CancellationToken cancellationToken) => counter.Mutation(inner.SetSourceDestCheckAsync(instanceId, enabled, cancellationToken));

    public Task TerminateInstanceAsync(string instanceId, CancellationToken cancellationToken) => counter.Mutation(inner.TerminateInstanceAsync(instanceId, cancellationToken));

    public Task<string> AllocateAddressAsync(IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) => counter.Mutation(inner.AllocateAddressAsync(tags, cancellationToken));

    public Task<string> AssociateAddressAsync(string allocationId, string instanceId, CancellationToken cancellationToken) => counter.Mutation(inner.AssociateAddressAsync(allocationId, instanceId, cancellationToken));

    public Task DisassociateAddressAsync(string associationId, CancellationToken cancellationToken) => counter.Mutation(inner.DisassociateAddressAsync(associationId, cancellationToken));

    public Task ReleaseAddressAsync(string allocationId, CancellationToken cancellationToken) => counter.Mutation(inner.ReleaseAddressAsync(allocationId, cancellationToken));
}

internal sealed class CountingSsmPort(ISsmPort inner, CallCounter counter) : ISsmPort
{
    public string Region => inner.Region;

    public Task<string?> GetParameterAsync(string name, CancellationToken cancellationToken) => counter.Read(inner.GetParameterAsync(name, cancellationToken));

    public Task<bool> PutParameterIfAbsentAsync(string name, string value, CancellationToken cancellationToken) => counter.Mutation(inner.PutParameterIfAbsentAsync(name, value, cancellationToken));

    public Task DeleteParameterAsync(string name, CancellationToken cancellationToken) => counter.Mutation(inner.DeleteParameterAsync(name, cancellationToken));

    public Task<string> SendShellScriptAsync(string instanceId, IReadOnlyList<string> commands, TimeSpan timeout, CancellationToken cancellationToken) => counter.Mutation(inner.SendShellScriptAsync(instanceId, commands, timeout, cancellationToken));

    public Task<SsmInvocation?> GetInvocationAsync(string commandId, string instanceId, CancellationToken cancellationToken) => counter.Read(inner.GetInvocationAsync(commandId, instanceId, cancellationToken));
}
