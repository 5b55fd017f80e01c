using Egress.Core.Topology;

namespace Egress.Aws.Model;

/// <summary>One security-group rule. <see cref="Protocol"/> is "tcp", "udp", "icmp", "-1" (all) or an IP protocol number
/// ("4" IP-in-IP, "47" GRE); for a protocol number and for "-1" AWS wants FromPort = ToPort = -1.</summary>
public sealed record SecurityGroupRule(string Protocol, int FromPort, int ToPort, string Cidr)
{
    public static SecurityGroupRule AllTraffic(string cidr) => new("-1", -1, -1, cidr);

    public override string ToString() => Protocol switch
    {
        "-1" => $"all from {Cidr}",
        "tcp" or "udp" => FromPort == ToPort ? $"{Protocol}/{FromPort} from {Cidr}" : $"{Protocol}/{FromPort}-{ToPort} from {Cidr}",
        _ => $"protocol {Protocol} from {Cidr}",
    };
}

/// <summary>What the topology asks AWS to hold: every resource of the stack, per region, with references by address.</summary>
public sealed record DesiredState(string Stack, IReadOnlyList<string> Regions, IReadOnlyList<DesiredResource> Resources)
{
    /// <summary>No public key was given: a key pair the stack already has is kept (with the instances that use it), never
    /// planned away for a left-out option. Destroy's empty state does not keep it.</summary>
    public bool KeepsExistingKeyPair { get; init; }

    public static DesiredState Empty(string stack, IReadOnlyList<string> regions) => new(stack, regions, []);

    public DesiredResource? Find(ResourceAddress address) => Resources.FirstOrDefault(r => r.Address == address);

    public IEnumerable<T> OfType<T>() where T : DesiredResource => Resources.OfType<T>();
}

public abstract record DesiredResource(ResourceAddress Address)
{
    /// <summary>One line for the plan: the values a reader checks (CIDR, type, rule list).</summary>
    public abstract string Summary { get; }
}

public sealed record DesiredVpc(ResourceAddress Address, string Cidr) : DesiredResource(Address)
{
    public override string Summary => $"{Cidr}, DNS support and hostnames on";
}

public sealed record DesiredSubnet(ResourceAddress Address, ResourceAddress Vpc, string Cidr, string AvailabilityZone) : DesiredResource(Address)
{
    public override string Summary => $"{Cidr} in {AvailabilityZone}";
}

public sealed record DesiredInternetGateway(ResourceAddress Address, ResourceAddress Vpc) : DesiredResource(Address)
{
    public override string Summary => "attached to the VPC";
}

public sealed record DesiredRouteTable(ResourceAddress Address, ResourceAddress Vpc, IReadOnlyList<ResourceAddress> Subnets) : DesiredResource(Address)
{
    public override string Summary => $"associated with {string.Join(", ", Subnets.Select(s => s.Name))}";
}

/// <summary>A route in the region's route table; <see cref="Target"/> is the internet gateway or a peering.</summary>
public sealed record DesiredRoute(ResourceAddress Address, ResourceAddress RouteTable, string Destination, ResourceAddress Target) : DesiredResource(Address)
{
    public override string Summary => $"{Destination} -> {Target.KindName}/{Target.Name}";
}

/// <summary>A host's security group: the listed ingress rules and all egress.</summary>
public sealed record DesiredSecurityGroup(ResourceAddress Address, ResourceAddress Vpc, string GroupName, string Description,
    IReadOnlyList<SecurityGroupRule> Ingress) : DesiredResource(Address)
{
    public static readonly IReadOnlyList<SecurityGroupRule> AllEgress = [SecurityGroupRule.AllTraffic("0.0.0.0/0")];

    public IReadOnlyList<SecurityGroupRule> Egress => AllEgress;

    public override string Summary => Ingress.Count == 0
        ? "no ingress; all egress"
        : $"ingress {string.Join("; ", Ingress)}; all egress";
}

/// <summary>Cross-region peering: requested from <see cref="Address"/>'s region (the client's), accepted in
/// <see cref="AccepterRegion"/> (the gateway's), DNS resolution allowed both ways once active.</summary>
public sealed record DesiredPeering(ResourceAddress Address, ResourceAddress RequesterVpc, ResourceAddress AccepterVpc) : DesiredResource(Address)
{
    public string AccepterRegion => AccepterVpc.Region;

    public override string Summary => $"{RequesterVpc.Region} (requester) <-> {AccepterRegion} (accepter), DNS resolution both ways";
}

public sealed record DesiredInstance(ResourceAddress Address, ResourceAddress Subnet, ResourceAddress SecurityGroup) : DesiredResource(Address)
{
    public required string InstanceType { get; init; }

    public required CpuArchitecture Architecture { get; init; }

    /// <summary>The host's explicit AMI; null = Ubuntu 22.04 from <see cref="AmiParameter"/> at launch.</summary>
    public string? Ami { get; init; }

    public string AmiParameter => AmiSource.ParameterFor(Architecture);

    public required string PrivateIp { get; init; }

    public required bool PublicIpOnLaunch { get; init; }

    public required bool SourceDestCheck { get; init; }

    public required string UserData { get; init; }

    public required string UserDataHash { get; init; }

    public ResourceAddress? KeyPair { get; init; }

    public string? InstanceProfile { get; init; }

    public const int RootVolumeGiB = 8;

    public override string Summary =>
        $"{InstanceType}, {Ami ?? "Ubuntu 22.04 " + AmiSource.ArchName(Architecture) + " (SSM)"}, {PrivateIp}" +
        (PublicIpOnLaunch ? ", public IP" : string.Empty) +
        (SourceDestCheck ? string.Empty : ", source/dest check off") +
        ", IMDSv2, encrypted gp3 root" +
        (InstanceProfile is null ? string.Empty : $", profile {InstanceProfile}");
}

public sealed record DesiredElasticIp(ResourceAddress Address, ResourceAddress Instance) : DesiredResource(Address)
{
    public override string Summary => $"associated with instance/{Instance.Name}";
}

/// <summary>The stack's key pair; <see cref="PublicKey"/> null = the one AWS holds, kept as it is (no public key was given).</summary>
public sealed record DesiredKeyPair(ResourceAddress Address, string KeyName, string? PublicKey) : DesiredResource(Address)
{
    public override string Summary => PublicKey is null ? $"{KeyName}, kept as it is (no --ssh-public-key given)" : $"{KeyName} from your public key";
}

/// <summary>Where the Ubuntu 22.04 AMI comes from: Canonical's public SSM parameter per architecture.</summary>
public static class AmiSource
{
    public static string ArchName(CpuArchitecture architecture) => architecture == CpuArchitecture.Arm64 ? "arm64" : "amd64";

    public static string ParameterFor(CpuArchitecture architecture) =>
        $"/aws/service/canonical/ubuntu/server/22.04/stable/current/{ArchName(architecture)}/hvm/ebs-gp2/ami-id";
}
