using System.Security.Cryptography;
using System.Text;
using Egress.Core;
using Egress.Core.Topology;

namespace Egress.Aws.Model;

/// <summary>Returns the user data (cloud-init) for one host of the topology; the host renderer provides it.</summary>
public delegate string UserDataProvider(TopologyModel topology, string hostName);

/// <summary>Choices that are not in the topology file.</summary>
public sealed record ProvisionOptions
{
    /// <summary>An OpenSSH public key (one line) to import as the stack's key pair in every region; null = no key pair.</summary>
    public string? SshPublicKey { get; init; }
}

/// <summary>Builds the <see cref="DesiredState"/> from a topology. Pure: no AWS calls, no clock.</summary>
public static class DesiredStateBuilder
{
    /// <summary>EC2 limits user data to 16 KB before base64.</summary>
    public const int MaxUserDataBytes = UserDataWire.Limit;

    public const string MainName = "main";

    public static DesiredState Build(TopologyModel topology, UserDataProvider userData, ProvisionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(userData);
        options ??= new ProvisionOptions();
        var resources = new List<DesiredResource>();
        var pairs = TunnelPairs.Of(topology);
        var peerings = PeeringsOf(topology, pairs);

        foreach (var region in topology.Regions)
        {
            var r = region.Name;
            var vpc = new ResourceAddress(r, ResourceKind.Vpc, MainName);
            var igw = new ResourceAddress(r, ResourceKind.InternetGateway, MainName);
            var rtb = new ResourceAddress(r, ResourceKind.RouteTable, MainName);
            ResourceAddress? keyPair = null;
            if (options.SshPublicKey is { } publicKey)
            {
                keyPair = new ResourceAddress(r, ResourceKind.KeyPair, topology.Stack);
                resources.Add(new DesiredKeyPair(keyPair, KeyNameOf(topology.Stack), publicKey.Trim()));
            }

            resources.Add(new DesiredVpc(vpc, region.Vpc.ToString()));
            var subnets = new List<ResourceAddress>();
            foreach (var subnet in region.Subnets)
            {
                var address = new ResourceAddress(r, ResourceKind.Subnet, subnet.Name);
                subnets.Add(address);
                resources.Add(new DesiredSubnet(address, vpc, subnet.Cidr.ToString(), subnet.Az));
            }

            resources.Add(new DesiredInternetGateway(igw, vpc));
            resources.Add(new DesiredRouteTable(rtb, vpc, subnets));
            resources.Add(new DesiredRoute(new ResourceAddress(r, ResourceKind.Route, "0.0.0.0/0"), rtb, "0.0.0.0/0", igw));
            foreach (var peering in peerings.Where(p => p.RequesterVpc.Region == r || p.AccepterRegion == r))
            {
                var peerRegion = peering.RequesterVpc.Region == r ? peering.AccepterRegion : peering.RequesterVpc.Region;
                var peerCidr = topology.Regions.First(x => x.Name == peerRegion).Vpc.ToString();
                resources.Add(new DesiredRoute(new ResourceAddress(r, ResourceKind.Route, peerCidr), rtb, peerCidr, peering.Address));
            }

            foreach (var host in region.Hosts)
            {
                var sg = new ResourceAddress(r, ResourceKind.SecurityGroup, host.Name);
                resources.Add(new DesiredSecurityGroup(sg, vpc, $"{topology.Stack}-{host.Name}",
                    $"egress {topology.Stack}: {host.Name} ({host.Role.ToString().ToLowerInvariant()})", IngressFor(topology, host)));
                var instance = new ResourceAddress(r, ResourceKind.Instance, host.Name);
                var data = userData(topology, host.Name);
                var bytes = UserDataWire.Encode(data).Length;
                if (bytes > MaxUserDataBytes)
                {
                    throw new AwsProvisionException(AwsErrorKind.BadInput, "RunInstances", r,
                        $"the user data for host '{host.Name}' is {bytes} bytes gzip-compressed; EC2 takes at most {MaxUserDataBytes} bytes",
                        "shorten the host's configuration (fewer tunnels or targets) or report it as a bug in the host renderer");
                }

                resources.Add(new DesiredInstance(instance, new ResourceAddress(r, ResourceKind.Subnet, host.Subnet), sg)
                {
                    InstanceType = host.InstanceType,
                    Architecture = host.Architecture,
                    Ami = host.Ami,
                    PrivateIp = host.PrivateIp.ToString(),
                    PublicIpOnLaunch = host.PublicIp == PublicAddressKind.Auto,
                    SourceDestCheck = host.Role != HostRole.Gateway,
                    UserData = data,
                    UserDataHash = Sha256(data),
                    KeyPair = keyPair,
                    InstanceProfile = host.InstanceProfile,
                });
                if (host.PublicIp == PublicAddressKind.Elastic)
                {
                    resources.Add(new DesiredElasticIp(new ResourceAddress(r, ResourceKind.ElasticIp, host.Name), instance));
                }
            }
        }

        resources.AddRange(peerings);
        resources.Sort((a, b) => a.Address.CompareTo(b.Address));
        return new DesiredState(topology.Stack, [.. topology.Regions.Select(r => r.Name)], resources)
        {
            KeepsExistingKeyPair = options.SshPublicKey is null,
        };
    }

    /// <summary>When no public key was given, adopts the key pair the stack already has in each region (and gives it to that
    /// region's instances), so leaving out --ssh-public-key never plans the key pair away or replaces the hosts. Pure.</summary>
    public static DesiredState AdoptExistingKeyPairs(DesiredState desired, ObservedState observed)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(observed);
        if (!desired.KeepsExistingKeyPair)
        {
            return desired;
        }

        var resources = desired.Resources.ToList();
        foreach (var region in desired.Regions)
        {
            var address = new ResourceAddress(region, ResourceKind.KeyPair, desired.Stack);
            var existing = observed.Region(region).KeyPairs.FirstOrDefault(k => k.Component == address.Component);
            if (existing is null || desired.Find(address) is not null)
            {
                continue;
            }

            resources.Add(new DesiredKeyPair(address, existing.KeyName, PublicKey: null));
            for (var i = 0; i < resources.Count; i++)
            {
                if (resources[i] is DesiredInstance { KeyPair: null } instance && instance.Address.Region == region)
                {
                    resources[i] = instance with { KeyPair = address };
                }
            }
        }

        resources.Sort((a, b) => a.Address.CompareTo(b.Address));
        return desired with { Resources = resources };
    }

    public static string KeyNameOf(string stack) => $"egress-{stack}";

    /// <summary>The AWS protocol for the overlay (<see cref="SecurityGroupIngress.TunnelRule"/>).</summary>
    public static SecurityGroupRule TunnelRule(OverlayMode mode, string peerCidr) => Of(SecurityGroupIngress.TunnelRule(mode, peerCidr));

    /// <summary>The host's inbound rules, derived in Egress.Core (<see cref="SecurityGroupIngress.For"/>) so the lab emulates the same groups.</summary>
    private static List<SecurityGroupRule> IngressFor(TopologyModel topology, Core.Topology.Host host) =>
        [.. SecurityGroupIngress.For(topology, host).Select(Of)];

    private static SecurityGroupRule Of(IngressRule rule) => new(rule.Protocol, rule.FromPort, rule.ToPort, rule.Cidr);

    private static List<DesiredPeering> PeeringsOf(TopologyModel topology, IReadOnlyList<TunnelPair> pairs)
    {
        var peerings = new List<DesiredPeering>();
        foreach (var pair in pairs)
        {
            var requester = topology.RegionOf(pair.Client).Name;
            var accepter = topology.RegionOf(pair.Gateway).Name;
            if (requester == accepter || peerings.Any(p => SameRegions(p, requester, accepter)))
            {
                continue;
            }

            peerings.Add(new DesiredPeering(new ResourceAddress(requester, ResourceKind.Peering, accepter),
                new ResourceAddress(requester, ResourceKind.Vpc, MainName), new ResourceAddress(accepter, ResourceKind.Vpc, MainName)));
        }

        return peerings;
    }

    private static bool SameRegions(DesiredPeering p, string a, string b) =>
        (p.RequesterVpc.Region == a && p.AccepterRegion == b) || (p.RequesterVpc.Region == b && p.AccepterRegion == a);

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
