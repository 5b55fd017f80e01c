using System.Text.Json;
using Egress.Aws.Testing;
using Egress.Core.Topology;
using Egress.Host.Rendering;
using Egress.Lab;

namespace Egress.Cli.Tests;

/// <summary>status, plan, apply's and destroy's plans and lab status at 80 columns and in a pipe (COLUMNS): no line is
/// wider than the width unless it is one token that is, and every value (id, address, CIDR, name) is whole on one
/// line. The values are taken from the same command's JSON, so the test knows nothing of the layout.</summary>
public sealed class NarrowOutputTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("egress-narrow-").FullName;
    private readonly FakeAwsCloud _cloud = new();

    public NarrowOutputTests()
    {
        File.WriteAllText(Path.Combine(_directory, "egress.yaml"), Examples.Text(Examples.ThreeRegion));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(int width, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, _directory, colors: false)
        {
            AwsPorts = _ => _cloud,
            Time = new InstantTimeProvider(),
            UserData = (topology, host) => $"#cloud-config\n# {topology.Stack} {host}\n",
            Width = width,
        };
        var code = await EgressCli.RunAsync(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Every line fits <paramref name="width"/> (or is one token longer than it), and each value appears whole.</summary>
    private static void AssertReadable(string text, int width, IEnumerable<string> values)
    {
        var lines = text.Split('\n');
        Assert.All(lines, l => Assert.True(l.Length <= width || !l.Trim().Contains(' ', StringComparison.Ordinal), $"{l.Length} > {width}: '{l}'\n{text}"));
        Assert.All(values.Where(v => v.Length > 0).Distinct(), v => Assert.True(lines.Any(l => l.Contains(v, StringComparison.Ordinal)), $"'{v}' is split or missing:\n{text}"));
    }

    /// <summary>The words of a free-text field that are values: an address, id or CIDR keeps its trailing punctuation off.</summary>
    private static IEnumerable<string> Words(string text) =>
        text.Split([' ', ';', ','], StringSplitOptions.RemoveEmptyEntries).Select(w => w.Trim('(', ')'));

    [Theory]
    [InlineData(80)]
    [InlineData(60)]
    public async Task Status_AtWidth_NoValueIsSplitAndNoLineIsWider(int width)
    {
        Assert.Equal(0, (await RunAsync(200, "apply", "--yes")).ExitCode);
        var json = await RunAsync(200, "status", "-o", "json");
        using var document = JsonDocument.Parse(json.Stdout);
        var rows = document.RootElement.GetProperty("resources").EnumerateArray().ToList();
        Assert.NotEmpty(rows);

        var (code, stdout, _) = await RunAsync(width, "status");

        Assert.Equal(0, code);
        AssertReadable(stdout, width, rows.SelectMany(r => new[] { r.GetProperty("resource").GetString()!, r.GetProperty("id").GetString()!, r.GetProperty("region").GetString()! }
            .Concat(Words(r.GetProperty("detail").GetString()!))));
    }

    [Fact]
    public async Task Status_Wide_IsStillATable()
    {
        Assert.Equal(0, (await RunAsync(200, "apply", "--yes")).ExitCode);

        var (_, stdout, _) = await RunAsync(250, "status");

        Assert.Contains("│", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(80)]
    [InlineData(50)]
    public async Task Plan_AtWidth_NoValueIsSplitAndNoLineIsWider(int width)
    {
        var json = await RunAsync(200, "plan", "-o", "json");
        using var document = JsonDocument.Parse(json.Stdout);
        var changes = document.RootElement.GetProperty("changes").EnumerateArray().ToList();

        var (code, stdout, _) = await RunAsync(width, "plan");

        Assert.Equal(0, code);
        AssertReadable(stdout, width, changes.SelectMany(c => Words(c.GetProperty("reason").GetString()!).Append(c.GetProperty("address").GetString()!)));
    }

    [Fact]
    public async Task ApplyAndDestroy_TheirPlansAt80Columns_NoValueIsSplit()
    {
        var apply = await RunAsync(80, "apply", "--yes");
        Assert.Equal(0, apply.ExitCode);
        var status = await RunAsync(200, "status", "-o", "json");
        using var document = JsonDocument.Parse(status.Stdout);
        var ids = document.RootElement.GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToList();

        var destroy = await RunAsync(80, "destroy", "--yes");

        Assert.Equal(0, destroy.ExitCode);
        AssertReadable(PlanOf(apply.Stderr), 80, []);
        AssertReadable(PlanOf(destroy.Stderr), 80, ids);
    }

    /// <summary>The plan in a verb's stderr: from its heading to its totals line.</summary>
    private static string PlanOf(string stderr)
    {
        var start = stderr.IndexOf("Egress will perform", StringComparison.Ordinal);
        Assert.True(start >= 0, stderr);
        var end = stderr.IndexOf("\nPlan:", start, StringComparison.Ordinal);
        Assert.True(end > start, stderr);
        return stderr[start..stderr.IndexOf('\n', end + 1)];
    }

    private static LabStatusReport LabReport() => new()
    {
        Id = "a1b2c3",
        Stack = "egress-three-region",
        Naive = false,
        Overlay = "wireguard, MTU 1420 (peering MTU 1500 less WireGuard's 80 bytes), keys rotated by the host script",
        Latency = "latency: ap-southeast-1 <-> ap-northeast-1 35 ms, ap-southeast-1 <-> ap-southeast-2 46 ms, ap-northeast-1 <-> ap-southeast-2 52 ms (netem on the peering links)",
        ServicesPid = 4242,
        Namespaces =
        [
            new("eg-a1b2c3-ap-southeast-1-vpc-router", "vpc-router", "ap-southeast-1", true, ["10.1.0.1/16", "169.254.169.254/32", "169.254.169.253/32"]),
            new("eg-a1b2c3-sg-client", "host", "ap-southeast-1", true, ["10.1.1.10/24", "fd00:ec2::254/128"]),
            new("eg-a1b2c3-tokyo-nat", "host", "ap-northeast-1", true, ["10.0.1.10/24", "100.64.10.1/30", "203.0.113.17/32"]),
            new("eg-a1b2c3-sydney-standby-nat", "host", "ap-southeast-2", false, []),
            new("eg-a1b2c3-internet", "internet", "lab", true, ["198.51.100.1/24", "203.0.113.1/24", "192.0.2.1/24"]),
        ],
        PublicAddresses = new Dictionary<string, string?> { ["tokyo-nat"] = "203.0.113.17", ["sydney-standby-nat"] = null },
        Tunnels = [new("sg-client", "egress-tokyo-nat-wireguard-tunnel", "wireguard", "up", 1420)],
        Checks = [new HostCheckResult("sydney-standby-nat", null, "the namespace eg-a1b2c3-sydney-standby-nat is missing: run 'egress lab up' again")],
        Counters = new LabCounters
        {
            IgwNatOut = new Dictionary<string, long> { ["tokyo-nat"] = 123456, ["sydney-standby-nat"] = 0, ["sg-client"] = 7 },
            IgwNatIn = new Dictionary<string, long> { ["tokyo-nat"] = 123400 },
            IgwDrops = new Dictionary<string, long> { ["ap-southeast-1"] = 0, ["ap-northeast-1"] = 3, ["ap-southeast-2"] = 0 },
            PeeringDrops = new Dictionary<string, long> { ["ap-southeast-1"] = 0, ["ap-northeast-1"] = 0, ["ap-southeast-2"] = 12 },
            PeeringFragNeededDrops = new Dictionary<string, long> { ["ap-southeast-1"] = 0, ["ap-northeast-1"] = 0, ["ap-southeast-2"] = 0 },
            GatewayForwardDrops = new Dictionary<string, long> { ["tokyo-nat"] = 0, ["sydney-standby-nat"] = 0 },
        },
        Failover = [new LabFailoverStatus("sg-client", 4343, "tokyo-nat", ["tokyo-nat up (last probe 0.2 s ago)", "sydney-standby-nat down (3 probes lost)"]) { Supervised = false }],
    };

    [Theory]
    [InlineData(80)]
    [InlineData(60)]
    public void LabStatus_AtWidth_NoValueIsSplitAndNoLineIsWider(int width)
    {
        var report = LabReport();
        using var stdout = new StringWriter();
        var context = new CliContext(stdout, TextWriter.Null, _directory, colors: false) { Width = width };

        Commands.LabStatusCommand.Print(context, report);

        var text = stdout.ToString();
        AssertReadable(text, width, report.Namespaces.SelectMany(n => n.Addresses.Append(n.Name).Append(n.Owner))
            .Concat(report.Tunnels.Select(t => t.Interface))
            .Concat(Words(report.Latency)).Concat(Words(report.Checks[0].Problem!)));
        Assert.Contains("missing", text, StringComparison.Ordinal);
    }
}
