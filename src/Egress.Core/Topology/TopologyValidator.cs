using System.Globalization;
using System.Text.RegularExpressions;
using Egress.Core.Net;

namespace Egress.Core.Topology;

/// <summary>Semantic checks on a bound topology. Returns every problem, each with its path and a fix
/// (YARP's IConfigValidator style); it never stops at the first.</summary>
public static partial class TopologyValidator
{
    private static readonly Ipv4Cidr LinkLocal = Ipv4Cidr.Parse("169.254.0.0/16");
    private static readonly Ipv4Cidr Loopback = Ipv4Cidr.Parse("127.0.0.0/8");
    private static readonly Ipv4Cidr Multicast = Ipv4Cidr.Parse("224.0.0.0/3");
    private static readonly Ipv4Cidr ThisNetwork = Ipv4Cidr.Parse("0.0.0.0/8");

    /// <summary>The most errors one validation collects. Each check is cheap, but a list repeated within the list limits
    /// (200 identical subnets in each of 64 regions, 512 KB written out) makes millions of pairwise findings; after
    /// this many the pairwise checks stop and one more error says so.</summary>
    public const int MaxErrors = 1000;

    public static IReadOnlyList<Diagnostic> Validate(TopologyModel topology, SourceMap? map = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var context = new Context(map ?? SourceMap.None());
        Stack(topology, context);
        Regions(topology, context);
        Hosts(topology, context);
        Egress(topology, context);
        Overlay(topology, context);
        Failover(topology, context);
        Settings(topology, context);
        if (context.FirstDropped is { } dropped)
        {
            // Located at the first error not collected, so it sorts among the others and names where checking gave up.
            context.Diagnostics.Add(dropped with
            {
                Message = Inv($"more than {MaxErrors} errors; checking stopped at this one ({YamlGuard.Shorten(dropped.Message)})"),
                Hint = "fix the errors reported (a repeated block or alias is the usual cause) and validate again",
            });
        }

        return context.Diagnostics;
    }

    private static void Stack(TopologyModel topology, Context c)
    {
        if (topology.Stack.Length == 0)
        {
            c.Error("stack", "the stack name is empty",
                "write 'stack: my-egress': 1–32 lowercase letters, digits and '-', starting with a letter (it tags every AWS resource of the stack)");
        }
        else if (!IsLowercaseName(topology.Stack, 32))
        {
            c.Error("stack", $"'{topology.Stack}' is not a valid stack name",
                "use 1–32 lowercase letters, digits and '-', starting with a letter (it becomes part of AWS tags and lab namespace names)");
        }
    }

    private static void Regions(TopologyModel topology, Context c)
    {
        if (topology.Regions.Count == 0)
        {
            c.Error("regions", "no regions", "list at least the client's region and the gateway's region");
            return;
        }

        for (var r = 0; r < topology.Regions.Count; r++)
        {
            var region = topology.Regions[r];
            var path = Index("regions", r);
            if (region.Name.Trim().Length == 0)
            {
                c.Error(path + ".name", "the region name is empty", "use a region code such as ap-southeast-1 (Singapore) or ap-northeast-1 (Tokyo)");
            }
            else if (AwsRegions.Find(region.Name) is null)
            {
                var suggestion = YamlBinder.Suggest(region.Name, AwsRegions.All.Select(a => a.Code));
                c.Error(path + ".name", $"'{region.Name}' is not an AWS region" + (suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?"),
                    "use a region code such as ap-southeast-1 (Singapore) or ap-northeast-1 (Tokyo)");
            }

            for (var other = 0; other < r && !c.Full; other++)
            {
                if (topology.Regions[other].Name == region.Name && region.Name.Length > 0)
                {
                    c.Error(path + ".name", $"region '{region.Name}' is listed twice (also regions[{other}])", "put all of a region's subnets and hosts under one entry", Index("regions", other) + ".name");
                }

                if (topology.Regions[other].Vpc.Overlaps(region.Vpc))
                {
                    c.Error(path + ".vpc", $"VPC {region.Vpc} overlaps {topology.Regions[other].Name}'s VPC {topology.Regions[other].Vpc}",
                        "peered VPCs must not overlap: give each region its own range, e.g. 10.0.0.0/16, 10.1.0.0/16, 10.2.0.0/16", Index("regions", other) + ".vpc");
                }
            }

            VpcRange(region.Vpc, path + ".vpc", c);
            if (region.Hosts.Count == 0)
            {
                c.Error(path + ".hosts", $"region '{region.Name}' has no hosts", "add a client or a gateway to it, or remove the region");
            }

            Subnets(region, path, c);
        }
    }

    private static void VpcRange(Ipv4Cidr vpc, string path, Context c)
    {
        if (vpc.PrefixLength is < 16 or > 28)
        {
            c.Error(path, $"VPC {vpc} has prefix length /{vpc.PrefixLength}; AWS allows /16 to /28", "choose a VPC CIDR between /16 and /28, e.g. 10.0.0.0/16");
        }

        if (IsReserved(vpc))
        {
            c.Error(path, $"VPC {vpc} overlaps a reserved range ({ReservedRanges})",
                "use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)");
        }
    }

    private static void Subnets(Region region, string regionPath, Context c)
    {
        if (region.Subnets.Count == 0)
        {
            c.Error(regionPath + ".subnets", "no subnets", $"add '- cidr: ...' with a /24 inside {region.Vpc}");
        }

        // A CIDR that did not bind is poisoned, and every pairwise finding about it would be dropped: looked up once
        // per subnet, not formatted and dropped once per pair (200 × 200 per region).
        var bound = new bool[region.Subnets.Count];
        for (var s = 0; s < bound.Length; s++)
        {
            bound[s] = !c.IsPoisoned(Index(regionPath + ".subnets", s) + ".cidr");
        }

        for (var s = 0; s < region.Subnets.Count; s++)
        {
            var subnet = region.Subnets[s];
            var path = Index(regionPath + ".subnets", s);
            if (subnet.Name.Trim().Length == 0 || subnet.Name.Length > MaxSubnetName || subnet.Name.Any(char.IsControl))
            {
                c.Error(path + ".name", subnet.Name.Trim().Length == 0 ? "the subnet name is empty" : $"'{YamlGuard.Shorten(subnet.Name)}' is not a valid subnet name",
                    Inv($"write 1–{MaxSubnetName} characters without control characters, e.g. public-a, or remove 'name' to name the subnet after its AZ"));
            }

            if (!region.Vpc.Contains(subnet.Cidr))
            {
                c.Error(path + ".cidr", $"subnet {subnet.Cidr} is not inside the VPC {region.Vpc}",
                    $"choose a subnet inside {region.Vpc}, e.g. {region.Vpc.Network.Add(256)}/24", regionPath + ".vpc");
            }
            else if (subnet.Cidr.PrefixLength is < 16 or > MaxSubnetPrefix)
            {
                c.Error(path + ".cidr", $"subnet {subnet.Cidr} has prefix length /{subnet.Cidr.PrefixLength}; AWS allows /16 to /28", "use a /24, for example");
            }

            var zoneLetter = subnet.Az.StartsWith(region.Name, StringComparison.Ordinal) ? subnet.Az[region.Name.Length..] : null;
            if (region.Name.Length > 0 && zoneLetter is not [>= 'a' and <= 'z'])
            {
                c.Error(path + ".az", $"availability zone '{subnet.Az}' is not in region {region.Name}", $"write the region code and a letter, e.g. {region.Name}a");
            }

            for (var other = 0; other < s && !c.Full; other++)
            {
                if (bound[s] && bound[other] && region.Subnets[other].Cidr.Overlaps(subnet.Cidr))
                {
                    c.Error(path + ".cidr", $"subnet {subnet.Cidr} overlaps subnet '{region.Subnets[other].Name}' ({region.Subnets[other].Cidr})",
                        "subnets of a VPC must not overlap", Index(regionPath + ".subnets", other) + ".cidr");
                }

                if (region.Subnets[other].Name == subnet.Name)
                {
                    c.Error(path + ".name", $"subnet name '{subnet.Name}' is used twice in {region.Name}", "give each subnet of a region its own name");
                }
            }
        }
    }

    private static void Hosts(TopologyModel topology, Context c)
    {
        var seenNames = new Dictionary<string, string>(StringComparer.Ordinal);
        // Keyed by the address's text: a Dictionary keyed by the Ipv4Address struct has no ReadyToRun code (bench/startup.sh).
        var seenIps = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var r = 0; r < topology.Regions.Count; r++)
        {
            var region = topology.Regions[r];
            for (var h = 0; h < region.Hosts.Count; h++)
            {
                var host = region.Hosts[h];
                var path = Index(Index("regions", r) + ".hosts", h);
                if (host.Name.Length == 0)
                {
                    c.Error(path + ".name", "the host name is empty", "write 'name: my-host': 1–40 lowercase letters, digits and '-', starting with a letter");
                }
                else if (!IsLowercaseName(host.Name, 40))
                {
                    c.Error(path + ".name", $"'{host.Name}' is not a valid host name", "use 1–40 lowercase letters, digits and '-', starting with a letter");
                }

                if (host.Name.Length > 0 && !seenNames.TryAdd(host.Name, path))
                {
                    c.Error(path + ".name", $"host name '{host.Name}' is already used at {seenNames[host.Name]}", "give every host its own name", seenNames[host.Name] + ".name");
                }

                var subnet = region.Subnets.FirstOrDefault(s => s.Name == host.Subnet);
                if (subnet is null && region.Subnets.Count > 0)
                {
                    c.Error(path + ".subnet", $"subnet '{host.Subnet}' does not exist in {region.Name}",
                        $"use one of: {string.Join(", ", region.Subnets.Select(s => s.Name))}", Index("regions", r) + ".subnets");
                }
                else if (subnet is not null)
                {
                    HostAddress(host, subnet, path, c, Index("regions", r) + ".subnets");
                }

                if (!seenIps.TryAdd(host.PrivateIp.ToString(), path))
                {
                    var first = seenIps[host.PrivateIp.ToString()];
                    c.Error(path + ".privateIp", $"address {host.PrivateIp} is already used by {first}", "give every host its own private IP", first + ".privateIp");
                }

                if (!InstanceTypes.IsWellFormed(host.InstanceType))
                {
                    c.Error(path + ".instanceType", $"'{host.InstanceType}' is not an EC2 instance type", "write family.size, e.g. t3.small or c7gn.medium");
                }
                else if (InstanceTypes.ArchitectureOf(host.InstanceType) != host.Architecture)
                {
                    c.Error(path + ".architecture", $"{host.InstanceType} runs {Name(InstanceTypes.ArchitectureOf(host.InstanceType))}, not {Name(host.Architecture)}",
                        $"set architecture: {Name(InstanceTypes.ArchitectureOf(host.InstanceType))} or choose an instance type of the other architecture");
                }

                if (host.Ami is not null && !AmiId().IsMatch(host.Ami))
                {
                    c.Error(path + ".ami", $"'{host.Ami}' is not an AMI id", "write ami-followed by 8 or 17 hex digits, or remove it to use Ubuntu 22.04");
                }

                if (host.InstanceProfile is not null && !InstanceProfileName().IsMatch(host.InstanceProfile))
                {
                    c.Error(path + ".instanceProfile", $"'{host.InstanceProfile}' is not an IAM instance profile name",
                        "use the profile's name (1–128 of letters, digits and +=,.@_-), not its ARN; docs/aws.md shows how to create one for SSM");
                }

                if (host.Role == HostRole.Gateway && !host.HasPublicAddress)
                {
                    c.Error(path + ".publicIp", $"gateway '{host.Name}' has no public address, so it cannot NAT to the internet",
                        "set publicIp: elastic (a stable egress address) or publicIp: auto");
                }
            }
        }
    }

    private static void HostAddress(Host host, Subnet subnet, string path, Context c, string subnetsPath)
    {
        // A subnet that did not parse (bound as 0.0.0.0/32) or is smaller than AWS allows has its own error; it has
        // no usable range to check an address against or to suggest one from. An address that did not parse is bound as
        // 0.0.0.0 and its path is poisoned, so the errors below are dropped for it; a 0.0.0.0 written out is checked.
        if (subnet.Cidr.PrefixLength > MaxSubnetPrefix)
        {
            return;
        }

        if (!subnet.Cidr.Contains(host.PrivateIp))
        {
            c.Error(path + ".privateIp", $"{host.PrivateIp} is outside subnet '{subnet.Name}' ({subnet.Cidr})",
                $"pick an address from {subnet.Cidr.At(4)} to {subnet.Cidr.Last.Add(-1)}", subnetsPath);
            return;
        }

        var offset = host.PrivateIp.Value - subnet.Cidr.Network.Value;
        if (offset < 4 || host.PrivateIp == subnet.Cidr.Last)
        {
            var role = offset switch
            {
                0 => "the network address",
                1 => "the VPC router",
                2 => "the Amazon DNS server",
                3 => "reserved by AWS for future use",
                _ => "the broadcast address",
            };
            c.Error(path + ".privateIp", $"{host.PrivateIp} is reserved by AWS in {subnet.Cidr} ({role})",
                $"AWS reserves the first four and the last address of a subnet; pick one from {subnet.Cidr.At(4)} to {subnet.Cidr.Last.Add(-1)}", subnetsPath);
        }
    }

    private static void Egress(TopologyModel topology, Context c)
    {
        // Each host name's region (its first, when a name is used twice); loops, not LINQ over (name, region) tuples,
        // which has no ReadyToRun code (bench/startup.sh).
        var regionOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var region in topology.Regions)
        {
            foreach (var host in region.Hosts)
            {
                regionOf.TryAdd(host.Name, region.Name);
            }
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        ForEachHost(topology, (host, region, path) =>
        {
            if (host.Role == HostRole.Gateway)
            {
                if (host.EgressVia.Count > 0)
                {
                    c.Error(path + ".egressVia", $"gateway '{host.Name}' has egressVia; only clients egress through gateways", "remove egressVia from the gateway, or set role: client");
                }

                if (host.Dns is not null)
                {
                    c.Error(path + ".dns.resolveVia", $"gateway '{host.Name}' has dns.resolveVia; only clients choose where they resolve (a gateway always uses its own VPC resolver)",
                        "remove dns from the gateway; set it on its clients or at the top level");
                }

                return;
            }

            if (host.EgressVia.Count == 0)
            {
                var gateways = topology.Hosts.Where(g => g.Role == HostRole.Gateway).Select(g => g.Name).ToList();
                c.Error(path + ".egressVia", $"client '{host.Name}' has no gateway",
                    gateways.Count == 0 ? "add a host with role: gateway in another region and list it here: egressVia: [name]" : $"add egressVia: [{gateways[0]}]");
                return;
            }

            for (var i = 0; i < host.EgressVia.Count; i++)
            {
                var name = host.EgressVia[i];
                var itemPath = Index(path + ".egressVia", i);
                var gateway = topology.FindHost(name);
                if (name.Trim().Length == 0)
                {
                    c.Error(itemPath, "the gateway name is empty", "name a host that has role: gateway");
                }
                else if (host.EgressVia.Take(i).Contains(name, StringComparer.Ordinal))
                {
                    c.Error(itemPath, $"gateway '{name}' is listed twice", "list each gateway once, primary first");
                }
                else if (gateway is null)
                {
                    var suggestion = YamlBinder.Suggest(name, topology.Hosts.Where(g => g.Role == HostRole.Gateway).Select(g => g.Name));
                    c.Error(itemPath, $"no host named '{name}'" + (suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?"), "name a host that has role: gateway");
                }
                else if (gateway.Role != HostRole.Gateway)
                {
                    c.Error(itemPath, $"'{name}' is a client, not a gateway", $"set role: gateway on '{name}' or name another host");
                }
                else if (regionOf[name] == region.Name)
                {
                    c.Error(itemPath, $"gateway '{name}' is in the client's own region ({region.Name})",
                        "cross-region egress needs the gateway in another region; for same-region NAT use a NAT gateway instead");
                }
                else
                {
                    used.Add(name);
                }
            }
        });

        ForEachHost(topology, (host, _, path) =>
        {
            if (host.Role == HostRole.Gateway && !used.Contains(host.Name) && host.Name.Length > 0)
            {
                c.Warning(path, $"gateway '{host.Name}' serves no client", "list it in a client's egressVia, or remove it");
            }
        });
    }

    private static void Overlay(TopologyModel topology, Context c)
    {
        var overlay = topology.Overlay;
        if (overlay.Pool.PrefixLength > TunnelPair.PrefixLength)
        {
            c.Error("overlay.pool", $"tunnel pool {overlay.Pool} is smaller than one /30", "use a /30 or larger, e.g. 192.168.250.0/24");
        }
        else
        {
            var pairs = 0;
            foreach (var client in topology.Hosts.Where(h => h.Role == HostRole.Client))
            {
                pairs += client.EgressVia.Count;
            }

            var capacity = TunnelPairs.Capacity(overlay.Pool);
            if (pairs > capacity)
            {
                c.Error("overlay.pool", string.Create(CultureInfo.InvariantCulture, $"tunnel pool {overlay.Pool} holds {capacity} pairs (/30 each) but the topology has {pairs} client–gateway pairs"),
                    "use a larger pool, e.g. 192.168.250.0/24 (64 pairs)");
            }
        }

        if (IsReserved(overlay.Pool))
        {
            c.Error("overlay.pool", $"tunnel pool {overlay.Pool} overlaps a reserved range ({ReservedRanges})",
                "use a private range that no VPC uses, e.g. 192.168.250.0/24");
        }

        for (var r = 0; r < topology.Regions.Count; r++)
        {
            if (topology.Regions[r].Vpc.Overlaps(overlay.Pool))
            {
                c.Error("overlay.pool", $"tunnel pool {overlay.Pool} overlaps {topology.Regions[r].Name}'s VPC {topology.Regions[r].Vpc}",
                    "tunnel addresses must not collide with VPC addresses; choose a pool outside every VPC, e.g. 192.168.250.0/24", Index("regions", r) + ".vpc");
            }
        }

        if (overlay.UnderlayMtu is < Mtu.MinimumIpv4 or > Mtu.MaximumAws)
        {
            c.Error("overlay.underlayMtu", string.Create(CultureInfo.InvariantCulture, $"underlay MTU {overlay.UnderlayMtu} is out of range"),
                string.Create(CultureInfo.InvariantCulture, $"use {Mtu.MinimumIpv4}–{Mtu.MaximumAws}; inter-region peering carries 1500"));
        }
        else if (overlay.TunnelMtu < Mtu.MinimumIpv4)
        {
            c.Error("overlay.underlayMtu", string.Create(CultureInfo.InvariantCulture,
                $"underlay MTU {overlay.UnderlayMtu} leaves a tunnel MTU of {overlay.TunnelMtu} after {Mtu.Overhead(overlay.Mode)} bytes of {overlay.Mode.ToString().ToLowerInvariant()} overhead, below IPv4's minimum {Mtu.MinimumIpv4}"),
                string.Create(CultureInfo.InvariantCulture, $"raise underlayMtu to at least {Mtu.MinimumIpv4 + Mtu.Overhead(overlay.Mode)}"));
        }
    }

    private static void Failover(TopologyModel topology, Context c)
    {
        var f = topology.Failover;
        if (f.ProbeIntervalMs is < MinProbeIntervalMs or > 60_000)
        {
            c.Error("failover.probeIntervalMs", Inv($"probe interval {f.ProbeIntervalMs} ms is out of range"),
                Inv($"use {MinProbeIntervalMs}–60000 ms; 200 detects a dead gateway in about 0.6 s with downAfter: 3"));
        }

        if (f.DownAfter is < 1 or > 100)
        {
            c.Error("failover.downAfter", Inv($"downAfter must be from 1 to 100 missed probes, not {f.DownAfter}"),
                "3 tolerates two lost probes in a row; 1 fails over on a single lost packet");
        }

        if (f.UpAfter is < 1 or > 100)
        {
            c.Error("failover.upAfter", Inv($"upAfter must be from 1 to 100 answered probes, not {f.UpAfter}"),
                "5 consecutive answers keep a gateway that loses every other probe from flapping back");
        }

        if (f.HoldDownMs is < 0 or > 3_600_000)
        {
            c.Error("failover.holdDownMs", Inv($"hold-down {f.HoldDownMs} ms is out of range"),
                "use 0–3600000 ms (one hour); the default 5000 waits 5 s of health before failing back");
        }
    }

    private const string ReservedRanges = "0.0.0.0/8, link-local 169.254.0.0/16, loopback 127.0.0.0/8, multicast and above 224.0.0.0/3";

    /// <summary>Ranges no VPC or tunnel may use: "this network" 0.0.0.0/8 (not a source address), link-local (the
    /// instance metadata service), loopback, multicast and the reserved class E and broadcast above it.</summary>
    private static bool IsReserved(Ipv4Cidr cidr) =>
        cidr.Overlaps(ThisNetwork) || cidr.Overlaps(LinkLocal) || cidr.Overlaps(Loopback) || cidr.Overlaps(Multicast);

    /// <summary>A subnet's name tags its AWS subnet; AWS tag values hold 256 characters, a name needs far fewer.</summary>
    private const int MaxSubnetName = 64;

    /// <summary>AWS's smallest subnet is a /28 (16 addresses, five of them reserved).</summary>
    private const int MaxSubnetPrefix = 28;

    /// <summary>A probe interval below this cannot be timed by the watcher's sleep-and-ping loop.</summary>
    public const int MinProbeIntervalMs = 50;

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static void Settings(TopologyModel topology, Context c)
    {
        if (topology.Tunings.ConntrackMax is < 1024)
        {
            c.Error("tunings.conntrackMax", "conntrackMax must be at least 1024", "write conntrackMax: auto to size it from the instance's memory");
        }

        if (topology.Access.Ssh is { } ssh && (ssh.Overlaps(LinkLocal) || ssh.Overlaps(Multicast)))
        {
            c.Error("access.ssh", $"{ssh} cannot be an SSH source", "write your own address as a.b.c.d/32, or ssh: none");
        }

        var criteria = topology.Verify.Criteria;
        if (criteria.Rounds is < 1 or > 1000)
        {
            c.Error("verify.criteria.rounds", string.Create(CultureInfo.InvariantCulture, $"rounds must be from 1 to 1000, not {criteria.Rounds}"), "the seed runs every check 5 times: rounds: 5");
        }

        if (criteria.ColdLatencyMs.MinMs < 0 || criteria.ColdLatencyMs.MaxMs <= criteria.ColdLatencyMs.MinMs)
        {
            c.Error("verify.criteria.coldLatencyMs", string.Create(CultureInfo.InvariantCulture, $"budget {criteria.ColdLatencyMs.MinMs}–{criteria.ColdLatencyMs.MaxMs} ms is not a range"),
                "write min below max, both ≥ 0; the seed's is min: 200, max: 400");
        }

        if (topology.Verify.Targets.Count == 0)
        {
            c.Error("verify.targets", "no targets", "list at least one URL, e.g. https://api.binance.com/api/v3/time");
        }

        var names = topology.Regions.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < topology.Lab.Latency.Count; i++)
        {
            var link = topology.Lab.Latency[i];
            var path = Index("lab.latency", i);
            foreach (var end in new[] { link.A, link.B }.Where(e => e != LinkLatency.Internet && !names.Contains(e)))
            {
                c.Error(path + ".between", $"'{end}' is neither a region of this topology nor 'internet'", $"use one of: {string.Join(", ", names.Where(n => n.Trim().Length > 0).Append(LinkLatency.Internet))}");
            }

            if (link.A == link.B)
            {
                c.Error(path + ".between", $"a link from '{link.A}' to itself", "name two different ends");
            }

            if (link.RttMs is < 0 or > 10_000)
            {
                c.Error(path + ".rttMs", string.Create(CultureInfo.InvariantCulture, $"round-trip time {link.RttMs} ms is out of range"), "use 0–10000 ms; Singapore–Tokyo is about 70");
            }
        }
    }

    private static void ForEachHost(TopologyModel topology, Action<Host, Region, string> action)
    {
        for (var r = 0; r < topology.Regions.Count; r++)
        {
            for (var h = 0; h < topology.Regions[r].Hosts.Count; h++)
            {
                action(topology.Regions[r].Hosts[h], topology.Regions[r], Index(Index("regions", r) + ".hosts", h));
            }
        }
    }

    private static string Index(string path, int index) => string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]");

    private static string Name(CpuArchitecture architecture) => architecture.ToString().ToLowerInvariant();

    /// <summary>1 to <paramref name="maxLength"/> lowercase ASCII letters, digits and '-', starting with a letter. A loop,
    /// not a regex: a generated regex's character-class search JIT-compiles vectorised framework code on every start
    /// (bench/startup.sh).</summary>
    internal static bool IsLowercaseName(string text, int maxLength)
    {
        if (text.Length is 0 || text.Length > maxLength || text[0] is not (>= 'a' and <= 'z'))
        {
            return false;
        }

        foreach (var ch in text)
        {
            if (ch is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    [GeneratedRegex(@"^[\w+=,.@-]{1,128}$")]
    private static partial Regex InstanceProfileName();

    [GeneratedRegex("^ami-([0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex AmiId();

    private sealed class Context(SourceMap map)
    {
        private int _errors;

        public List<Diagnostic> Diagnostics { get; } = [];

        /// <summary>The first error past <see cref="MaxErrors"/>, if any.</summary>
        public Diagnostic? FirstDropped { get; private set; }

        /// <summary>At <see cref="MaxErrors"/>: further errors are not collected and the pairwise checks stop.</summary>
        public bool Full => _errors >= MaxErrors;

        public bool IsPoisoned(string path) => map.IsPoisoned(path);

        public void Error(string path, string message, string hint, string? related = null) => Add(DiagnosticSeverity.Error, path, message, hint, related);

        public void Warning(string path, string message, string hint) => Add(DiagnosticSeverity.Warning, path, message, hint, null);

        private void Add(DiagnosticSeverity severity, string path, string message, string hint, string? related)
        {
            if ((severity == DiagnosticSeverity.Error && FirstDropped is not null) || map.IsPoisoned(path) || (related is not null && map.IsPoisoned(related)))
            {
                return;
            }

            var (line, column) = map.Find(path);
            var diagnostic = new Diagnostic(severity, map.File, line, column, path, message, hint);
            if (severity == DiagnosticSeverity.Error && Full)
            {
                FirstDropped ??= diagnostic;
                return;
            }

            if (severity == DiagnosticSeverity.Error)
            {
                _errors++;
            }

            Diagnostics.Add(diagnostic);
        }
    }
}
