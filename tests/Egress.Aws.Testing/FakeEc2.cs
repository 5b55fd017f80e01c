using Egress.Aws.Model;
using Egress.Aws.Ports;
using Egress.Core.Net;
using static Egress.Aws.Testing.FakeAwsCloud;

namespace Egress.Aws.Testing;

/// <summary>The fake's EC2 port for one region. See <see cref="FakeAwsCloud"/> for the rules it enforces.</summary>
internal sealed class FakeEc2(FakeAwsCloud cloud, string region) : IEc2Port
{
    public string Region { get; } = region;

    private T Read<T>(string action, Func<T> body) => cloud.Call(action, Region, mutating: false, body);

    private Task<T> ReadAsync<T>(string action, Func<T> body) => Task.FromResult(Read(action, body));

    private Task<T> MutateAsync<T>(string action, Func<T> body) => Task.FromResult(cloud.Call(action, Region, mutating: true, body));

    private Task MutateAsync(string action, Action body) => MutateAsync(action, () =>
    {
        body();
        return true;
    });

    private AwsApiException Error(string code, string message, string action) => new(code, message, action, Region);

    private static Dictionary<string, string> Copy(IReadOnlyDictionary<string, string> tags) => new(tags, StringComparer.Ordinal);

    // ---- lookups (always under the cloud's lock: they run inside Call) ----

    private VpcState Vpc(string id, string action)
    {
        cloud.Touch(id, "InvalidVpcID.NotFound", action, Region);
        return cloud.Vpcs.FirstOrDefault(v => v.Id == id && v.Region == Region)
            ?? throw Error("InvalidVpcID.NotFound", $"The vpc ID '{id}' does not exist", action);
    }

    private SubnetState Subnet(string id, string action)
    {
        cloud.Touch(id, "InvalidSubnetID.NotFound", action, Region);
        return cloud.Subnets.FirstOrDefault(v => v.Id == id && v.Region == Region)
            ?? throw Error("InvalidSubnetID.NotFound", $"The subnet ID '{id}' does not exist", action);
    }

    private GatewayState Gateway(string id, string action)
    {
        cloud.Touch(id, "InvalidInternetGatewayID.NotFound", action, Region);
        return cloud.Gateways.FirstOrDefault(v => v.Id == id && v.Region == Region)
            ?? throw Error("InvalidInternetGatewayID.NotFound", $"The internetGateway ID '{id}' does not exist", action);
    }

    private RouteTableState Table(string id, string action)
    {
        cloud.Touch(id, "InvalidRouteTableID.NotFound", action, Region);
        return cloud.RouteTables.FirstOrDefault(v => v.Id == id && v.Region == Region)
            ?? throw Error("InvalidRouteTableID.NotFound", $"The routeTable ID '{id}' does not exist", action);
    }

    private GroupState Group(string id, string action)
    {
        cloud.Touch(id, "InvalidGroup.NotFound", action, Region);
        return cloud.Groups.FirstOrDefault(v => v.Id == id && v.Region == Region)
            ?? throw Error("InvalidGroup.NotFound", $"The security group '{id}' does not exist", action);
    }

    private InstanceState Instance(string id, string action)
    {
        cloud.Touch(id, "InvalidInstanceID.NotFound", action, Region);
        return cloud.Instances.FirstOrDefault(v => v.Id == id && v.Region == Region && v.State != InstanceStates.Terminated)
            ?? throw Error("InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist", action);
    }

    private PeeringState Peering(string id, string action)
    {
        cloud.Touch(id, "InvalidVpcPeeringConnectionID.NotFound", action, Region);
        return cloud.Peerings.FirstOrDefault(p => p.Id == id && (p.RequesterRegion == Region || p.AccepterRegion == Region) && !PeeringStates.IsGone(p.Status))
            ?? throw Error("InvalidVpcPeeringConnectionID.NotFound", $"The vpcPeeringConnection ID '{id}' does not exist", action);
    }

    private AddressState Address(string id, string action)
    {
        cloud.Touch(id, "InvalidAllocationID.NotFound", action, Region);
        return cloud.Addresses.FirstOrDefault(a => a.Id == id && a.Region == Region)
            ?? throw Error("InvalidAllocationID.NotFound", $"The allocation ID '{id}' does not exist", action);
    }

    private bool Live(InstanceState i) => i.Region == Region && i.State != InstanceStates.Terminated;

    // ---- progression of asynchronous states: each observation moves them on ----

    private void Observe(InstanceState i)
    {
        i.Polls++;
        if (i.Polls <= cloud.Options.InstancePolls)
        {
            return;
        }

        if (i.State == InstanceStates.Pending)
        {
            i.State = InstanceStates.Running;
            i.Polls = 0;
        }
        else if (i.State == InstanceStates.ShuttingDown)
        {
            i.State = InstanceStates.Terminated;
            i.PublicIp = null;
            i.Polls = 0;
        }
    }

    private void Observe(PeeringState p)
    {
        if (p.Status == PeeringStates.Provisioning && ++p.Polls > cloud.Options.PeeringPolls)
        {
            p.Status = PeeringStates.Active;
        }
    }

    // ---- reads ----

    public Task<IReadOnlyList<string>> DescribeRegionsAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<string>>("DescribeRegions", () => [.. cloud.Options.EnabledRegions.Order(StringComparer.Ordinal)]);

    public Task<IReadOnlyList<string>> DescribeStackTagsAsync(string stack, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<string>>("DescribeTags", () => [.. cloud.LiveResources()
            .Where(r => r.Region == Region && cloud.TagsMatch(r.Tags, stack)).Select(r => r.Id).Take(5)]);

    public Task<IReadOnlyList<ObservedKeyPair>> DescribeKeyPairsAsync(string stack, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ObservedKeyPair>>("DescribeKeyPairs", () => [.. cloud.KeyPairs
            .Where(k => k.Region == Region && cloud.TagsMatch(k.Tags, stack))
            .Select(k => new ObservedKeyPair(k.Id, Copy(k.Tags), k.Name, null))]);

    public Task<IReadOnlyList<ObservedVpc>> DescribeVpcsAsync(string stack, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ObservedVpc>>("DescribeVpcs", () => [.. cloud.Vpcs
            .Where(v => v.Region == Region && cloud.TagsMatch(v.Tags, stack))
            .Select(v => new ObservedVpc(v.Id, Copy(v.Tags), v.Cidr, v.DnsSupport, v.DnsHostnames, "available"))]);

    public Task<IReadOnlyList<ObservedSubnet>> DescribeSubnetsAsync(string stack, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ObservedSubnet>>("DescribeSubnets", () => [.. cloud.Subnets
            .Where(v => v.Region == Region && cloud.TagsMatch(v.Tags, stack))
            .Select(v => new ObservedSubnet(v.Id, Copy(v.Tags), v.VpcId, v.Cidr, v.Az))]);

    public Task<IReadOnlyList<ObservedInternetGateway>> DescribeInternetGatewaysAsync(string stack, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ObservedInternetGateway>>("DescribeInternetGateways", () => [.. cloud.Gateways
            .Where(v => v.Region == Region && cloud.TagsMatch(v.Tags, stack))
            .Select(v => new ObservedInternetGateway(v.Id, Copy(v.Tags), v.VpcId is null ? [] : [v.VpcId]))]);

    public Task<IReadOnlyList<ObservedRouteTable>> DescribeRouteTablesAsync(string stack, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ObservedRouteTable>>("DescribeRouteTables", () => [.. cloud.RouteTables
            .Where(v => v.Region == Region && cloud.TagsMatch(v.Tags, stack))
            .Select(ToObserved)]);

    private ObservedRouteTable ToObserved(RouteTableState t) => new(t.Id, Copy(t.Tags), t.VpcId,
        [.. t.Routes.Select(r => new ObservedRoute(r.Destination, r.Target, RouteState(r.Target)))],
        [.. t.Associations.Select(a => new ObservedAssociation(a.AssociationId, a.SubnetId, Main: false))]);

    private string RouteState(string target)
    {
        if (target == "local")
        {
            return "active";
        }

        var alive = target.StartsWith("pcx-", StringComparison.Ordinal)
            ? cloud.Peerings.Any(p => p.Id == target && p.Status == PeeringStates.Active)
            : cloud.Gateways.Any(g => g.Id == target && g.VpcId is not null);
        return alive ? "active" : "blackhole";
    }

    public Task<IReadOnlyList<ObservedSecurityGroup>> DescribeSecurityGroupsAsync(string stack, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ObservedSecurityGroup>>("DescribeSecurityGroups", () => [.. cloud.Groups
            .Where(v => v.Region == Region && cloud.TagsMatch(v.Tags, stack))
            .Select(g => new ObservedSecurityGroup(g.Id, Copy(g.Tags), g.VpcId, g.Name, [.. g.Ingress], [.. g.Egress]))]);

    public Task<IReadOnlyList<ObservedPeering>> DescribePeeringsAsync(string stack, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ObservedPeering>>("DescribeVpcPeeringConnections", () =>
        {
            var found = cloud.Peerings.Where(p => (p.RequesterRegion == Region || p.AccepterRegion == Region) && cloud.TagsMatch(p.Tags, stack)).ToList();
            found.ForEach(Observe);
            return [.. found.Select(ToObserved)];
        });

    private static ObservedPeering ToObserved(PeeringState p) => new(p.Id, Copy(p.Tags))
    {
        RequesterVpcId = p.RequesterVpcId,
        RequesterRegion = p.RequesterRegion,
        AccepterVpcId = p.AccepterVpcId,
        AccepterRegion = p.AccepterRegion,
        Status = p.Status,
        StatusMessage = p.Message,
        RequesterAllowsDns = p.RequesterDns,
        AccepterAllowsDns = p.AccepterDns,
    };

    public Task<IReadOnlyList<ObservedInstance>> DescribeInstancesAsync(string stack, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ObservedInstance>>("DescribeInstances", () =>
        {
            var found = cloud.Instances.Where(i => i.Region == Region && cloud.TagsMatch(i.Tags, stack)).ToList();
            found.ForEach(Observe);
            return [.. found.Select(ToObserved)];
        });

    private static ObservedInstance ToObserved(InstanceState i) => new(i.Id, Copy(i.Tags))
    {
        State = i.State,
        InstanceType = i.InstanceType,
        ImageId = i.ImageId,
        SubnetId = i.SubnetId,
        PrivateIp = i.PrivateIp,
        PublicIp = i.PublicIp,
        SecurityGroupIds = [.. i.GroupIds],
        SourceDestCheck = i.SourceDestCheck,
        KeyName = i.KeyName,
        HttpTokens = i.HttpTokens,
        InstanceProfileArn = i.Profile is null ? null : $"arn:aws:iam::123456789012:instance-profile/{i.Profile}",
    };

    public Task<IReadOnlyList<ObservedAddress>> DescribeAddressesAsync(string stack, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ObservedAddress>>("DescribeAddresses", () => [.. cloud.Addresses
            .Where(a => a.Region == Region && cloud.TagsMatch(a.Tags, stack))
            .Select(a => new ObservedAddress(a.Id, Copy(a.Tags), a.PublicIp, a.InstanceId, a.AssociationId))]);

    public Task<ObservedPeering?> DescribePeeringAsync(string peeringId, CancellationToken cancellationToken) =>
        ReadAsync("DescribeVpcPeeringConnections", () =>
        {
            cloud.Touch(peeringId, "InvalidVpcPeeringConnectionID.NotFound", "DescribeVpcPeeringConnections", Region);
            var p = cloud.Peerings.FirstOrDefault(x => x.Id == peeringId && (x.RequesterRegion == Region || x.AccepterRegion == Region));
            if (p is null)
            {
                return null;
            }

            Observe(p);
            return ToObserved(p);
        });

    public Task<ObservedInstance?> DescribeInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        ReadAsync("DescribeInstances", () =>
        {
            cloud.Touch(instanceId, "InvalidInstanceID.NotFound", "DescribeInstances", Region);
            var i = cloud.Instances.FirstOrDefault(x => x.Id == instanceId && x.Region == Region)
                ?? throw Error("InvalidInstanceID.NotFound", $"The instance ID '{instanceId}' does not exist", "DescribeInstances");
            Observe(i);
            return ToObserved(i);
        })!;

    public Task<string> GetConsoleOutputAsync(string instanceId, CancellationToken cancellationToken) =>
        ReadAsync("GetConsoleOutput", () => Instance(instanceId, "GetConsoleOutput").ConsoleOutput);

    // ---- key pairs ----

    public Task<string> ImportKeyPairAsync(string keyName, string publicKey, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        MutateAsync("ImportKeyPair", () =>
        {
            if (cloud.KeyPairs.Any(k => k.Region == Region && k.Name == keyName))
            {
                throw Error("InvalidKeyPair.Duplicate", $"The keypair '{keyName}' already exists.", "ImportKeyPair");
            }

            if (!publicKey.StartsWith("ssh-", StringComparison.Ordinal) && !publicKey.StartsWith("ecdsa-", StringComparison.Ordinal))
            {
                throw Error("InvalidKey.Format", "Key is not in valid OpenSSH public key format", "ImportKeyPair");
            }

            var id = cloud.NewId("key");
            cloud.KeyPairs.Add(new KeyPairState { Id = id, Region = Region, Name = keyName, PublicKey = publicKey, Tags = Copy(tags) });
            return id;
        });

    public Task DeleteKeyPairAsync(string keyPairId, CancellationToken cancellationToken) =>
        MutateAsync("DeleteKeyPair", () => cloud.KeyPairs.RemoveAll(k => k.Id == keyPairId && k.Region == Region));

    // ---- VPC ----

    public Task<string> CreateVpcAsync(string cidr, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        MutateAsync("CreateVpc", () =>
        {
            if (cloud.Vpcs.Count(v => v.Region == Region) >= cloud.Options.VpcQuota)
            {
                throw Error("VpcLimitExceeded", "The maximum number of VPCs has been reached.", "CreateVpc");
            }

            var parsed = Ipv4Cidr.Parse(cidr);
            if (parsed.PrefixLength is < 16 or > 28)
            {
                throw Error("InvalidVpc.Range", $"The CIDR '{cidr}' is invalid.", "CreateVpc");
            }

            var id = cloud.NewId("vpc");
            cloud.Vpcs.Add(new VpcState { Id = id, Region = Region, Cidr = cidr, Tags = Copy(tags) });
            var main = new RouteTableState { Id = cloud.NewId("rtb"), Region = Region, VpcId = id, Main = true, Tags = [] };
            main.Routes.Add((cidr, "local"));
            cloud.RouteTables.Add(main);
            var group = new GroupState { Id = cloud.NewId("sg"), Region = Region, VpcId = id, Name = "default", Default = true, Tags = [] };
            group.Egress.Add(SecurityGroupRule.AllTraffic("0.0.0.0/0"));
            cloud.Groups.Add(group);
            cloud.MarkFresh(id);
            return id;
        });

    public Task SetVpcDnsSupportAsync(string vpcId, bool enabled, CancellationToken cancellationToken) =>
        MutateAsync("ModifyVpcAttribute", () => Vpc(vpcId, "ModifyVpcAttribute").DnsSupport = enabled);

    public Task SetVpcDnsHostnamesAsync(string vpcId, bool enabled, CancellationToken cancellationToken) =>
        MutateAsync("ModifyVpcAttribute", () =>
        {
            var vpc = Vpc(vpcId, "ModifyVpcAttribute");
            if (enabled && !vpc.DnsSupport)
            {
                throw Error("InvalidParameterValue", "DNS hostnames need DNS support.", "ModifyVpcAttribute");
            }

            vpc.DnsHostnames = enabled;
        });

    public Task DeleteVpcAsync(string vpcId, CancellationToken cancellationToken) =>
        MutateAsync("DeleteVpc", () =>
        {
            var vpc = Vpc(vpcId, "DeleteVpc");
            var dependants = cloud.Subnets.Where(s => s.VpcId == vpcId).Select(s => s.Id)
                .Concat(cloud.Gateways.Where(g => g.VpcId == vpcId).Select(g => g.Id))
                .Concat(cloud.RouteTables.Where(t => t.VpcId == vpcId && !t.Main).Select(t => t.Id))
                .Concat(cloud.Groups.Where(g => g.VpcId == vpcId && !g.Default).Select(g => g.Id))
                .Concat(cloud.Instances.Where(i => i.VpcId == vpcId && Live(i)).Select(i => i.Id))
                .ToList();
            if (dependants.Count > 0)
            {
                throw Error("DependencyViolation", $"The vpc '{vpcId}' has dependencies and cannot be deleted: {string.Join(", ", dependants)}", "DeleteVpc");
            }

            cloud.Vpcs.Remove(vpc);
            cloud.RouteTables.RemoveAll(t => t.VpcId == vpcId);
            cloud.Groups.RemoveAll(g => g.VpcId == vpcId);
            foreach (var p in cloud.Peerings.Where(p => p.RequesterVpcId == vpcId || p.AccepterVpcId == vpcId))
            {
                p.Status = PeeringStates.Deleted;
            }
        });

    // ---- subnets ----

    public Task<string> CreateSubnetAsync(string vpcId, string cidr, string availabilityZone, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        MutateAsync("CreateSubnet", () =>
        {
            var vpc = Vpc(vpcId, "CreateSubnet");
            if (!Ipv4Cidr.Parse(vpc.Cidr).Contains(Ipv4Cidr.Parse(cidr)))
            {
                throw Error("InvalidSubnet.Range", $"The CIDR '{cidr}' is invalid for the VPC {vpc.Cidr}.", "CreateSubnet");
            }

            if (cloud.Subnets.Any(s => s.VpcId == vpcId && Overlaps(s.Cidr, cidr)))
            {
                throw Error("InvalidSubnet.Conflict", $"The CIDR '{cidr}' conflicts with another subnet", "CreateSubnet");
            }

            if (!availabilityZone.StartsWith(Region, StringComparison.Ordinal))
            {
                throw Error("InvalidParameterValue", $"Value ({availabilityZone}) for parameter availabilityZone is invalid.", "CreateSubnet");
            }

            var id = cloud.NewId("subnet");
            cloud.Subnets.Add(new SubnetState { Id = id, Region = Region, VpcId = vpcId, Cidr = cidr, Az = availabilityZone, Tags = Copy(tags) });
            cloud.MarkFresh(id);
            return id;
        });

    public Task DeleteSubnetAsync(string subnetId, CancellationToken cancellationToken) =>
        MutateAsync("DeleteSubnet", () =>
        {
            var subnet = Subnet(subnetId, "DeleteSubnet");
            if (cloud.Instances.Any(i => i.SubnetId == subnetId && Live(i)))
            {
                throw Error("DependencyViolation", $"The subnet '{subnetId}' has dependencies and cannot be deleted.", "DeleteSubnet");
            }

            cloud.Subnets.Remove(subnet);
            foreach (var table in cloud.RouteTables)
            {
                table.Associations.RemoveAll(a => a.SubnetId == subnetId);
            }
        });

    // ---- internet gateways ----

    public Task<string> CreateInternetGatewayAsync(IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        MutateAsync("CreateInternetGateway", () =>
        {
            var id = cloud.NewId("igw");
            cloud.Gateways.Add(new GatewayState { Id = id, Region = Region, Tags = Copy(tags) });
            cloud.MarkFresh(id);
            return id;
        });

    public Task AttachInternetGatewayAsync(string gatewayId, string vpcId, CancellationToken cancellationToken) =>
        MutateAsync("AttachInternetGateway", () =>
        {
            var gateway = Gateway(gatewayId, "AttachInternetGateway");
            Vpc(vpcId, "AttachInternetGateway");
            if (gateway.VpcId is not null)
            {
                throw Error("Resource.AlreadyAssociated", $"resource {gatewayId} is already attached to network {gateway.VpcId}", "AttachInternetGateway");
            }

            if (cloud.Gateways.Any(g => g.VpcId == vpcId))
            {
                throw Error("InvalidParameterValue", $"Network {vpcId} already has an internet gateway attached", "AttachInternetGateway");
            }

            gateway.VpcId = vpcId;
        });

    public Task DetachInternetGatewayAsync(string gatewayId, string vpcId, CancellationToken cancellationToken) =>
        MutateAsync("DetachInternetGateway", () =>
        {
            var gateway = Gateway(gatewayId, "DetachInternetGateway");
            if (gateway.VpcId != vpcId)
            {
                throw Error("Gateway.NotAttached", $"resource {gatewayId} is not attached to network {vpcId}", "DetachInternetGateway");
            }

            var mapped = cloud.Instances.Any(i => i.VpcId == vpcId && Live(i) && i.PublicIp is not null);
            if (mapped)
            {
                throw Error("DependencyViolation", $"Network {vpcId} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.", "DetachInternetGateway");
            }

            gateway.VpcId = null;
        });

    public Task DeleteInternetGatewayAsync(string gatewayId, CancellationToken cancellationToken) =>
        MutateAsync("DeleteInternetGateway", () =>
        {
            var gateway = Gateway(gatewayId, "DeleteInternetGateway");
            if (gateway.VpcId is not null)
            {
                throw Error("DependencyViolation", $"The internetGateway '{gatewayId}' has dependencies and cannot be deleted.", "DeleteInternetGateway");
            }

            cloud.Gateways.Remove(gateway);
        });

    // ---- route tables and routes ----

    public Task<string> CreateRouteTableAsync(string vpcId, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        MutateAsync("CreateRouteTable", () =>
        {
            var vpc = Vpc(vpcId, "CreateRouteTable");
            var table = new RouteTableState { Id = cloud.NewId("rtb"), Region = Region, VpcId = vpcId, Tags = Copy(tags) };
            table.Routes.Add((vpc.Cidr, "local"));
            cloud.RouteTables.Add(table);
            cloud.MarkFresh(table.Id);
            return table.Id;
        });

    public Task<string> AssociateRouteTableAsync(string routeTableId, string subnetId, CancellationToken cancellationToken) =>
        MutateAsync("AssociateRouteTable", () =>
        {
            var table = Table(routeTableId, "AssociateRouteTable");
            var subnet = Subnet(subnetId, "AssociateRouteTable");
            if (subnet.VpcId != table.VpcId)
            {
                throw Error("InvalidParameterValue", $"Route table {routeTableId} and subnet {subnetId} belong to different networks", "AssociateRouteTable");
            }

            if (cloud.RouteTables.Any(t => t.Associations.Any(a => a.SubnetId == subnetId)))
            {
                throw Error("Resource.AlreadyAssociated", $"the specified association for route table {routeTableId} conflicts with an existing association", "AssociateRouteTable");
            }

            var id = cloud.NewId("rtbassoc");
            table.Associations.Add((id, subnetId));
            return id;
        });

    public Task DisassociateRouteTableAsync(string associationId, CancellationToken cancellationToken) =>
        MutateAsync("DisassociateRouteTable", () =>
        {
            var table = cloud.RouteTables.FirstOrDefault(t => t.Region == Region && t.Associations.Any(a => a.AssociationId == associationId))
                ?? throw Error("InvalidAssociationID.NotFound", $"The association ID '{associationId}' does not exist", "DisassociateRouteTable");
            table.Associations.RemoveAll(a => a.AssociationId == associationId);
        });

    public Task DeleteRouteTableAsync(string routeTableId, CancellationToken cancellationToken) =>
        MutateAsync("DeleteRouteTable", () =>
        {
            var table = Table(routeTableId, "DeleteRouteTable");
            if (table.Main || table.Associations.Count > 0)
            {
                throw Error("DependencyViolation", $"The routeTable '{routeTableId}' has dependencies and cannot be deleted.", "DeleteRouteTable");
            }

            cloud.RouteTables.Remove(table);
        });

    private void CheckTarget(RouteTableState table, RouteTarget target, string action)
    {
        if (target.GatewayId is { } gatewayId)
        {
            var gateway = cloud.Gateways.FirstOrDefault(g => g.Id == gatewayId && g.Region == Region)
                ?? throw Error("InvalidGatewayID.NotFound", $"The gateway ID '{gatewayId}' does not exist", action);
            if (gateway.VpcId != table.VpcId)
            {
                throw Error("InvalidParameterValue", $"route table {table.Id} and network gateway {gatewayId} belong to different networks", action);
            }

            return;
        }

        var peeringId = target.PeeringId!;
        cloud.Touch(peeringId, "InvalidVpcPeeringConnectionID.NotFound", action, Region);
        var peering = cloud.Peerings.FirstOrDefault(p => p.Id == peeringId && (p.RequesterVpcId == table.VpcId || p.AccepterVpcId == table.VpcId));
        if (peering is null || peering.Status != PeeringStates.Active)
        {
            // AWS answers the same for a peering that does not exist and one that is not active (pending acceptance).
            throw Error("InvalidVpcPeeringConnectionID.NotFound", $"The vpcPeeringConnection ID '{peeringId}' does not exist", action);
        }
    }

    public Task CreateRouteAsync(string routeTableId, string destination, RouteTarget target, CancellationToken cancellationToken) =>
        MutateAsync("CreateRoute", () =>
        {
            var table = Table(routeTableId, "CreateRoute");
            if (table.Routes.Any(r => r.Destination == destination))
            {
                throw Error("RouteAlreadyExists", $"The route identified by {destination} already exists.", "CreateRoute");
            }

            CheckTarget(table, target, "CreateRoute");
            table.Routes.Add((destination, target.Id));
        });

    public Task ReplaceRouteAsync(string routeTableId, string destination, RouteTarget target, CancellationToken cancellationToken) =>
        MutateAsync("ReplaceRoute", () =>
        {
            var table = Table(routeTableId, "ReplaceRoute");
            var index = table.Routes.FindIndex(r => r.Destination == destination);
            if (index < 0 || table.Routes[index].Target == "local")
            {
                throw Error("InvalidRoute.NotFound", $"no route with destination-cidr-block {destination} in route table {routeTableId}", "ReplaceRoute");
            }

            CheckTarget(table, target, "ReplaceRoute");
            table.Routes[index] = (destination, target.Id);
        });

    public Task DeleteRouteAsync(string routeTableId, string destination, CancellationToken cancellationToken) =>
        MutateAsync("DeleteRoute", () =>
        {
            var table = Table(routeTableId, "DeleteRoute");
            if (table.Routes.RemoveAll(r => r.Destination == destination && r.Target != "local") == 0)
            {
                throw Error("InvalidRoute.NotFound", $"no route with destination-cidr-block {destination} in route table {routeTableId}", "DeleteRoute");
            }
        });

    // ---- security groups ----

    public Task<string> CreateSecurityGroupAsync(string vpcId, string groupName, string description, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        MutateAsync("CreateSecurityGroup", () =>
        {
            Vpc(vpcId, "CreateSecurityGroup");
            if (cloud.Groups.Any(g => g.VpcId == vpcId && g.Name == groupName))
            {
                throw Error("InvalidGroup.Duplicate", $"The security group '{groupName}' already exists for VPC '{vpcId}'", "CreateSecurityGroup");
            }

            var group = new GroupState { Id = cloud.NewId("sg"), Region = Region, VpcId = vpcId, Name = groupName, Tags = Copy(tags) };
            group.Egress.Add(SecurityGroupRule.AllTraffic("0.0.0.0/0"));
            cloud.Groups.Add(group);
            cloud.MarkFresh(group.Id);
            return group.Id;
        });

    private void CheckRule(SecurityGroupRule rule, string action)
    {
        switch (rule.Protocol)
        {
            case "tcp" or "udp" or "6" or "17":
                if (rule.FromPort is < 0 or > 65535 || rule.ToPort is < 0 or > 65535 || rule.FromPort > rule.ToPort)
                {
                    throw Error("InvalidParameterValue", $"Invalid port range {rule.FromPort}-{rule.ToPort} for {rule.Protocol}", action);
                }

                break;
            case "icmp" or "1":
                break;
            default:
                if (!int.TryParse(rule.Protocol, out var number) || number is < -1 or > 255)
                {
                    throw Error("InvalidParameterValue", $"Invalid value '{rule.Protocol}' for IP protocol.", action);
                }

                if (rule.FromPort != -1 || rule.ToPort != -1)
                {
                    // AWS: for a protocol other than tcp, udp and icmp, ports must be -1 (all).
                    throw Error("InvalidParameterValue", $"Invalid value for portRange. Must be -1 for protocol {rule.Protocol}.", action);
                }

                break;
        }

        _ = Ipv4Cidr.TryParse(rule.Cidr, out _, out var error) ? 0
            : throw Error("InvalidParameterValue", $"CIDR block {rule.Cidr} is malformed: {error}", action);
    }

    private Task Authorize(string action, string groupId, IReadOnlyList<SecurityGroupRule> rules, bool ingress) =>
        MutateAsync(action, () =>
        {
            var group = Group(groupId, action);
            var list = ingress ? group.Ingress : group.Egress;
            foreach (var rule in rules)
            {
                CheckRule(rule, action);
                if (list.Contains(rule))
                {
                    throw Error("InvalidPermission.Duplicate", $"the specified rule \"{rule}\" already exists", action);
                }
            }

            list.AddRange(rules);
        });

    private Task Revoke(string action, string groupId, IReadOnlyList<SecurityGroupRule> rules, bool ingress) =>
        MutateAsync(action, () =>
        {
            var group = Group(groupId, action);
            var list = ingress ? group.Ingress : group.Egress;
            var missing = rules.FirstOrDefault(r => !list.Contains(r));
            if (missing is not null)
            {
                throw Error("InvalidPermission.NotFound", $"The specified rule does not exist in this security group: {missing}", action);
            }

            list.RemoveAll(rules.Contains);
        });

    public Task AuthorizeIngressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) =>
        Authorize("AuthorizeSecurityGroupIngress", groupId, rules, ingress: true);

    public Task RevokeIngressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) =>
        Revoke("RevokeSecurityGroupIngress", groupId, rules, ingress: true);

    public Task AuthorizeEgressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) =>
        Authorize("AuthorizeSecurityGroupEgress", groupId, rules, ingress: false);

    public Task RevokeEgressAsync(string groupId, IReadOnlyList<SecurityGroupRule> rules, CancellationToken cancellationToken) =>
        Revoke("RevokeSecurityGroupEgress", groupId, rules, ingress: false);

    public Task DeleteSecurityGroupAsync(string groupId, CancellationToken cancellationToken) =>
        MutateAsync("DeleteSecurityGroup", () =>
        {
            var group = Group(groupId, "DeleteSecurityGroup");
            if (group.Default)
            {
                throw Error("CannotDelete", "the specified group: \"default\" name: \"default\" cannot be deleted by a user", "DeleteSecurityGroup");
            }

            if (cloud.Instances.Any(i => Live(i) && i.GroupIds.Contains(groupId)))
            {
                throw Error("DependencyViolation", $"resource {groupId} has a dependent object", "DeleteSecurityGroup");
            }

            cloud.Groups.Remove(group);
        });

    // ---- peering ----

    public Task<string> CreatePeeringAsync(string vpcId, string peerVpcId, string peerRegion, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        MutateAsync("CreateVpcPeeringConnection", () =>
        {
            var vpc = Vpc(vpcId, "CreateVpcPeeringConnection");
            var peer = cloud.Vpcs.FirstOrDefault(v => v.Id == peerVpcId && v.Region == peerRegion);
            var peering = new PeeringState
            {
                Id = cloud.NewId("pcx"),
                RequesterRegion = Region,
                RequesterVpcId = vpcId,
                AccepterRegion = peerRegion,
                AccepterVpcId = peerVpcId,
                Tags = Copy(tags),
            };
            if (peer is null)
            {
                // AWS accepts the request and fails it asynchronously when the peer VPC does not exist.
                peering.Status = PeeringStates.Failed;
                peering.Message = $"Failed due to the VPC {peerVpcId} not existing in {peerRegion}";
            }
            else if (Overlaps(vpc.Cidr, peer.Cidr))
            {
                peering.Status = PeeringStates.Failed;
                peering.Message = "Failed due to overlapping CIDR ranges";
            }

            cloud.Peerings.Add(peering);
            cloud.MarkFresh(peering.Id);
            return peering.Id;
        });

    public Task AcceptPeeringAsync(string peeringId, CancellationToken cancellationToken) =>
        MutateAsync("AcceptVpcPeeringConnection", () =>
        {
            var peering = Peering(peeringId, "AcceptVpcPeeringConnection");
            if (peering.AccepterRegion != Region)
            {
                throw Error("OperationNotPermitted", $"The peering {peeringId} must be accepted in the accepter region {peering.AccepterRegion}", "AcceptVpcPeeringConnection");
            }

            if (peering.Status != PeeringStates.PendingAcceptance)
            {
                throw Error("InvalidStateTransition", $"Invalid state transition for {peeringId}, attempted to transition from {peering.Status} to active", "AcceptVpcPeeringConnection");
            }

            var requester = cloud.Vpcs.First(v => v.Id == peering.RequesterVpcId);
            var accepter = cloud.Vpcs.First(v => v.Id == peering.AccepterVpcId);
            foreach (var other in cloud.Peerings.Where(p => p != peering && p.Status == PeeringStates.Active))
            {
                var conflict = (Involves(other, accepter.Id) && Overlaps(PeerCidr(other, accepter.Id), requester.Cidr))
                    || (Involves(other, requester.Id) && Overlaps(PeerCidr(other, requester.Id), accepter.Cidr));
                if (conflict)
                {
                    throw Error("OperationNotPermitted", $"The CIDR of one VPC overlaps a VPC already peered through {other.Id}", "AcceptVpcPeeringConnection");
                }
            }

            peering.Status = PeeringStates.Provisioning;
            peering.Polls = 0;
        });

    private static bool Involves(PeeringState p, string vpcId) => p.RequesterVpcId == vpcId || p.AccepterVpcId == vpcId;

    private string PeerCidr(PeeringState p, string vpcId) =>
        cloud.Vpcs.FirstOrDefault(v => v.Id == (p.RequesterVpcId == vpcId ? p.AccepterVpcId : p.RequesterVpcId))?.Cidr ?? "0.0.0.0/32";

    public Task AllowPeeringDnsAsync(string peeringId, bool requesterSide, CancellationToken cancellationToken) =>
        MutateAsync("ModifyVpcPeeringConnectionOptions", () =>
        {
            var peering = Peering(peeringId, "ModifyVpcPeeringConnectionOptions");
            if (peering.Status != PeeringStates.Active)
            {
                throw Error("InvalidStateTransition", $"The peering {peeringId} is {peering.Status}; options can be set once it is active", "ModifyVpcPeeringConnectionOptions");
            }

            var sideRegion = requesterSide ? peering.RequesterRegion : peering.AccepterRegion;
            if (sideRegion != Region)
            {
                throw Error("OperationNotPermitted", $"The {(requesterSide ? "requester" : "accepter")} options of a cross-region peering must be set in {sideRegion}", "ModifyVpcPeeringConnectionOptions");
            }

            if (requesterSide)
            {
                peering.RequesterDns = true;
            }
            else
            {
                peering.AccepterDns = true;
            }
        });

    public Task DeletePeeringAsync(string peeringId, CancellationToken cancellationToken) =>
        MutateAsync("DeleteVpcPeeringConnection", () =>
        {
            var peering = Peering(peeringId, "DeleteVpcPeeringConnection");
            peering.Status = PeeringStates.Deleted;
        });

    // ---- instances ----

    public Task<string> RunInstanceAsync(InstanceLaunch launch, CancellationToken cancellationToken) =>
        MutateAsync("RunInstances", () =>
        {
            var existing = cloud.Instances.FirstOrDefault(i => i.ClientToken == launch.ClientToken && i.Region == Region);
            if (existing is not null)
            {
                return existing.Id; // idempotent retry
            }

            var subnet = Subnet(launch.SubnetId, "RunInstances");
            if (!launch.ImageId.StartsWith("ami-", StringComparison.Ordinal))
            {
                throw Error("InvalidAMIID.Malformed", $"Invalid id: \"{launch.ImageId}\"", "RunInstances");
            }

            foreach (var groupId in launch.SecurityGroupIds)
            {
                if (Group(groupId, "RunInstances").VpcId != subnet.VpcId)
                {
                    throw Error("InvalidParameter", $"Security group {groupId} and subnet {subnet.Id} belong to different networks.", "RunInstances");
                }
            }

            var cidr = Ipv4Cidr.Parse(subnet.Cidr);
            var ip = Ipv4Address.Parse(launch.PrivateIp);
            if (!cidr.Contains(ip) || ip.Value - cidr.Network.Value < 4 || ip == cidr.Last)
            {
                throw Error("InvalidParameterValue", $"Address {ip} is not in subnet {subnet.Cidr} or is reserved by AWS", "RunInstances");
            }

            if (cloud.Instances.Any(i => i.SubnetId == subnet.Id && Live(i) && i.PrivateIp == launch.PrivateIp))
            {
                throw Error("InvalidIPAddress.InUse", $"Address {launch.PrivateIp} is in use.", "RunInstances");
            }

            if (launch.KeyName is { } keyName && !cloud.KeyPairs.Any(k => k.Region == Region && k.Name == keyName))
            {
                throw Error("InvalidKeyPair.NotFound", $"The key pair '{keyName}' does not exist", "RunInstances");
            }

            if (Egress.Core.UserDataWire.Encode(launch.UserData).Length > DesiredStateBuilder.MaxUserDataBytes)
            {
                throw Error("InvalidParameterValue", "User data is limited to 16384 bytes", "RunInstances");
            }

            var id = cloud.NewId("i");
            var publicIp = launch.AssociatePublicIp ? cloud.NextPublicIp() : null;
            cloud.Instances.Add(new InstanceState
            {
                Id = id,
                Region = Region,
                InstanceType = launch.InstanceType,
                ImageId = launch.ImageId,
                SubnetId = subnet.Id,
                VpcId = subnet.VpcId,
                PrivateIp = launch.PrivateIp,
                PublicIp = publicIp,
                AutoPublicIp = publicIp,
                GroupIds = [.. launch.SecurityGroupIds],
                KeyName = launch.KeyName,
                Profile = launch.InstanceProfile,
                UserData = launch.UserData,
                HttpTokens = "required",
                RootEncrypted = true,
                RootVolumeType = "gp3",
                ClientToken = launch.ClientToken,
                Tags = Copy(launch.Tags),
            });
            cloud.MarkFresh(id);
            return id;
        });

    public Task SetSourceDestCheckAsync(string instanceId, bool enabled, CancellationToken cancellationToken) =>
        MutateAsync("ModifyInstanceAttribute", () => Instance(instanceId, "ModifyInstanceAttribute").SourceDestCheck = enabled);

    public Task TerminateInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        MutateAsync("TerminateInstances", () =>
        {
            var instance = Instance(instanceId, "TerminateInstances");
            if (instance.State != InstanceStates.ShuttingDown)
            {
                instance.State = InstanceStates.ShuttingDown;
                instance.Polls = 0;
            }

            foreach (var address in cloud.Addresses.Where(a => a.InstanceId == instanceId))
            {
                address.InstanceId = null;
                address.AssociationId = null;
            }
        });

    // ---- Elastic IPs ----

    public Task<string> AllocateAddressAsync(IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        MutateAsync("AllocateAddress", () =>
        {
            if (cloud.Addresses.Count(a => a.Region == Region) >= cloud.Options.AddressQuota)
            {
                throw Error("AddressLimitExceeded", "The maximum number of addresses has been reached.", "AllocateAddress");
            }

            var id = cloud.NewId("eipalloc");
            cloud.Addresses.Add(new AddressState { Id = id, Region = Region, PublicIp = cloud.NextElasticIp(), Tags = Copy(tags) });
            cloud.MarkFresh(id);
            return id;
        });

    public Task<string> AssociateAddressAsync(string allocationId, string instanceId, CancellationToken cancellationToken) =>
        MutateAsync("AssociateAddress", () =>
        {
            var address = Address(allocationId, "AssociateAddress");
            var instance = Instance(instanceId, "AssociateAddress");
            if (instance.State != InstanceStates.Running)
            {
                throw Error("IncorrectInstanceState", $"The instance '{instanceId}' is not in a valid state for this operation.", "AssociateAddress");
            }

            if (!cloud.Gateways.Any(g => g.VpcId == instance.VpcId))
            {
                throw Error("Gateway.NotAttached", $"Network {instance.VpcId} is not attached to any internet gateway", "AssociateAddress");
            }

            foreach (var other in cloud.Addresses.Where(a => a.InstanceId == instanceId && a != address))
            {
                other.InstanceId = null;
                other.AssociationId = null;
            }

            address.InstanceId = instanceId;
            address.AssociationId = cloud.NewId("eipassoc");
            instance.PublicIp = address.PublicIp;
            return address.AssociationId;
        });

    public Task DisassociateAddressAsync(string associationId, CancellationToken cancellationToken) =>
        MutateAsync("DisassociateAddress", () =>
        {
            var address = cloud.Addresses.FirstOrDefault(a => a.AssociationId == associationId && a.Region == Region)
                ?? throw Error("InvalidAssociationID.NotFound", $"The association ID '{associationId}' does not exist", "DisassociateAddress");
            var instance = cloud.Instances.FirstOrDefault(i => i.Id == address.InstanceId);
            if (instance is not null)
            {
                instance.PublicIp = null;
            }

            address.InstanceId = null;
            address.AssociationId = null;
        });

    public Task ReleaseAddressAsync(string allocationId, CancellationToken cancellationToken) =>
        MutateAsync("ReleaseAddress", () =>
        {
            var address = Address(allocationId, "ReleaseAddress");
            if (address.AssociationId is not null)
            {
                throw Error("InvalidIPAddress.InUse", $"Address {address.PublicIp} is in use.", "ReleaseAddress");
            }

            cloud.Addresses.Remove(address);
        });
}

/// <summary>The fake's SSM port: the AMI parameters and Run Command against <see cref="FakeAwsCloud.SsmHandler"/>.</summary>
internal sealed class FakeSsm(FakeAwsCloud cloud, string region) : ISsmPort
{
    public string Region { get; } = region;

    public Task<string?> GetParameterAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(cloud.Call("GetParameter", Region, mutating: false, () => cloud.Parameters.GetValueOrDefault((Region, name))));

    public Task<bool> PutParameterIfAbsentAsync(string name, string value, CancellationToken cancellationToken) =>
        Task.FromResult(cloud.Call("PutParameter", Region, mutating: true, () => cloud.Parameters.TryAdd((Region, name), value)));

    public Task DeleteParameterAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(cloud.Call("DeleteParameter", Region, mutating: true, () => cloud.Parameters.Remove((Region, name))));

    public Task<string> SendShellScriptAsync(string instanceId, IReadOnlyList<string> commands, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.FromResult(cloud.Call("SendCommand", Region, mutating: true, () =>
        {
            var instance = cloud.Instances.FirstOrDefault(i => i.Id == instanceId && i.Region == Region && i.State == InstanceStates.Running);
            if (instance?.Profile is null)
            {
                throw new AwsApiException("InvalidInstanceId", $"Instance {instanceId} is not in a valid state for account: it is not running or not managed by SSM (no instance profile)", "SendCommand", Region);
            }

            var command = new SsmCommandState { Id = Guid.NewGuid().ToString(), InstanceId = instanceId, Script = commands };
            command.Result = cloud.SsmHandler(instanceId, commands);
            cloud.Commands.Add(command);
            return command.Id;
        }));

    public Task<SsmInvocation?> GetInvocationAsync(string commandId, string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(cloud.Call("GetCommandInvocation", Region, mutating: false, () =>
        {
            var command = cloud.Commands.FirstOrDefault(c => c.Id == commandId && c.InstanceId == instanceId);
            if (command is null)
            {
                return null;
            }

            command.Polls++;
            if (command.Polls == 1)
            {
                return new SsmInvocation("InProgress", -1, string.Empty, string.Empty);
            }

            var (exit, stdout, stderr) = command.Result;
            return (SsmInvocation?)new SsmInvocation(exit == 0 ? "Success" : "Failed", exit, stdout, stderr);
        }));
}
