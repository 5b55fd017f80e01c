using Egress.Core.Topology;

namespace Egress.Core.Tests.Topology;

/// <summary>Each case breaks the seed in one way; the loader must name the path and say what is wrong.</summary>
public sealed class InvalidTopologyTests
{
    private static readonly string Seed = Examples.Text(Examples.Seed);

    public static TheoryData<string, string, string, string> Cases => new()
    {
        // name, edits of the seed ("from => to", several joined by " ;; "), expected path, expected message fragment
        { "unknown key (typo)", "privateIp: 10.0.1.10 => privateIP: 10.0.1.10", "regions[0].hosts[0].privateIP", "unknown key 'privateIP'; did you mean 'privateIp'?" },
        { "unknown top-level key", "stack: egress-seed => stack: egress-seed\nstacks: x", "stacks", "unknown key 'stacks'; did you mean 'stack'?" },
        { "CIDR with host bits", "vpc: 10.0.0.0/16 => vpc: 10.0.0.5/16", "regions[0].vpc", "has host bits set; did you mean 10.0.0.0/16?" },
        { "CIDR without prefix", "vpc: 10.0.0.0/16 => vpc: 10.0.0.0", "regions[0].vpc", "has no prefix length" },
        { "CIDR garbage", "vpc: 10.0.0.0/16 => vpc: ten-dot-zero", "regions[0].vpc", "'ten-dot-zero' is not an IPv4 prefix" },
        { "CIDR prefix too long", "vpc: 10.0.0.0/16 => vpc: 10.0.0.0/33", "regions[0].vpc", "prefix length '33'" },
        { "overlapping VPCs", "vpc: 10.1.0.0/16 => vpc: 10.0.0.0/8", "regions[1].vpc", "overlaps ap-southeast-1's VPC 10.0.0.0/16" },
        { "VPC too large for AWS", "vpc: 10.1.0.0/16 => vpc: 10.0.0.0/15", "regions[1].vpc", "AWS allows /16 to /28" },
        { "VPC in link-local", "vpc: 10.1.0.0/16 => vpc: 169.254.0.0/16", "regions[1].vpc", "overlaps a reserved range" },
        { "subnet outside VPC", "cidr: 10.1.1.0/24 => cidr: 10.9.1.0/24", "regions[1].subnets[0].cidr", "is not inside the VPC 10.1.0.0/16" },
        { "overlapping subnets", "      - name: public-a\n        cidr: 10.0.1.0/24\n        az: ap-southeast-1a =>       - name: public-a\n        cidr: 10.0.1.0/24\n        az: ap-southeast-1a\n      - name: public-b\n        cidr: 10.0.0.0/23\n        az: ap-southeast-1b", "regions[0].subnets[1].cidr", "overlaps subnet 'public-a' (10.0.1.0/24)" },
        { "duplicate subnet names", "      - name: public-a\n        cidr: 10.0.1.0/24\n        az: ap-southeast-1a =>       - name: public-a\n        cidr: 10.0.1.0/24\n        az: ap-southeast-1a\n      - name: public-a\n        cidr: 10.0.2.0/24\n        az: ap-southeast-1b", "regions[0].subnets[1].name", "subnet name 'public-a' is used twice" },
        { "AZ of another region", "az: ap-northeast-1a => az: ap-southeast-1a", "regions[1].subnets[0].az", "is not in region ap-northeast-1" },
        { "host outside subnet", "privateIp: 10.0.1.10 => privateIp: 10.0.2.10", "regions[0].hosts[0].privateIp", "10.0.2.10 is outside subnet 'public-a' (10.0.1.0/24)" },
        { "host on VPC router address", "privateIp: 10.0.1.10 => privateIp: 10.0.1.1", "regions[0].hosts[0].privateIp", "reserved by AWS in 10.0.1.0/24 (the VPC router)" },
        { "host on AWS DNS address", "privateIp: 10.1.1.10 => privateIp: 10.1.1.2", "regions[1].hosts[0].privateIp", "(the Amazon DNS server)" },
        { "host on broadcast address", "privateIp: 10.1.1.10 => privateIp: 10.1.1.255", "regions[1].hosts[0].privateIp", "(the broadcast address)" },
        { "host IP not an address", "privateIp: 10.0.1.10 => privateIp: 10.0.1.300", "regions[0].hosts[0].privateIp", "'10.0.1.300' is not an IPv4 address" },
        { "duplicate host names", "name: tokyo-nat\n        role => name: sg-client\n        role", "regions[1].hosts[0].name", "host name 'sg-client' is already used at regions[0].hosts[0]" },
        { "unknown region", "name: ap-northeast-1  => name: ap-northeast-9  ", "regions[1].name", "'ap-northeast-9' is not an AWS region" },
        { "region listed twice", "name: ap-northeast-1  => name: ap-southeast-1  ", "regions[1].name", "region 'ap-southeast-1' is listed twice" },
        { "client with no gateway", "        egressVia: [tokyo-nat]      # primary first\n => ", "regions[0].hosts[0].egressVia", "client 'sg-client' has no gateway" },
        { "egressVia unknown host", "egressVia: [tokyo-nat] => egressVia: [tokyo-nad]", "regions[0].hosts[0].egressVia[0]", "no host named 'tokyo-nad'; did you mean 'tokyo-nat'?" },
        { "gateway listed twice", "egressVia: [tokyo-nat] => egressVia: [tokyo-nat, tokyo-nat]", "regions[0].hosts[0].egressVia[1]", "gateway 'tokyo-nat' is listed twice" },
        { "egressVia names a client", "egressVia: [tokyo-nat] => egressVia: [sg-client]", "regions[0].hosts[0].egressVia[0]", "'sg-client' is a client, not a gateway" },
        { "gateway has egressVia", "        publicIp: elastic           # the egress address the internet sees =>         publicIp: elastic\n        egressVia: [sg-client]", "regions[1].hosts[0].egressVia", "gateway 'tokyo-nat' has egressVia" },
        { "gateway without public address", "publicIp: elastic  => publicIp: none  ", "regions[1].hosts[0].publicIp", "gateway 'tokyo-nat' has no public address" },
        { "pool too small", "pool: 192.168.250.0/24 => pool: 192.168.250.0/31", "overlay.pool", "smaller than one /30" },
        { "pool overlaps a VPC", "pool: 192.168.250.0/24 => pool: 10.1.250.0/24", "overlay.pool", "overlaps ap-northeast-1's VPC 10.1.0.0/16" },
        { "pool in link-local", "pool: 192.168.250.0/24 => pool: 169.254.250.0/24", "overlay.pool", "overlaps a reserved range" },
        { "MTU out of range", "underlayMtu: 1500 => underlayMtu: 9500", "overlay.underlayMtu", "underlay MTU 9500 is out of range" },
        { "MTU too small for overlay", "underlayMtu: 1500 => underlayMtu: 600 ;; mode: ipip => mode: vxlan", "overlay.underlayMtu", "leaves a tunnel MTU of 550 after 50 bytes of vxlan overhead" },
        { "unknown overlay mode", "mode: ipip => mode: ipipp", "overlay.mode", "'ipipp' is not a valid mode; did you mean 'ipip'?" },
        { "unknown role", "role: gateway => role: nat", "regions[1].hosts[0].role", "'nat' is not a valid role" },
        { "architecture mismatch", "instanceType: t3.micro => instanceType: t4g.micro", "regions[1].hosts[0].architecture", "t4g.micro runs arm64, not amd64" },
        { "malformed instance type", "instanceType: t3.small => instanceType: small", "regions[0].hosts[0].instanceType", "'small' is not an EC2 instance type" },
        { "invalid stack name", "stack: egress-seed => stack: Egress_Seed", "stack", "'Egress_Seed' is not a valid stack name" },
        // A quoted newline at the end: the regexes these checks were ('$' matches before a final newline) let it through.
        { "stack name ending in a newline", "stack: egress-seed => stack: \"egress-seed\\n\"", "stack", "is not a valid stack name" },
        { "host name ending in a newline", "name: sg-client => name: \"sg-client\\n\"", "regions[0].hosts[0].name", "is not a valid host name" },
        { "invalid host name", "name: sg-client => name: SG Client", "regions[0].hosts[0].name", "'SG Client' is not a valid host name" },
        { "missing stack", "stack: egress-seed\n => ", "stack", "'stack' is required" },
        { "missing private IP", "        privateIp: 10.1.1.10\n => ", "regions[1].hosts[0].privateIp", "'privateIp' is required" },
        { "unknown subnet", "        subnet: public-a\n        privateIp: 10.0.1.10 =>         subnet: public-b\n        privateIp: 10.0.1.10", "regions[0].hosts[0].subnet", "subnet 'public-b' does not exist in ap-southeast-1" },
        { "mapping expected", "tunings:\n  bbr: true => tunings: fast\nxtunings:\n  bbr: true", "tunings", "expected a mapping" },
        { "list expected", "  targets:\n    - https://api.binance.com/api/v3/time =>   targets: https://api.binance.com/api/v3/time", "verify.targets", "expected a list of URLs" },
        { "not a boolean", "bbr: true => bbr: maybe", "tunings.bbr", "'maybe' is not true or false" },
        { "not a URL", "ipEcho: https://ipinfo.io/json => ipEcho: ipinfo.io", "verify.ipEcho", "'ipinfo.io' is not an http(s) URL" },
        { "rounds zero", "rounds: 5 => rounds: 0", "verify.criteria.rounds", "rounds must be from 1 to 1000, not 0" },
        { "latency budget inverted", "{ min: 200, max: 400 } => { min: 500, max: 400 }", "verify.criteria.coldLatencyMs", "budget 500–400 ms is not a range" },
        { "dns resolveVia unknown", "ssh: none => ssh: none\ndns:\n  resolveVia: gatway", "dns.resolveVia", "'gatway' is not a valid resolveVia; did you mean 'gateway'?" },
        { "dns unknown key", "ssh: none => ssh: none\ndns:\n  resolve: gateway", "dns.resolve", "unknown key 'resolve'" },
        { "client dns resolveVia auto", "egressVia: [tokyo-nat] => egressVia: [tokyo-nat]\n        dns: { resolveVia: auto }", "regions[0].hosts[0].dns.resolveVia", "'auto' is not a valid resolveVia" },
        { "gateway with dns", "        publicIp: elastic           # the egress address the internet sees =>         publicIp: elastic\n        dns: { resolveVia: local }", "regions[1].hosts[0].dns.resolveVia", "gateway 'tokyo-nat' has dns.resolveVia" },
        { "ssh not a CIDR", "ssh: none => ssh: my-laptop", "access.ssh", "invalid CIDR" },
        { "lab link to unknown region", "between: [ap-northeast-1, internet] => between: [eu-west-1, internet]", "lab.latency[1].between", "'eu-west-1' is neither a region of this topology nor 'internet'" },
        { "lab negative delay", "rttMs: 2 => rttMs: -2", "lab.latency[1].rttMs", "round-trip time -2 ms is out of range" },
        { "AMI malformed", "        publicIp: elastic           # the egress address the internet sees =>         publicIp: elastic\n        ami: ubuntu", "regions[1].hosts[0].ami", "'ubuntu' is not an AMI id" },
        { "instance profile given as ARN", "        publicIp: elastic           # the egress address the internet sees =>         publicIp: elastic\n        instanceProfile: arn:aws:iam::123456789012:instance-profile/ssm", "regions[1].hosts[0].instanceProfile", "is not an IAM instance profile name" },
        { "failover policy unknown", "rpFilter: off => rpFilter: off\nfailover:\n  policy: fail-safe", "failover.policy", "'fail-safe' is not a valid policy" },
        { "failover unknown key", "rpFilter: off => rpFilter: off\nfailover:\n  holdDown: 5000", "failover.holdDown", "unknown key 'holdDown'; did you mean 'holdDownMs'?" },
        { "failback not a boolean", "rpFilter: off => rpFilter: off\nfailover:\n  failback: sometimes", "failover.failback", "'sometimes' is not true or false" },
        { "probe interval too short", "rpFilter: off => rpFilter: off\nfailover:\n  probeIntervalMs: 10", "failover.probeIntervalMs", "probe interval 10 ms is out of range" },
        { "downAfter zero", "rpFilter: off => rpFilter: off\nfailover:\n  downAfter: 0", "failover.downAfter", "downAfter must be from 1 to 100 missed probes, not 0" },
        { "upAfter too large", "rpFilter: off => rpFilter: off\nfailover:\n  upAfter: 1000", "failover.upAfter", "upAfter must be from 1 to 100 answered probes, not 1000" },
        { "hold-down negative", "rpFilter: off => rpFilter: off\nfailover:\n  holdDownMs: -1", "failover.holdDownMs", "hold-down -1 ms is out of range" },
        { "conntrack too small", "rpFilter: off => rpFilter: off\n  conntrackMax: 10", "tunings.conntrackMax", "conntrackMax must be at least 1024" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Load_BrokenSeed_ReportsPathAndMessage(string name, string edit, string path, string message)
    {
        var yaml = Apply(edit);

        var result = TopologyLoader.Load(yaml, "egress.yaml");

        Assert.False(result.Succeeded, $"{name}: expected the document to be rejected");
        var match = result.Errors.FirstOrDefault(d => d.Path == path && d.Message.Contains(message, StringComparison.Ordinal));
        Assert.True(match is not null,
            $"{name}: expected an error at '{path}' containing \"{message}\"; got:\n{string.Join('\n', result.Diagnostics)}");
        Assert.Equal("egress.yaml", match.File);
        Assert.True(match.Line > 0, $"{name}: the error has no line number: {match}");
        Assert.False(string.IsNullOrWhiteSpace(match.Hint), $"{name}: the error has no fix: {match}");
    }

    [Fact]
    public void Load_GatewayInClientRegion_IsRejectedWithItsOwnMessage()
    {
        var yaml = Seed.Replace("egressVia: [tokyo-nat]", "egressVia: [sg-nat]", StringComparison.Ordinal)
            .Replace("        egressVia: [sg-nat]      # primary first", "        egressVia: [sg-nat]\n      - name: sg-nat\n        role: gateway\n        privateIp: 10.0.1.20", StringComparison.Ordinal);

        var result = TopologyLoader.Load(yaml);

        var error = Assert.Single(result.Errors);
        Assert.Equal("regions[0].hosts[0].egressVia[0]", error.Path);
        Assert.Contains("gateway 'sg-nat' is in the client's own region (ap-southeast-1)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PoolTooSmallForPairs_SaysHowManyPairsFit()
    {
        var yaml = Examples.Text(Examples.ThreeRegion).Replace("pool: 192.168.250.0/24", "pool: 192.168.250.0/30", StringComparison.Ordinal);

        var result = TopologyLoader.Load(yaml);

        var error = Assert.Single(result.Errors);
        Assert.Equal("overlay.pool", error.Path);
        Assert.Contains("holds 1 pairs (/30 each) but the topology has 2 client–gateway pairs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SeveralMistakes_ReportsEveryOneInFileOrder()
    {
        var yaml = Seed
            .Replace("privateIp: 10.0.1.10", "privateIP: 10.0.1.10", StringComparison.Ordinal)
            .Replace("vpc: 10.1.0.0/16", "vpc: 10.1.0.0/33", StringComparison.Ordinal)
            .Replace("mode: ipip", "mode: wireguard", StringComparison.Ordinal)
            .Replace("rounds: 5", "rounds: -1", StringComparison.Ordinal);

        var result = TopologyLoader.Load(yaml);

        var paths = result.Errors.Select(e => e.Path).ToList();
        Assert.Contains("regions[0].hosts[0].privateIP", paths);
        Assert.Contains("regions[0].hosts[0].privateIp", paths); // missing, since the typo'd key does not count
        Assert.Contains("regions[1].vpc", paths);
        Assert.Contains("overlay.mode", paths);
        Assert.Contains("verify.criteria.rounds", paths);
        Assert.Equal(result.Errors.OrderBy(e => e.Line).Select(e => e.Line), result.Errors.Select(e => e.Line));
    }

    [Fact]
    public void Load_BadCidr_DoesNotCascadeIntoOverlapErrors()
    {
        var yaml = Seed.Replace("vpc: 10.1.0.0/16", "vpc: 10.1.0.0/33", StringComparison.Ordinal);

        var result = TopologyLoader.Load(yaml);

        var error = Assert.Single(result.Errors);
        Assert.Equal("regions[1].vpc", error.Path);
    }

    [Fact]
    public void Load_YamlSyntaxError_GivesLineAndColumn()
    {
        var result = TopologyLoader.Load("stack: a\nregions:\n  - name: [unclosed\n", "broken.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Equal("broken.yaml", error.File);
        Assert.StartsWith("YAML syntax error", error.Message, StringComparison.Ordinal);
        Assert.True(error.Line >= 3, error.ToString());
    }

    [Fact]
    public void Load_TabIndentation_IsASyntaxErrorNotACrash()
    {
        var result = TopologyLoader.Load("stack: a\nregions:\n\t- name: x\n");

        Assert.False(result.Succeeded);
        Assert.Contains("YAML", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DuplicateKey_IsReported()
    {
        var result = TopologyLoader.Load(Seed.Replace("stack: egress-seed", "stack: egress-seed\nstack: other", StringComparison.Ordinal));

        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.Message.Contains("stack", StringComparison.Ordinal) || e.Message.Contains("uplicate", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_EmptyFile_SaysSoAndHowToStart()
    {
        var error = Assert.Single(TopologyLoader.Load("# nothing here\n").Errors);

        Assert.Equal("the file is empty", error.Message);
        Assert.Contains("egress init", error.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ScalarDocument_AsksForAMapping()
    {
        var error = Assert.Single(TopologyLoader.Load("just words").Errors);

        Assert.Contains("expected a mapping", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnusedGateway_IsAWarningNotAnError()
    {
        var yaml = Seed.Replace("        publicIp: elastic           # the egress address the internet sees",
            "        publicIp: elastic\n      - name: spare-nat\n        role: gateway\n        privateIp: 10.1.1.11", StringComparison.Ordinal);

        var result = TopologyLoader.Load(yaml);

        Assert.True(result.Succeeded);
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("serves no client", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnostic_ToString_NamesFileLineColumnPathAndFix()
    {
        var error = TopologyLoader.Load(Seed.Replace("privateIp: 10.0.1.10", "privateIp: 10.0.1.1", StringComparison.Ordinal)).Errors.Single();

        var text = error.ToString();

        Assert.Matches(@"^egress\.yaml:\d+:\d+: error: regions\[0\]\.hosts\[0\]\.privateIp: 10\.0\.1\.1 is reserved", text);
        Assert.Contains("\n    fix: AWS reserves the first four and the last address of a subnet; pick one from 10.0.1.4 to 10.0.1.254", text, StringComparison.Ordinal);
    }

    private static string Apply(string edits)
    {
        var yaml = Seed;
        foreach (var edit in edits.Split(" ;; "))
        {
            var parts = edit.Split(" => ", 2);
            var index = yaml.IndexOf(parts[0], StringComparison.Ordinal);
            Assert.True(index >= 0, $"test case edit does not match the seed: '{parts[0]}'");
            yaml = string.Concat(yaml.AsSpan(0, index), parts[1], yaml.AsSpan(index + parts[0].Length));
        }

        return yaml;
    }
}
