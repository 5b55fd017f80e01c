using Egress.Aws.Model;

namespace Egress.Aws.Planning;

/// <summary>A resource's values as data, for the plan's before (what AWS holds) and after (what the topology asks): the same
/// keys on both sides where AWS has the value, references as ids, or "REGION:KIND/NAME (known after apply)" for a resource the apply
/// creates. Pure.</summary>
public static class ResourceValues
{
    public static IReadOnlyDictionary<string, object?> Of(ObservedResource observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        return observed switch
        {
            ObservedKeyPair k => new Dictionary<string, object?>
            {
                ["id"] = k.Id,
                ["keyName"] = k.KeyName,
                ["publicKeySha256"] = k.Tags.GetValueOrDefault(KeyPairTags.PublicKeyHash),
            },
            ObservedVpc v => new Dictionary<string, object?>
            {
                ["id"] = v.Id,
                ["cidr"] = v.Cidr,
                ["dnsSupport"] = v.DnsSupport,
                ["dnsHostnames"] = v.DnsHostnames,
            },
            ObservedSubnet s => new Dictionary<string, object?>
            {
                ["id"] = s.Id,
                ["vpc"] = s.VpcId,
                ["cidr"] = s.Cidr,
                ["availabilityZone"] = s.AvailabilityZone,
            },
            ObservedInternetGateway g => new Dictionary<string, object?>
            {
                ["id"] = g.Id,
                ["attachedVpcs"] = g.AttachedVpcIds.ToList(),
            },
            ObservedRouteTable t => new Dictionary<string, object?>
            {
                ["id"] = t.Id,
                ["vpc"] = t.VpcId,
                ["subnets"] = t.Associations.Where(a => !a.Main).Select(a => a.SubnetId).ToList(),
            },
            ObservedRouteEntry r => new Dictionary<string, object?>
            {
                ["routeTable"] = r.RouteTableId,
                ["destination"] = r.Route.Destination,
                ["target"] = r.Route.Target,
                ["state"] = r.Route.State,
            },
            ObservedSecurityGroup g => new Dictionary<string, object?>
            {
                ["id"] = g.Id,
                ["vpc"] = g.VpcId,
                ["groupName"] = g.GroupName,
                ["ingress"] = g.Ingress.ToList(),
                ["egress"] = g.Egress.ToList(),
            },
            ObservedPeering p => new Dictionary<string, object?>
            {
                ["id"] = p.Id,
                ["requesterVpc"] = p.RequesterVpcId,
                ["accepterVpc"] = p.AccepterVpcId,
                ["accepterRegion"] = p.AccepterRegion,
                ["status"] = p.Status,
                ["requesterAllowsDns"] = p.RequesterAllowsDns,
                ["accepterAllowsDns"] = p.AccepterAllowsDns,
            },
            ObservedInstance i => new Dictionary<string, object?>
            {
                ["id"] = i.Id,
                ["state"] = i.State,
                ["instanceType"] = i.InstanceType,
                ["imageId"] = i.ImageId,
                ["subnet"] = i.SubnetId,
                ["privateIp"] = i.PrivateIp,
                ["publicIp"] = i.PublicIp,
                ["securityGroups"] = i.SecurityGroupIds.ToList(),
                ["sourceDestCheck"] = i.SourceDestCheck,
                ["keyName"] = i.KeyName,
                ["instanceProfile"] = i.InstanceProfileArn is { } arn ? arn[(arn.LastIndexOf('/') + 1)..] : null,
                ["userDataSha256"] = i.Tags.GetValueOrDefault(StackTags.UserDataHash),
            },
            ObservedAddress a => new Dictionary<string, object?>
            {
                ["id"] = a.Id,
                ["publicIp"] = a.PublicIp,
                ["instance"] = a.InstanceId,
            },
            _ => new Dictionary<string, object?> { ["id"] = observed.Id },
        };
    }

    /// <param name="reference">How the plan refers to another desired resource (its id, or known after apply).</param>
    public static IReadOnlyDictionary<string, object?> Of(DesiredResource desired, Func<ResourceAddress, ResourceRef> reference)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(reference);
        string Ref(ResourceAddress address) => reference(address).Value;
        return desired switch
        {
            DesiredKeyPair k => new Dictionary<string, object?>
            {
                ["keyName"] = k.KeyName,
                ["publicKeySha256"] = k.PublicKey is null ? null : KeyPairTags.HashOf(k.PublicKey),
            },
            DesiredVpc v => new Dictionary<string, object?>
            {
                ["cidr"] = v.Cidr,
                ["dnsSupport"] = true,
                ["dnsHostnames"] = true,
            },
            DesiredSubnet s => new Dictionary<string, object?>
            {
                ["vpc"] = Ref(s.Vpc),
                ["cidr"] = s.Cidr,
                ["availabilityZone"] = s.AvailabilityZone,
            },
            DesiredInternetGateway g => new Dictionary<string, object?>
            {
                ["attachedVpcs"] = new List<string> { Ref(g.Vpc) },
            },
            DesiredRouteTable t => new Dictionary<string, object?>
            {
                ["vpc"] = Ref(t.Vpc),
                ["subnets"] = t.Subnets.Select(Ref).ToList(),
            },
            DesiredRoute r => new Dictionary<string, object?>
            {
                ["routeTable"] = Ref(r.RouteTable),
                ["destination"] = r.Destination,
                ["target"] = Ref(r.Target),
                ["state"] = "active",
            },
            DesiredSecurityGroup g => new Dictionary<string, object?>
            {
                ["vpc"] = Ref(g.Vpc),
                ["groupName"] = g.GroupName,
                ["ingress"] = g.Ingress.ToList(),
                ["egress"] = g.Egress.ToList(),
            },
            DesiredPeering p => new Dictionary<string, object?>
            {
                ["requesterVpc"] = Ref(p.RequesterVpc),
                ["accepterVpc"] = Ref(p.AccepterVpc),
                ["accepterRegion"] = p.AccepterRegion,
                ["status"] = PeeringStates.Active,
                ["requesterAllowsDns"] = true,
                ["accepterAllowsDns"] = true,
            },
            DesiredInstance i => new Dictionary<string, object?>
            {
                ["state"] = InstanceStates.Running,
                ["instanceType"] = i.InstanceType,
                ["imageId"] = i.Ami ?? $"{i.AmiParameter} (known after apply)",
                ["subnet"] = Ref(i.Subnet),
                ["privateIp"] = i.PrivateIp,
                ["publicIpOnLaunch"] = i.PublicIpOnLaunch,
                ["securityGroups"] = new List<string> { Ref(i.SecurityGroup) },
                ["sourceDestCheck"] = i.SourceDestCheck,
                ["keyName"] = i.KeyPair is null ? null : DesiredStateBuilder.KeyNameOf(i.KeyPair.Name),
                ["instanceProfile"] = i.InstanceProfile,
                ["userDataSha256"] = i.UserDataHash,
                ["metadataTokens"] = "required",
                ["rootVolume"] = $"{DesiredInstance.RootVolumeGiB} GiB gp3, encrypted",
            },
            DesiredElasticIp e => new Dictionary<string, object?>
            {
                ["instance"] = Ref(e.Instance),
            },
            _ => new Dictionary<string, object?>(),
        };
    }
}
