using System.Text.Json;
using Egress.Aws.Testing;
using Egress.Core.Topology;

namespace Egress.Cli.Tests;

/// <summary>egress verify against the in-memory fake AWS: the stack is applied, then every probe runs on the hosts
/// through SSM Run Command, answered with recorded curl/mtr/ping outputs.</summary>
public sealed class VerifyCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("egress-verify-cli-").FullName;
    private readonly FakeAwsCloud _cloud = new();
    private readonly List<string> _scripts = [];

    public VerifyCommandTests()
    {
        var yaml = Examples.Text(Examples.Seed).Replace("        architecture: amd64\n", "        architecture: amd64\n        instanceProfile: egress-ssm\n", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_directory, "egress.yaml"), yaml);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, _directory, colors: false)
        {
            AwsPorts = _ => _cloud,
            Time = new InstantTimeProvider(),
            UserData = (topology, host) => $"#cloud-config\n# {topology.Stack} {host}\n",
        };
        var code = await EgressCli.RunAsync(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "VerifySamples", name));

    private async Task<string> GatewayElasticIpAsync() =>
        (await _cloud.Ec2("ap-northeast-1").DescribeAddressesAsync("egress-seed", CancellationToken.None)).Single().PublicIp;

    /// <summary>Answers like healthy seed hosts, with the IP echo saying <paramref name="egressIp"/>.</summary>
    private void HealthyHosts(string egressIp)
    {
        var echo = Sample("ipinfo-tokyo.txt").Replace("203.0.113.10", egressIp, StringComparison.Ordinal);
        _cloud.SsmHandler = (_, lines) =>
        {
            var script = string.Join("\n", lines);
            _scripts.Add(script);
            return script switch
            {
                _ when script.Contains("egress-host check", StringComparison.Ordinal) => (0, Sample("check-ok.json"), ""),
                _ when script.StartsWith("ping ", StringComparison.Ordinal) => (0, Sample("ping-ok.txt"), ""),
                _ when script.Contains("getent ahostsv4", StringComparison.Ordinal) => (0, "- 1000\napi.binance.com 3500 1300 192.0.2.10\n", ""), // the DNS probe, on both hosts
                _ when script.StartsWith("mtr ", StringComparison.Ordinal) => (0, Sample("mtr-ok.json"), ""),
                _ when script.Contains("https://ipinfo.io/json", StringComparison.Ordinal) => (0, echo, ""),
                _ when script.Split("https://api.binance.com/").Length == 2 => (0, Sample("curl-cold-ok.txt"), ""),
                _ when script.Contains("https://api.binance.com/", StringComparison.Ordinal) => (0, Sample("curl-keepalive-ok.txt"), ""),
                _ => (127, "", $"not scripted: {script}"),
            };
        };
    }

    [Fact]
    public async Task Verify_HealthyStack_PassesWithTheBudgetJudged()
    {
        Assert.Equal(0, (await RunAsync("apply", "--yes")).ExitCode);
        var eip = await GatewayElasticIpAsync();
        HealthyHosts(eip);

        var (code, stdout, stderr) = await RunAsync("verify", "--rounds", "2", "--cold", "2", "--keepalive", "10", "-o", "json");

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("aws", root.GetProperty("environment").GetString());
        Assert.True(root.GetProperty("coldLatencyBudget").GetProperty("judged").GetBoolean());
        Assert.Equal(eip, root.GetProperty("egress")[0].GetProperty("expected").GetProperty("ip").GetString());
        Assert.Equal(2, root.GetProperty("reliability").GetProperty("passedRounds").GetInt32());
        Assert.Contains("sg-client: sg-client (i-", stderr, StringComparison.Ordinal);
        Assert.Contains("via SSM Run Command", stderr, StringComparison.Ordinal);
        Assert.Contains("sudo -n /bin/sh /usr/local/sbin/egress-host check", _scripts);
        Assert.Contains(_scripts, s => s.StartsWith("curl --silent --show-error --max-time 10 --write-out '%{json}\\n' --fail-early", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_EgressFromTheWrongAddress_Exit1NamingTheCheck()
    {
        Assert.Equal(0, (await RunAsync("apply", "--yes")).ExitCode);
        HealthyHosts("198.51.100.77");

        var (code, _, stderr) = await RunAsync("verify", "--rounds", "1", "--cold", "1", "--keepalive", "2");

        Assert.Equal(1, code);
        Assert.Contains("verify failed: egress.ip (sg-client)", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_HostsUnreachable_Exit2WithTheFix()
    {
        File.WriteAllText(Path.Combine(_directory, "egress.yaml"), Examples.Text(Examples.Seed)); // no instance profile, access.ssh: none
        Assert.Equal(0, (await RunAsync("apply", "--yes")).ExitCode);

        var (code, _, stderr) = await RunAsync("verify");

        Assert.Equal(2, code);
        Assert.Contains("SSH is closed (access.ssh: none)", stderr, StringComparison.Ordinal);
        Assert.Contains("fix: set access.ssh to your address", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_BadRounds_Exit2BeforeAnyAwsCall()
    {
        var (code, _, stderr) = await RunAsync("verify", "--rounds", "0");

        Assert.Equal(2, code);
        Assert.Contains("rounds must be at least 1", stderr, StringComparison.Ordinal);
        Assert.Equal(0, _cloud.ReadCalls);
    }
}
