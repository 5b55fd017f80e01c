using Egress.Core.Net;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Egress.Core.Topology;

/// <summary>Binds a topology YAML document to <see cref="TopologyModel"/>, filling every default.</summary>
internal sealed class TopologyParser
{
    // Each enum's YAML names. EnumNames, not a Dictionary<string, TEnum>: a framework generic over one of this assembly's
    // value types has no ReadyToRun code and is JIT-compiled at start-up (eight dictionaries cost 'egress validate' about
    // 60 JIT-compiled methods; bench/startup.sh, StartupTests).
    internal static readonly EnumNames<HostRole> Roles = new(["client", "gateway"], [HostRole.Client, HostRole.Gateway]);

    internal static readonly EnumNames<CpuArchitecture> Architectures = new(["amd64", "arm64"], [CpuArchitecture.Amd64, CpuArchitecture.Arm64]);

    internal static readonly EnumNames<PublicAddressKind> PublicIps =
        new(["none", "auto", "elastic"], [PublicAddressKind.None, PublicAddressKind.Auto, PublicAddressKind.Elastic]);

    internal static readonly EnumNames<OverlayMode> OverlayModes =
        new(["ipip", "gre", "vxlan", "auto"], [OverlayMode.Ipip, OverlayMode.Gre, OverlayMode.Vxlan, OverlayMode.Auto]);

    internal static readonly EnumNames<RpFilterMode> RpFilters = new(["off", "strict", "loose"], [RpFilterMode.Off, RpFilterMode.Strict, RpFilterMode.Loose]);

    internal static readonly EnumNames<GeolocationExpectation> Geolocations =
        new(["gateway-region", "none"], [GeolocationExpectation.GatewayRegion, GeolocationExpectation.None]);

    internal static readonly EnumNames<FailurePolicy> Policies = new(["fail-closed", "fail-open"], [FailurePolicy.FailClosed, FailurePolicy.FailOpen]);

    internal static readonly EnumNames<DnsResolveVia> ResolveVias = new(["gateway", "local"], [DnsResolveVia.Gateway, DnsResolveVia.Local]);

    private readonly YamlBinder _binder;

    private TopologyParser(YamlBinder binder) => _binder = binder;

    public static TopologyModel? Parse(string text, SourceMap map, List<Diagnostic> diagnostics)
    {
        var binder = new YamlBinder(map, diagnostics);
        YamlNode? root;
        try
        {
            if (!YamlGuard.Check(text, map, diagnostics))
            {
                return null;
            }

            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            root = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
            if (stream.Documents.Count > 1)
            {
                binder.Error(string.Empty, stream.Documents[1].RootNode, "the file holds more than one YAML document", "keep one topology per file; remove the '---' separator");
            }
        }
        catch (YamlException ex)
        {
            var message = ex.InnerException?.Message ?? ex.Message;
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, map.File, Math.Max(1, (int)ex.Start.Line), Math.Max(1, (int)ex.Start.Column), string.Empty,
                $"YAML syntax error: {FirstSentence(message)}", "fix the indentation or quoting at this position; YAML uses spaces, never tabs"));
            return null;
        }
        catch (ArgumentException ex)
        {
            // YamlDotNet's node builder throws ArgumentException without a position (a duplicate key, an event it cannot
            // represent): locate it at the last event the parser read before the builder gave up.
            var (line, column) = LastEventPosition(text);
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, map.File, line, column, string.Empty, $"YAML error: {ex.Message}",
                "fix the structure at this position: each key once per mapping, every key a plain value"));
            return null;
        }

        if (root is null || YamlBinder.IsNull(root))
        {
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, map.File, 1, 1, string.Empty, "the file is empty",
                "run 'egress init' to write the seed topology, then edit it"));
            return null;
        }

        return new TopologyParser(binder).Topology(root);
    }

    private static (int Line, int Column) LastEventPosition(string text)
    {
        var line = 1;
        var column = 1;
        try
        {
            var parser = new YamlDotNet.Core.Parser(new StringReader(text));
            while (parser.MoveNext())
            {
                line = Math.Max(1, (int)parser.Current!.Start.Line);
                column = Math.Max(1, (int)parser.Current.Start.Column);
            }
        }
        catch (YamlException)
        {
            // the position of the last event read is the best there is
        }

        return (line, column);
    }

    private static string FirstSentence(string message)
    {
        var closing = message.IndexOf(").", StringComparison.Ordinal);
        return (closing > 0 ? message[(closing + 2)..] : message).Trim();
    }

    private TopologyModel? Topology(YamlNode root)
    {
        var doc = _binder.Mapping(root, string.Empty, "stack", "regions", "overlay", "tunings", "failover", "access", "dns", "verify", "lab");
        if (doc is null)
        {
            return null;
        }

        var stack = doc.String("stack", required: true, hint: "add 'stack: my-egress' (lowercase letters, digits and '-'): it names and tags every AWS resource");
        if (!doc.Has("regions"))
        {
            doc.Missing("regions", "add 'regions:' with at least a client region and a gateway region; 'egress init' writes an example");
        }

        var regions = _binder.Sequence(doc.Get("regions"), doc.At("regions"), "regions", TopologyLimits.Regions)
            .Select(item => Region(item.Node, item.Path))
            .OfType<Region>()
            .ToList();

        return new TopologyModel
        {
            Stack = stack ?? string.Empty,
            Regions = regions,
            Overlay = Overlay(doc.Get("overlay"), doc.At("overlay")),
            Tunings = Tunings(doc.Get("tunings"), doc.At("tunings")),
            Failover = Failover(doc.Get("failover"), doc.At("failover")),
            Access = Access(doc.Get("access"), doc.At("access")),
            Dns = Dns(doc.Get("dns"), doc.At("dns")),
            Verify = Verify(doc.Get("verify"), doc.At("verify")),
            Lab = Lab(doc.Get("lab"), doc.At("lab")),
        };
    }

    private Region? Region(YamlNode node, string path)
    {
        var map = _binder.Mapping(node, path, "name", "vpc", "subnets", "hosts");
        if (map is null)
        {
            if (YamlBinder.IsNull(node))
            {
                _binder.Error(path, node, "empty region", "give the region a name, vpc, subnets and hosts");
            }

            return null;
        }

        var name = map.String("name", required: true, hint: "add 'name: ap-southeast-1' (an AWS region code)") ?? string.Empty;
        var vpc = map.Cidr("vpc", required: true, hint: "add 'vpc: 10.0.0.0/16' (a /16 to /28 private range)");
        if (!map.Has("subnets"))
        {
            map.Missing("subnets", $"add 'subnets:' with at least one '- cidr: ...' inside {vpc?.ToString() ?? "the VPC"}");
        }

        var subnets = _binder.Sequence(map.Get("subnets"), map.At("subnets"), "subnets", TopologyLimits.SubnetsPerRegion)
            .Select(item => Subnet(item.Node, item.Path, name))
            .OfType<Subnet>()
            .ToList();
        var hosts = _binder.Sequence(map.Get("hosts"), map.At("hosts"), "hosts", TopologyLimits.HostsPerRegion)
            .Select(item => Host(item.Node, item.Path, subnets))
            .OfType<Host>()
            .ToList();

        return new Region
        {
            Name = name,
            Vpc = vpc ?? new Ipv4Cidr(default, 32),
            Subnets = subnets,
            Hosts = hosts,
        };
    }

    private Subnet? Subnet(YamlNode node, string path, string region)
    {
        var map = _binder.Mapping(node, path, "name", "cidr", "az");
        if (map is null)
        {
            return null;
        }

        var cidr = map.Cidr("cidr", required: true, hint: "add 'cidr: 10.0.1.0/24' inside the region's VPC");
        var az = map.String("az") ?? region + "a";
        return new Subnet
        {
            Name = map.String("name") ?? az,
            Cidr = cidr ?? new Ipv4Cidr(default, 32),
            Az = az,
        };
    }

    private Host? Host(YamlNode node, string path, List<Subnet> subnets)
    {
        var map = _binder.Mapping(node, path, "name", "role", "subnet", "privateIp", "instanceType", "architecture", "publicIp", "egressVia", "ami", "instanceProfile", "dns");
        if (map is null)
        {
            return null;
        }

        var name = map.String("name", required: true, hint: "add 'name: my-host' (lowercase letters, digits and '-')") ?? string.Empty;
        if (!map.Has("role"))
        {
            map.Missing("role", "add 'role: client' (its traffic egresses elsewhere) or 'role: gateway' (the NAT host)");
        }

        var role = map.Enum("role", Roles) ?? HostRole.Client;
        var subnet = map.String("subnet");
        if (subnet is null && subnets.Count == 1)
        {
            subnet = subnets[0].Name;
        }
        else if (subnet is null && subnets.Count > 1)
        {
            map.Missing("subnet", $"the region has several subnets; add 'subnet: <name>' naming one of: {string.Join(", ", subnets.Select(s => s.Name))}");
        }

        var instanceType = map.String("instanceType") ?? (role == HostRole.Gateway ? "t3.micro" : "t3.small");
        var egressVia = new List<string>();
        foreach (var (item, itemPath) in _binder.Sequence(map.Get("egressVia"), map.At("egressVia"), "gateway names", TopologyLimits.EgressVia))
        {
            if (_binder.Scalar(item, itemPath) is { } gateway)
            {
                egressVia.Add(gateway);
            }
        }

        return new Host
        {
            Name = name,
            Role = role,
            Subnet = subnet ?? string.Empty,
            PrivateIp = map.Address("privateIp", required: true) ?? default,
            InstanceType = instanceType,
            Architecture = map.Enum("architecture", Architectures) ?? InstanceTypes.ArchitectureOf(instanceType),
            PublicIp = map.Enum("publicIp", PublicIps) ?? (role == HostRole.Gateway ? PublicAddressKind.Elastic : PublicAddressKind.Auto),
            EgressVia = egressVia,
            Ami = map.String("ami"),
            InstanceProfile = map.String("instanceProfile"),
            Dns = _binder.Mapping(map.Get("dns"), map.At("dns"), "resolveVia") is { } dns ? dns.Enum("resolveVia", ResolveVias) : null,
        };
    }

    private Overlay Overlay(YamlNode? node, string path)
    {
        var map = _binder.Mapping(node, path, "mode", "pool", "underlayMtu");
        var defaults = new Overlay();
        return map is null
            ? defaults
            : new Overlay
            {
                Mode = map.Enum("mode", OverlayModes) ?? defaults.Mode,
                Pool = map.Cidr("pool") ?? defaults.Pool,
                UnderlayMtu = map.Int("underlayMtu") ?? defaults.UnderlayMtu,
            };
    }

    private Tunings Tunings(YamlNode? node, string path)
    {
        var map = _binder.Mapping(node, path, "bbr", "fq", "slowStartAfterIdle", "rpFilter", "conntrackMax");
        var defaults = new Tunings();
        return map is null
            ? defaults
            : new Tunings
            {
                Bbr = map.Bool("bbr") ?? defaults.Bbr,
                Fq = map.Bool("fq") ?? defaults.Fq,
                SlowStartAfterIdle = map.Bool("slowStartAfterIdle") ?? defaults.SlowStartAfterIdle,
                RpFilter = map.Enum("rpFilter", RpFilters) ?? defaults.RpFilter,
                ConntrackMax = map.String("conntrackMax") is null or "auto" ? null : map.Int("conntrackMax"),
            };
    }

    private FailoverSettings Failover(YamlNode? node, string path)
    {
        var map = _binder.Mapping(node, path, "policy", "failback", "holdDownMs", "probeIntervalMs", "downAfter", "upAfter");
        var defaults = new FailoverSettings();
        return map is null
            ? defaults
            : new FailoverSettings
            {
                Policy = map.Enum("policy", Policies) ?? defaults.Policy,
                Failback = map.Bool("failback") ?? defaults.Failback,
                HoldDownMs = map.Int("holdDownMs") ?? defaults.HoldDownMs,
                ProbeIntervalMs = map.Int("probeIntervalMs") ?? defaults.ProbeIntervalMs,
                DownAfter = map.Int("downAfter") ?? defaults.DownAfter,
                UpAfter = map.Int("upAfter") ?? defaults.UpAfter,
            };
    }

    private Access Access(YamlNode? node, string path)
    {
        var map = _binder.Mapping(node, path, "ssh");
        if (map is null || map.String("ssh") is null or "none")
        {
            return new Access();
        }

        return new Access { Ssh = map.Cidr("ssh") };
    }

    /// <summary>Top-level dns: resolveVia auto (the default: gateway for clients whose whole default route goes through
    /// the tunnel), gateway or local.</summary>
    private DnsSettings Dns(YamlNode? node, string path)
    {
        var map = _binder.Mapping(node, path, "resolveVia");
        if (map is null || map.String("resolveVia") is null or "auto")
        {
            return new DnsSettings();
        }

        return new DnsSettings { ResolveVia = map.Enum("resolveVia", ResolveVias) };
    }

    private VerifySettings Verify(YamlNode? node, string path)
    {
        var map = _binder.Mapping(node, path, "targets", "ipEcho", "criteria");
        var defaults = new VerifySettings();
        if (map is null)
        {
            return defaults;
        }

        var targets = _binder.Sequence(map.Get("targets"), map.At("targets"), "URLs", TopologyLimits.Targets)
            .Select(item => map.Url(item.Node, item.Path))
            .OfType<HttpUrl>()
            .ToList();
        var ipEcho = map.Get("ipEcho") is { } echoNode ? map.Url(echoNode, map.At("ipEcho")) : null;
        return new VerifySettings
        {
            Targets = map.Has("targets") ? new HttpUrlList(targets) : defaults.Targets,
            IpEchoUrl = ipEcho ?? defaults.IpEchoUrl,
            Criteria = Criteria(map.Get("criteria"), map.At("criteria")),
        };
    }

    private VerifyCriteria Criteria(YamlNode? node, string path)
    {
        var map = _binder.Mapping(node, path, "coldLatencyMs", "geolocation", "pathViaGateway", "rounds");
        var defaults = new VerifyCriteria();
        if (map is null)
        {
            return defaults;
        }

        var budget = defaults.ColdLatencyMs;
        if (_binder.Mapping(map.Get("coldLatencyMs"), map.At("coldLatencyMs"), "min", "max") is { } latency)
        {
            budget = new LatencyBudget(latency.Int("min") ?? 0, latency.Int("max") ?? budget.MaxMs);
        }

        return new VerifyCriteria
        {
            ColdLatencyMs = budget,
            Geolocation = map.Enum("geolocation", Geolocations) ?? defaults.Geolocation,
            PathViaGateway = map.Bool("pathViaGateway") ?? defaults.PathViaGateway,
            Rounds = map.Int("rounds") ?? defaults.Rounds,
        };
    }

    private LabSettings Lab(YamlNode? node, string path)
    {
        var map = _binder.Mapping(node, path, "latency");
        if (map is null)
        {
            return new LabSettings();
        }

        var links = new List<LinkLatency>();
        foreach (var (item, itemPath) in _binder.Sequence(map.Get("latency"), map.At("latency"), "links", TopologyLimits.LatencyLinks))
        {
            var link = _binder.Mapping(item, itemPath, "between", "rttMs");
            if (link is null)
            {
                continue;
            }

            var ends = _binder.Sequence(link.Get("between"), link.At("between"), "two region names", 16)
                .Select(end => _binder.Scalar(end.Node, end.Path))
                .ToList();
            if (ends.Count != 2 || ends.Any(e => e is null))
            {
                _binder.Error(link.At("between"), link.Get("between") ?? item, "'between' must name exactly two ends",
                    "write between: [ap-southeast-1, ap-northeast-1] or between: [ap-northeast-1, internet]");
                continue;
            }

            var rtt = link.Int("rttMs");
            if (rtt is null)
            {
                link.Missing("rttMs", "add 'rttMs: 70' (the round-trip time to emulate, in milliseconds)");
                continue;
            }

            links.Add(new LinkLatency(ends[0]!, ends[1]!, rtt.Value));
        }

        return new LabSettings { Latency = links };
    }
}
