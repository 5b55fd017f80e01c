using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;
using Egress.Aws.Model;
using Egress.Core;
using Egress.Aws.Ports;
using SecurityGroupRule = Egress.Aws.Model.SecurityGroupRule;
using Tag = Amazon.EC2.Model.Tag;

namespace Egress.Aws.Sdk;

/// <summary>The EC2 port over AmazonEC2Client for one region. Maps the SDK's shapes to the port's records and nothing more:
/// every decision lives in the planner and executor.</summary>
internal sealed class SdkEc2Port(IAmazonEC2 client, string region) : IEc2Port, IDisposable
{
    public string Region { get; } = region;

    internal IAmazonEC2 Client => client;

    public void Dispose() => client.Dispose();

    private Task<T> Call<T>(string action, Func<Task<T>> call) => SdkAwsPorts.Call(action, Region, call, client.Config as Amazon.Runtime.ClientConfig);

    private Task Call(string action, Func<Task> call) => SdkAwsPorts.Call(action, Region, async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    }, client.Config as Amazon.Runtime.ClientConfig);

    private static List<Filter> ByStack(string stack) => [new Filter { Name = $"tag:{StackTags.Stack}", Values = [stack] }];

    private static Dictionary<string, string> TagsOf(List<Tag>? tags) =>
        (tags ?? []).Where(t => t.Key is not null).GroupBy(t => t.Key).ToDictionary(g => g.Key, g => g.First().Value ?? string.Empty, StringComparer.Ordinal);

    /// <summary>Some endpoints send "" for an absent id (an unassociated Elastic IP's instance): the port says null.</summary>
    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static List<TagSpecification> Spec(ResourceType type, IReadOnlyDictionary<string, string> tags) =>
        [new TagSpecification { ResourceType = type, Tags = [.. tags.Select(t => new Tag(t.Key, t.Value))] }];

    // ---- reads ----

    public Task<IReadOnlyList<string>> DescribeRegionsAsync(CancellationToken cancellationToken) =>
        Call<IReadOnlyList<string>>("DescribeRegions", async () =>
        {
            var r = await client.DescribeRegionsAsync(new DescribeRegionsRequest(), cancellationToken).ConfigureAwait(false);
            return [.. (r.Regions ?? []).Where(x => x.OptInStatus is null or "opt-in-not-required" or "opted-in").Select(x => x.RegionName)];
        });

    public Task<IReadOnlyList<string>> DescribeStackTagsAsync(string stack, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<string>>("DescribeTags", async () =>
        {
            var r = await client.DescribeTagsAsync(new DescribeTagsRequest
            {
                Filters = [new Filter { Name = "key", Values = [StackTags.Stack] }, new Filter { Name = "value", Values = [stack] }],
                MaxResults = 5,
            }, cancellationToken).ConfigureAwait(false);
            return [.. (r.Tags ?? []).Select(t => t.ResourceId)];
        });

    public Task<IReadOnlyList<ObservedKeyPair>> DescribeKeyPairsAsync(string stack, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<ObservedKeyPair>>("DescribeKeyPairs", async () =>
        {
            var r = await client.DescribeKeyPairsAsync(new DescribeKeyPairsRequest { Filters = ByStack(stack) }, cancellationToken).ConfigureAwait(false);
            return [.. (r.KeyPairs ?? []).Select(k => new ObservedKeyPair(k.KeyPairId, TagsOf(k.Tags), k.KeyName, k.KeyFingerprint))];
        });

    public Task<IReadOnlyList<ObservedVpc>> DescribeVpcsAsync(string stack, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<ObservedVpc>>("DescribeVpcs", async () =>
        {
            var r = await client.DescribeVpcsAsync(new DescribeVpcsRequest { Filters = ByStack(stack) }, cancellationToken).ConfigureAwait(false);
            var result = new List<ObservedVpc>();
            foreach (var vpc in r.Vpcs ?? [])
            {
                // DNS attributes are not in DescribeVpcs: one DescribeVpcAttribute each (two reads per VPC).
                var support = await client.DescribeVpcAttributeAsync(new DescribeVpcAttributeRequest { VpcId = vpc.VpcId, Attribute = VpcAttributeName.EnableDnsSupport }, cancellationToken).ConfigureAwait(false);
                var hostnames = await client.DescribeVpcAttributeAsync(new DescribeVpcAttributeRequest { VpcId = vpc.VpcId, Attribute = VpcAttributeName.EnableDnsHostnames }, cancellationToken).ConfigureAwait(false);
                result.Add(new ObservedVpc(vpc.VpcId, TagsOf(vpc.Tags), vpc.CidrBlock, support.EnableDnsSupport ?? false, hostnames.EnableDnsHostnames ?? false, vpc.State?.Value ?? "available"));
            }

            return result;
        });

    public Task<IReadOnlyList<ObservedSubnet>> DescribeSubnetsAsync(string stack, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<ObservedSubnet>>("DescribeSubnets", async () =>
        {
            var r = await client.DescribeSubnetsAsync(new DescribeSubnetsRequest { Filters = ByStack(stack) }, cancellationToken).ConfigureAwait(false);
            return [.. (r.Subnets ?? []).Select(s => new ObservedSubnet(s.SubnetId, TagsOf(s.Tags), s.VpcId, s.CidrBlock, s.AvailabilityZone))];
        });

    public Task<IReadOnlyList<ObservedInternetGateway>> DescribeInternetGatewaysAsync(string stack, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<ObservedInternetGateway>>("DescribeInternetGateways", async () =>
        {
            var r = await client.DescribeInternetGatewaysAsync(new DescribeInternetGatewaysRequest { Filters = ByStack(stack) }, cancellationToken).ConfigureAwait(false);
            return [.. (r.InternetGateways ?? []).Select(g => new ObservedInternetGateway(g.InternetGatewayId, TagsOf(g.Tags),
                [.. (g.Attachments ?? []).Where(a => a.State?.Value is "available" or "attached" or "attaching").Select(a => a.VpcId)]))];
        });

    public Task<IReadOnlyList<ObservedRouteTable>> DescribeRouteTablesAsync(string stack, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<ObservedRouteTable>>("DescribeRouteTables", async () =>
        {
            var r = await client.DescribeRouteTablesAsync(new DescribeRouteTablesRequest { Filters = ByStack(stack) }, cancellationToken).ConfigureAwait(false);
            return [.. (r.RouteTables ?? []).Select(t => new ObservedRouteTable(t.RouteTableId, TagsOf(t.Tags), t.VpcId,
                [.. (t.Routes ?? []).Where(x => x.DestinationCidrBlock is not null)
                    .Select(x => new ObservedRoute(x.DestinationCidrBlock, x.VpcPeeringConnectionId ?? x.GatewayId ?? x.NatGatewayId ?? x.NetworkInterfaceId ?? x.InstanceId ?? "other", x.State?.Value ?? "active"))],
                [.. (t.Associations ?? []).Select(a => new ObservedAssociation(a.RouteTableAssociationId, a.SubnetId, a.Main ?? false))]))];
        });

    private static SecurityGroupRule[] RulesOf(IpPermission p) =>
        [.. (p.Ipv4Ranges ?? []).Select(range => new SecurityGroupRule(p.IpProtocol, p.FromPort ?? -1, p.ToPort ?? -1, range.CidrIp))];

    public Task<IReadOnlyList<ObservedSecurityGroup>> DescribeSecurityGroupsAsync(string stack, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<ObservedSecurityGroup>>("DescribeSecurityGroups", async () =>
        {
            var r = await client.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { Filters = ByStack(stack) }, cancellationToken).ConfigureAwait(false);
            return [.. (r.SecurityGroups ?? []).Select(g => new ObservedSecurityGroup(g.GroupId, TagsOf(g.Tags), g.VpcId, g.GroupName,
                [.. (g.IpPermissions ?? []).SelectMany(RulesOf)], [.. (g.IpPermissionsEgress ?? []).SelectMany(RulesOf)]))];
        });

    private static ObservedPeering ToObserved(VpcPeeringConnection p) => new(p.VpcPeeringConnectionId, TagsOf(p.Tags))
    {
        RequesterVpcId = p.RequesterVpcInfo?.VpcId ?? string.Empty,
        RequesterRegion = p.RequesterVpcInfo?.Region ?? string.Empty,
        AccepterVpcId = p.AccepterVpcInfo?.VpcId ?? string.Empty,
        AccepterRegion = p.AccepterVpcInfo?.Region ?? string.Empty,
        Status = p.Status?.Code?.Value ?? "unknown",
        StatusMessage = p.Status?.Message,
        RequesterAllowsDns = p.RequesterVpcInfo?.PeeringOptions?.AllowDnsResolutionFromRemoteVpc ?? false,
        AccepterAllowsDns = p.AccepterVpcInfo?.PeeringOptions?.AllowDnsResolutionFromRemoteVpc ?? false,
    };

    public Task<IReadOnlyList<ObservedPeering>> DescribePeeringsAsync(string stack, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<ObservedPeering>>("DescribeVpcPeeringConnections", async () =>
        {
            var r = await client.DescribeVpcPeeringConnectionsAsync(new DescribeVpcPeeringConnectionsRequest { Filters = ByStack(stack) }, cancellationToken).ConfigureAwait(false);
            return [.. (r.VpcPeeringConnections ?? []).Select(ToObserved)];
        });

    private static ObservedInstance ToObserved(Instance i) => new(i.InstanceId, TagsOf(i.Tags))
    {
        State = i.State?.Name?.Value ?? "unknown",
        InstanceType = i.InstanceType?.Value ?? string.Empty,
        ImageId = i.ImageId ?? string.Empty,
        SubnetId = i.SubnetId,
        PrivateIp = i.PrivateIpAddress,
        PublicIp = i.PublicIpAddress,
        SecurityGroupIds = [.. (i.SecurityGroups ?? []).Select(g => g.GroupId)],
        SourceDestCheck = i.SourceDestCheck ?? true,
        KeyName = i.KeyName,
        HttpTokens = i.MetadataOptions?.HttpTokens?.Value,
        InstanceProfileArn = i.IamInstanceProfile?.Arn,
    };

    public Task<IReadOnlyList<ObservedInstance>> DescribeInstancesAsync(string stack, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<ObservedInstance>>("DescribeInstances", async () =>
        {
            var result = new List<ObservedInstance>();
            string? next = null;
            do
            {
                var r = await client.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = ByStack(stack), NextToken = next }, cancellationToken).ConfigureAwait(false);
                result.AddRange((r.Reservations ?? []).SelectMany(x => x.Instances ?? []).Select(ToObserved));
                next = r.NextToken;
            }
            while (!string.IsNullOrEmpty(next));
            return result;
        });

    public Task<IReadOnlyList<ObservedAddress>> DescribeAddressesAsync(string stack, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<ObservedAddress>>("DescribeAddresses", async () =>
        {
            var r = await client.DescribeAddressesAsync(new DescribeAddressesRequest { Filters = ByStack(stack) }, cancellationToken).ConfigureAwait(false);
            return [.. (r.Addresses ?? []).Select(a => new ObservedAddress(a.AllocationId, TagsOf(a.Tags), a.PublicIp, NullIfEmpty(a.InstanceId), NullIfEmpty(a.AssociationId)))];
        });

    public Task<ObservedPeering?> DescribePeeringAsync(string peeringId, CancellationToken cancellationToken) =>
        Call("DescribeVpcPeeringConnections", async () =>
        {
            var r = await client.DescribeVpcPeeringConnectionsAsync(new DescribeVpcPeeringConnectionsRequest { VpcPeeringConnectionIds = [peeringId] }, cancellationToken).ConfigureAwait(false);
            var p = r.VpcPeeringConnections?.FirstOrDefault();
            return p is null ? null : ToObserved(p);
        });

    public Task<ObservedInstance?> DescribeInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        Call("DescribeInstances", async () =>
        {
            var r = await client.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [instanceId] }, cancellationToken).ConfigureAwait(false);
            var i = r.Reservations?.SelectMany(x => x.Instances ?? []).FirstOrDefault();
            return i is null ? null : ToObserved(i);
        });

    public Task<string> GetConsoleOutputAsync(string instanceId, CancellationToken cancellationToken) =>
        Call("GetConsoleOutput", async () =>
        {
            var r = await client.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = instanceId, Latest = true }, cancellationToken).ConfigureAwait(false);
            return string.IsNullOrEmpty(r.Output) ? string.Empty : Encoding.UTF8.GetString(Convert.FromBase64String(r.Output));
        });

    // ---- key pairs ----

    public Task<string> ImportKeyPairAsync(string keyName, string publicKey, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        Call("ImportKeyPair", async () => (await client.ImportKeyPairAsync(new ImportKeyPairRequest
        {
            KeyName = keyName,
            PublicKeyMaterial = Convert.ToBase64String(Encoding.UTF8.GetBytes(publicKey)),
            TagSpecifications = Spec(ResourceType.KeyPair, tags),
        }, cancellationToken).ConfigureAwait(false)).KeyPairId);

    public Task DeleteKeyPairAsync(string keyPairId, CancellationToken cancellationToken) =>
        Call("DeleteKeyPair", () => client.DeleteKeyPairAsync(new DeleteKeyPairRequest { KeyPairId = keyPairId }, cancellationToken));

    // ---- VPC, subnets, gateways ----

    public Task<string> CreateVpcAsync(string cidr, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        Call("CreateVpc", async () => (await client.CreateVpcAsync(new CreateVpcRequest
        {
            CidrBlock = cidr,
            TagSpecifications = Spec(ResourceType.Vpc, tags),
        }, cancellationToken).ConfigureAwait(false)).Vpc.VpcId);

    public Task SetVpcDnsSupportAsync(string vpcId, bool enabled, CancellationToken cancellationToken) =>
        Call("ModifyVpcAttribute", () => client.ModifyVpcAttributeAsync(new ModifyVpcAttributeRequest { VpcId = vpcId, EnableDnsSupport = enabled }, cancellationToken));

    public Task SetVpcDnsHostnamesAsync(string vpcId, bool enabled, CancellationToken cancellationToken) =>
        Call("ModifyVpcAttribute", () => client.ModifyVpcAttributeAsync(new ModifyVpcAttributeRequest { VpcId = vpcId, EnableDnsHostnames = enabled }, cancellationToken));

    public Task DeleteVpcAsync(string vpcId, CancellationToken cancellationToken) =>
        Call("DeleteVpc", () => client.DeleteVpcAsync(new DeleteVpcRequest { VpcId = vpcId }, cancellationToken));

    public Task<string> CreateSubnetAsync(string vpcId, string cidr, string availabilityZone, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        Call("CreateSubnet", async () => (await client.CreateSubnetAsync(new CreateSubnetRequest
        {
            VpcId = vpcId,
            CidrBlock = cidr,
            AvailabilityZone = availabilityZone,
            TagSpecifications = Spec(ResourceType.Subnet, tags),
        }, cancellationToken).ConfigureAwait(false)).Subnet.SubnetId);

    public Task DeleteSubnetAsync(string subnetId, CancellationToken cancellationToken) =>
        Call("DeleteSubnet", () => client.DeleteSubnetAsync(new DeleteSubnetRequest { SubnetId = subnetId }, cancellationToken));

    public Task<string> CreateInternetGatewayAsync(IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        Call("CreateInternetGateway", async () => (await client.CreateInternetGatewayAsync(new CreateInternetGatewayRequest
        {
            TagSpecifications = Spec(ResourceType.InternetGateway, tags),
        }, cancellationToken).ConfigureAwait(false)).InternetGateway.InternetGatewayId);

    public Task AttachInternetGatewayAsync(string gatewayId, string vpcId, CancellationToken cancellationToken) =>
        Call("AttachInternetGateway", () => client.AttachInternetGatewayAsync(new AttachInternetGatewayRequest { InternetGatewayId = gatewayId, VpcId = vpcId }, cancellationToken));

    public Task DetachInternetGatewayAsync(string gatewayId, string vpcId, CancellationToken cancellationToken) =>
        Call("DetachInternetGateway", () => client.DetachInternetGatewayAsync(new DetachInternetGatewayRequest { InternetGatewayId = gatewayId, VpcId = vpcId }, cancellationToken));

    public Task DeleteInternetGatewayAsync(string gatewayId, CancellationToken cancellationToken) =>
        Call("DeleteInternetGateway", () => client.DeleteInternetGatewayAsync(new DeleteInternetGatewayRequest { InternetGatewayId = gatewayId }, cancellationToken));

    // ---- route tables and routes ----

    public Task<string> CreateRouteTableAsync(string vpcId, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        Call("CreateRouteTable", async () => (await client.CreateRouteTableAsync(new CreateRouteTableRequest
        {
            VpcId = vpcId,
            TagSpecifications = Spec(ResourceType.RouteTable, tags),
        }, cancellationToken).ConfigureAwait(false)).RouteTable.RouteTableId);

    public Task<string> AssociateRouteTableAsync(string routeTableId, string subnetId, CancellationToken cancellationToken) =>
        Call("AssociateRouteTable", async () => (await client.AssociateRouteTableAsync(new AssociateRouteTableRequest
        {
            RouteTableId = routeTableId,
            SubnetId = subnetId,
        }, cancellationToken).ConfigureAwait(false)).AssociationId);

    public Task DisassociateRouteTableAsync(string associationId, CancellationToken cancellationToken) =>
        Call("DisassociateRouteTable", () => client.DisassociateRouteTableAsync(new DisassociateRouteTableRequest { AssociationId = associationId }, cancellationToken));

    public Task DeleteRouteTableAsync(string routeTableId, CancellationToken cancellationToken) =>
        Call("DeleteRouteTable", () => client.DeleteRouteTableAsync(new DeleteRouteTableRequest { RouteTableId = routeTableId }, cancellationToken));

    public Task CreateRouteAsync(string routeTableId, string destination, RouteTarget target, CancellationToken cancellationToken) =>
        Call("CreateRoute", () => client.CreateRouteAsync(new CreateRouteRequest
        {
            RouteTableId = routeTableId,
            DestinationCidrBlock = destination,
            GatewayId = target.GatewayId,
            VpcPeeringConnectionId = target.PeeringId,
        }, cancellationToken));

    public Task ReplaceRouteAsync(string routeTableId, string destination, RouteTarget target, CancellationToken cancellationToken) =>
        Call("ReplaceRoute", () => client.ReplaceRouteAsync(new ReplaceRouteRequest
        {
            RouteTableId = routeTableId,
            DestinationCidrBlock = destination,
            GatewayId = target.GatewayId,
            VpcPeeringConnectionId = target.PeeringId,
        }, cancellationToken));

    public Task DeleteRouteAsync(string routeTableId, string destination, CancellationToken cancellationToken) =>
        Call("DeleteRoute", () => client.DeleteRouteAsync(new DeleteRouteRequest { RouteTableId = routeTableId, DestinationCidrBlock = destination }, cancellationToken));

    // ---- security groups ----

    public Task<string> CreateSecurityGroupAsync(string vpcId, string groupName, string description, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        Call("CreateSecurityGroup", async () => (await client.CreateSecurityGroupAsync(new CreateSecurityGroupRequest
        {
            VpcId = vpcId,
            GroupName = groupName,
            Description = description,
            TagSpecifications = Spec(ResourceType.SecurityGroup, tags),
        }, cancellationToken).ConfigureAwait(false)).GroupId);

    /// <summary>Protocol-number rules and "-1" go with FromPort = ToPort = -1, as AWS requires.</summary>
    private static List<IpPermission> Permissions(IReadOnlyList<SecurityGroupRule> rules) =>
        [.. rules.Select(r => new IpPermission
        {
            IpProtocol = r.Protocol,
            FromPort = r.FromPort,
            ToPort = r.ToPort,
            Ipv4Ranges = [new IpRange { CidrIp = r.Cidr }],
        })];

    public Task AuthorizeIngressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) =>
        Call("AuthorizeSecurityGroupIngress", () => client.AuthorizeSecurityGroupIngressAsync(new AuthorizeSecurityGroupIngressRequest { GroupId = groupId, IpPermissions = Permissions(rules) }, cancellationToken));

    public Task RevokeIngressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) =>
        Call("RevokeSecurityGroupIngress", () => client.RevokeSecurityGroupIngressAsync(new RevokeSecurityGroupIngressRequest { GroupId = groupId, IpPermissions = Permissions(rules) }, cancellationToken));

    public Task AuthorizeEgressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) =>
        Call("AuthorizeSecurityGroupEgress", () => client.AuthorizeSecurityGroupEgressAsync(new AuthorizeSecurityGroupEgressRequest { GroupId = groupId, IpPermissions = Permissions(rules) }, cancellationToken));

    public Task RevokeEgressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) =>
        Call("RevokeSecurityGroupEgress", () => client.RevokeSecurityGroupEgressAsync(new RevokeSecurityGroupEgressRequest { GroupId = groupId, IpPermissions = Permissions(rules) }, cancellationToken));

    public Task DeleteSecurityGroupAsync(string groupId, CancellationToken cancellationToken) =>
        Call("DeleteSecurityGroup", () => client.DeleteSecurityGroupAsync(new DeleteSecurityGroupRequest { GroupId = groupId }, cancellationToken));

    // ---- peering ----

    public Task<string> CreatePeeringAsync(string vpcId, string peerVpcId, string peerRegion, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        Call("CreateVpcPeeringConnection", async () => (await client.CreateVpcPeeringConnectionAsync(new CreateVpcPeeringConnectionRequest
        {
            VpcId = vpcId,
            PeerVpcId = peerVpcId,
            PeerRegion = peerRegion,
            TagSpecifications = Spec(ResourceType.VpcPeeringConnection, tags),
        }, cancellationToken).ConfigureAwait(false)).VpcPeeringConnection.VpcPeeringConnectionId);

    public Task AcceptPeeringAsync(string peeringId, CancellationToken cancellationToken) =>
        Call("AcceptVpcPeeringConnection", () => client.AcceptVpcPeeringConnectionAsync(new AcceptVpcPeeringConnectionRequest { VpcPeeringConnectionId = peeringId }, cancellationToken));

    public Task AllowPeeringDnsAsync(string peeringId, bool requesterSide, CancellationToken cancellationToken) =>
        Call("ModifyVpcPeeringConnectionOptions", () => client.ModifyVpcPeeringConnectionOptionsAsync(new ModifyVpcPeeringConnectionOptionsRequest
        {
            VpcPeeringConnectionId = peeringId,
            RequesterPeeringConnectionOptions = requesterSide ? new PeeringConnectionOptionsRequest { AllowDnsResolutionFromRemoteVpc = true } : null,
            AccepterPeeringConnectionOptions = requesterSide ? null : new PeeringConnectionOptionsRequest { AllowDnsResolutionFromRemoteVpc = true },
        }, cancellationToken));

    public Task DeletePeeringAsync(string peeringId, CancellationToken cancellationToken) =>
        Call("DeleteVpcPeeringConnection", () => client.DeleteVpcPeeringConnectionAsync(new DeleteVpcPeeringConnectionRequest { VpcPeeringConnectionId = peeringId }, cancellationToken));

    // ---- instances and addresses ----

    public Task<string> RunInstanceAsync(InstanceLaunch launch, CancellationToken cancellationToken) =>
        Call("RunInstances", async () =>
        {
            var response = await client.RunInstancesAsync(new RunInstancesRequest
            {
                ImageId = launch.ImageId,
                InstanceType = InstanceType.FindValue(launch.InstanceType),
                MinCount = 1,
                MaxCount = 1,
                ClientToken = launch.ClientToken,
                KeyName = launch.KeyName,
                IamInstanceProfile = launch.InstanceProfile is null ? null : new IamInstanceProfileSpecification { Name = launch.InstanceProfile },
                UserData = Convert.ToBase64String(UserDataWire.Encode(launch.UserData)),
                MetadataOptions = new InstanceMetadataOptionsRequest { HttpTokens = HttpTokensState.Required, HttpEndpoint = InstanceMetadataEndpointState.Enabled },
                NetworkInterfaces =
                [
                    new InstanceNetworkInterfaceSpecification
                    {
                        DeviceIndex = 0,
                        SubnetId = launch.SubnetId,
                        PrivateIpAddress = launch.PrivateIp,
                        Groups = [.. launch.SecurityGroupIds],
                        AssociatePublicIpAddress = launch.AssociatePublicIp,
                        DeleteOnTermination = true,
                    },
                ],
                BlockDeviceMappings =
                [
                    new BlockDeviceMapping
                    {
                        DeviceName = launch.RootDeviceName,
                        Ebs = new EbsBlockDevice { VolumeType = VolumeType.Gp3, Encrypted = true, VolumeSize = launch.RootVolumeGiB, DeleteOnTermination = true },
                    },
                ],
                TagSpecifications = [.. Spec(ResourceType.Instance, launch.Tags), .. Spec(ResourceType.Volume, launch.Tags)],
            }, cancellationToken).ConfigureAwait(false);
            return response.Reservation.Instances[0].InstanceId;
        });

    public Task SetSourceDestCheckAsync(string instanceId, bool enabled, CancellationToken cancellationToken) =>
        Call("ModifyInstanceAttribute", () => client.ModifyInstanceAttributeAsync(new ModifyInstanceAttributeRequest { InstanceId = instanceId, SourceDestCheck = enabled }, cancellationToken));

    public Task TerminateInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        Call("TerminateInstances", () => client.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [instanceId] }, cancellationToken));

    public Task<string> AllocateAddressAsync(IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        Call("AllocateAddress", async () => (await client.AllocateAddressAsync(new AllocateAddressRequest
        {
            Domain = DomainType.Vpc,
            TagSpecifications = Spec(ResourceType.ElasticIp, tags),
        }, cancellationToken).ConfigureAwait(false)).AllocationId);

    public Task<string> AssociateAddressAsync(string allocationId, string instanceId, CancellationToken cancellationToken) =>
        Call("AssociateAddress", async () => (await client.AssociateAddressAsync(new AssociateAddressRequest
        {
            AllocationId = allocationId,
            InstanceId = instanceId,
            AllowReassociation = true,
        }, cancellationToken).ConfigureAwait(false)).AssociationId);

    public Task DisassociateAddressAsync(string associationId, CancellationToken cancellationToken) =>
        Call("DisassociateAddress", () => client.DisassociateAddressAsync(new DisassociateAddressRequest { AssociationId = associationId }, cancellationToken));

    public Task ReleaseAddressAsync(string allocationId, CancellationToken cancellationToken) =>
        Call("ReleaseAddress", () => client.ReleaseAddressAsync(new ReleaseAddressRequest { AllocationId = allocationId }, cancellationToken));
}
