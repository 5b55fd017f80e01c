using Egress.Terminal;
using System.Text.Json;
using Egress.Aws.Testing;
using Egress.Core.Topology;

namespace Egress.Cli.Tests;

/// <summary>plan, apply, destroy and status against the in-memory fake AWS.</summary>
public sealed class AwsCommandsTests : IDisposable
{
    private static readonly string[] SeedResources =
    [
        "ap-northeast-1:vpc/main",
        "ap-southeast-1:vpc/main",
        "ap-northeast-1:subnet/public-a",
        "ap-southeast-1:subnet/public-a",
        "ap-northeast-1:internet-gateway/main",
        "ap-southeast-1:internet-gateway/main",
        "ap-northeast-1:route-table/main",
        "ap-southeast-1:route-table/main",
        "ap-northeast-1:security-group/tokyo-nat",
        "ap-southeast-1:security-group/sg-client",
        "ap-southeast-1:peering/ap-northeast-1",
        "ap-northeast-1:route/0.0.0.0/0",
        "ap-northeast-1:route/10.0.0.0/16",
        "ap-southeast-1:route/0.0.0.0/0",
        "ap-southeast-1:route/10.1.0.0/16",
        "ap-northeast-1:instance/tokyo-nat",
        "ap-southeast-1:instance/sg-client",
        "ap-northeast-1:elastic-ip/tokyo-nat",
    ];

    /// <summary>Nine describes in each of the seed's two regions, one DescribeRegions, one DescribeTags in each other region.</summary>
    private static readonly int SeedPlanReads = 18 + 1 + Egress.Core.AwsRegions.All.Count - 2;

    private readonly string _directory = Directory.CreateTempSubdirectory("egress-aws-cli-").FullName;
    private readonly FakeAwsCloud _cloud = new();
    private bool _realUserData;

    public AwsCommandsTests()
    {
        File.WriteAllText(Path.Combine(_directory, "egress.yaml"), Examples.Text(Examples.Seed));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunWithInputAsync(string? stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, _directory, colors: false)
        {
            AwsPorts = _ => _cloud,
            Time = new InstantTimeProvider(),
            Input = stdin is null ? null : new StringReader(stdin),
        };
        if (!_realUserData)
        {
            context.UserData = (topology, host) => $"#cloud-config\n# {topology.Stack} {host}\n";
        }

        var code = await EgressCli.RunAsync(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    /// <summary>Only the stack lock was taken and released: no EC2 change, no lock left behind.</summary>
    private void AssertOnlyTheLockWasTouched()
    {
        Assert.Equal(["PutParameter", "DeleteParameter"], _cloud.Calls.Keys.Where(k => !k.StartsWith("Describe", StringComparison.Ordinal) && !k.StartsWith("Get", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Reverse());
        Assert.DoesNotContain(_cloud.Parameters.Keys, k => k.Name.StartsWith("/egress/lock/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Plan_SeedOnEmptyAws_ListsExactlyTheSeedResources()
    {
        var (code, stdout, stderr) = await RunAsync("plan");

        Assert.Equal(0, code);
        var created = stdout.Split('\n').Where(l => l.StartsWith("    + ", StringComparison.Ordinal))
            .Select(l => l[6..l.IndexOf("  (", StringComparison.Ordinal)]).ToList();
        Assert.Equal(SeedResources, created);
        Assert.Contains("Plan: 18 to add, 0 to change, 0 to destroy.", stdout, StringComparison.Ordinal);
        // At 80 columns the summary breaks between words onto an indented line (CliText): read it as one line.
        var unwrapped = System.Text.RegularExpressions.Regex.Replace(stdout, @"\n +", " ");
        Assert.Contains("t3.micro, Ubuntu 22.04 amd64 (SSM), 10.1.1.10, source/dest check off, IMDSv2, encrypted gp3 root", unwrapped, StringComparison.Ordinal);
        Assert.Contains($"AWS calls: {SeedPlanReads} read calls, 0 mutating calls.", stderr, StringComparison.Ordinal);
        Assert.Equal(0, _cloud.MutatingCalls);
    }

    [Fact]
    public async Task Apply_ThenPlan_EmptyPlanWithOnlyReads()
    {
        var apply = await RunAsync("apply", "--yes");
        _cloud.ResetCounters();

        var plan = await RunAsync("plan");

        Assert.Equal(0, apply.ExitCode);
        Assert.Contains("Apply complete: 18 added, 0 changed, 0 destroyed.", apply.Stderr, StringComparison.Ordinal);
        Assert.Contains("created   ap-northeast-1:elastic-ip/tokyo-nat eipalloc-", apply.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, plan.ExitCode);
        Assert.Contains("No changes. AWS matches the topology for stack egress-seed.", plan.Stdout, StringComparison.Ordinal);
        Assert.Contains("Plan: 0 to add, 0 to change, 0 to destroy.", plan.Stdout, StringComparison.Ordinal);
        Assert.Contains($"AWS calls: {SeedPlanReads} read calls, 0 mutating calls.", plan.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, _cloud.MutatingCalls);
    }

    [Fact]
    public async Task Apply_WithTheHostRenderersCloudInit_ConvergesAndStaysConverged()
    {
        _realUserData = true;

        var apply = await RunAsync("apply", "--yes");
        _cloud.ResetCounters();
        var plan = await RunAsync("plan");

        Assert.Equal(0, apply.ExitCode);
        Assert.Contains("No changes.", plan.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, _cloud.MutatingCalls);
        var gateway = _cloud.LiveResources().Single(r => r.Tags.GetValueOrDefault("egress:component") == "instance/tokyo-nat");
        var userData = _cloud.InstanceRecord(gateway.Id)!.UserData;
        Assert.StartsWith("#cloud-config", userData, StringComparison.Ordinal);
        Assert.Contains("egress-host", userData, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_FailoverExample_StandbyGetsItsOwnElasticIpAndTheClientItsWatcher()
    {
        _realUserData = true;
        File.WriteAllText(Path.Combine(_directory, "egress.yaml"), Examples.Text(Examples.Failover));

        var apply = await RunAsync("apply", "--yes");

        Assert.True(apply.ExitCode == 0, apply.Stderr);
        var live = _cloud.LiveResources().ToList();
        string Component(string name) => live.Single(r => r.Tags.GetValueOrDefault("egress:component") == name).Id;
        Assert.NotEqual(Component("elastic-ip/tokyo-nat"), Component("elastic-ip/tokyo-nat-c"));
        var client = _cloud.InstanceRecord(Component("instance/sg-client"))!.UserData;
        Assert.Contains("egress-host-watch.service", client, StringComparison.Ordinal);
        Assert.True(Core.UserDataWire.Encode(client).Length < 16384);
        var standby = _cloud.InstanceRecord(Component("instance/tokyo-nat-c"))!.UserData;
        Assert.DoesNotContain("egress-host-watch", standby, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_OverlayAuto_RendersIpipForAws()
    {
        _realUserData = true;
        var yaml = Examples.Text(Examples.Seed).Replace("mode: ipip ", "mode: auto ", StringComparison.Ordinal);
        Assert.Contains("mode: auto", yaml, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_directory, "egress.yaml"), yaml);

        var (code, stdout, stderr) = await RunAsync("plan");

        Assert.True(code == 0, stderr);
        Assert.Contains("Plan: 18 to add", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_Json_IsDataOnStdout()
    {
        var (code, stdout, _) = await RunAsync("plan", "-o", "json");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(18, json.RootElement.GetProperty("toAdd").GetInt32());
        var vpc = json.RootElement.GetProperty("changes")[0];
        Assert.Equal("create", vpc.GetProperty("action").GetString());
        Assert.Equal("ap-northeast-1:vpc/main", vpc.GetProperty("address").GetString());
        Assert.Equal(JsonValueKind.Null, vpc.GetProperty("before").ValueKind);
        Assert.Equal("10.1.0.0/16", vpc.GetProperty("after").GetProperty("cidr").GetString());
        Assert.True(vpc.GetProperty("after").GetProperty("dnsHostnames").GetBoolean());
        Assert.Equal(["CreateVpc", "ModifyVpcAttribute", "ModifyVpcAttribute"],
            vpc.GetProperty("operations").EnumerateArray().Select(o => o.GetProperty("action").GetString()));
        var subnet = json.RootElement.GetProperty("changes").EnumerateArray().Single(c => c.GetProperty("address").GetString() == "ap-northeast-1:subnet/public-a");
        Assert.Equal("ap-northeast-1:vpc/main (known after apply)", subnet.GetProperty("after").GetProperty("vpc").GetString());
    }

    [Fact]
    public async Task Plan_JsonAfterDrift_GivesBeforeAndAfterValues()
    {
        await RunAsync("apply", "--yes");
        var gateway = (await _cloud.Ec2("ap-northeast-1").DescribeInstancesAsync("egress-seed", CancellationToken.None)).Single();
        await _cloud.Ec2("ap-northeast-1").SetSourceDestCheckAsync(gateway.Id, true, CancellationToken.None);

        var (code, stdout, _) = await RunAsync("plan", "-o", "json");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        var change = Assert.Single(json.RootElement.GetProperty("changes").EnumerateArray());
        Assert.Equal("update", change.GetProperty("action").GetString());
        Assert.Equal("ap-northeast-1:instance/tokyo-nat", change.GetProperty("address").GetString());
        Assert.True(change.GetProperty("before").GetProperty("sourceDestCheck").GetBoolean());
        Assert.False(change.GetProperty("after").GetProperty("sourceDestCheck").GetBoolean());
        Assert.Equal(gateway.Id, change.GetProperty("before").GetProperty("id").GetString());
        Assert.Equal(["DescribeInstances", "ModifyInstanceAttribute"], change.GetProperty("operations").EnumerateArray().Select(o => o.GetProperty("action").GetString()));
        Assert.DoesNotContain("source/dest check", stdout, StringComparison.Ordinal); // values, not sentences
    }

    [Fact]
    public async Task Destroy_WithoutTerminal_RefusesWithExitTwoAndChangesNothing()
    {
        await RunAsync("apply", "--yes");
        _cloud.ResetCounters();

        var (code, _, stderr) = await RunAsync("destroy");

        Assert.Equal(2, code);
        Assert.Contains("Pass --yes to destroy without asking.", stderr, StringComparison.Ordinal);
        AssertOnlyTheLockWasTouched();
    }

    [Fact]
    public async Task Destroy_AnsweredNo_ChangesNothing()
    {
        await RunAsync("apply", "--yes");
        _cloud.ResetCounters();

        var (code, _, stderr) = await RunWithInputAsync("no\n", "destroy");

        Assert.Equal(130, code);
        Assert.Contains("Destroy cancelled; nothing was changed.", stderr, StringComparison.Ordinal);
        AssertOnlyTheLockWasTouched();
    }

    [Fact]
    public async Task Destroy_Confirmed_LeavesNothingTagged()
    {
        await RunAsync("apply", "--yes");

        var (code, _, stderr) = await RunWithInputAsync("yes\n", "destroy");
        var again = await RunAsync("destroy", "--yes");

        Assert.Equal(0, code);
        Assert.Contains($"Destroy complete: 18 destroyed. Nothing tagged egress:stack=egress-seed remains in any of the {Egress.Core.AwsRegions.All.Count} regions searched (the enabled regions from DescribeRegions).", stderr, StringComparison.Ordinal);
        Assert.Empty(_cloud.LiveResources());
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("nothing to destroy", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_AfterApply_ListsResourcesByRegionWithHourlyCost()
    {
        await RunAsync("apply", "--yes");

        var (code, stdout, stderr) = await RunAsync("status", "-o", "json");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        var rows = json.RootElement.GetProperty("resources").EnumerateArray().ToList();
        Assert.Equal(18 - 4, rows.Count); // routes are shown inside their route table
        var gateway = rows.Single(r => r.GetProperty("resource").GetString() == "instance/tokyo-nat");
        Assert.Equal("ap-northeast-1", gateway.GetProperty("region").GetString());
        Assert.Equal("running", gateway.GetProperty("state").GetString());
        var lines = json.RootElement.GetProperty("costLines").EnumerateArray().Select(l => l.GetProperty("description").GetString()).ToList();
        Assert.Equal(4, lines.Count); // two instances, the client's public IP, the gateway's Elastic IP
        var total = json.RootElement.GetProperty("costUsdPerHour").GetDecimal();
        var prices = Egress.Core.Cost.PriceTable.BuiltIn;
        var expected = prices.Find(Egress.Core.Cost.PriceItem.Ec2Instance, "ap-southeast-1", "t3.small")!.Usd
            + prices.Find(Egress.Core.Cost.PriceItem.Ec2Instance, "ap-northeast-1", "t3.micro")!.Usd
            + prices.Find(Egress.Core.Cost.PriceItem.PublicIpv4, "ap-southeast-1")!.Usd
            + prices.Find(Egress.Core.Cost.PriceItem.PublicIpv4, "ap-northeast-1")!.Usd;
        Assert.Equal(expected, total);
        Assert.Contains("Cost while running: $", stderr, StringComparison.Ordinal);
    }

    private void UseInstanceProfiles()
    {
        var yaml = Examples.Text(Examples.Seed).Replace("        architecture: amd64\n", "        architecture: amd64\n        instanceProfile: egress-ssm\n", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_directory, "egress.yaml"), yaml);
    }

    private static string CheckJson(string host, bool ok) =>
        $$"""{"host":"{{host}}","ok":{{(ok ? "true" : "false")}},"invariants":[{"name":"tunnel-up","ok":true,"detail":"tun0 up"},{"name":"egress-nat","ok":{{(ok ? "true" : "false")}},"detail":"masquerade rule present"}],"warnings":[]}""";

    [Fact]
    public async Task StatusCheck_HostsWithInstanceProfile_RunTheirCheckThroughSsm()
    {
        UseInstanceProfiles();
        await RunAsync("apply", "--yes");
        var scripts = new List<string>();
        _cloud.SsmHandler = (instance, script) =>
        {
            scripts.Add(string.Join("\n", script));
            return (0, CheckJson(instance, ok: true), string.Empty);
        };

        var (code, stdout, stderr) = await RunAsync("status", "--check", "-o", "json");

        Assert.True(code == 0, stderr);
        Assert.Equal(["sudo -n /bin/sh /usr/local/sbin/egress-host check", "sudo -n /bin/sh /usr/local/sbin/egress-host check"], scripts);
        Assert.Contains("check sg-client: ok via sg-client (i-", stderr, StringComparison.Ordinal);
        Assert.Contains("via SSM Run Command, instance profile egress-ssm", stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(stdout);
        Assert.All(json.RootElement.GetProperty("checks").EnumerateArray(), c => Assert.True(c.GetProperty("ok").GetBoolean()));
    }

    [Fact]
    public async Task StatusCheck_AFailingInvariant_ExitsOneAndNamesIt()
    {
        UseInstanceProfiles();
        await RunAsync("apply", "--yes");
        _cloud.SsmHandler = (instance, _) => (1, CheckJson(instance, ok: false), string.Empty);

        var (code, _, stderr) = await RunAsync("status", "--check");

        Assert.Equal(1, code);
        Assert.Contains("check tokyo-nat: FAILED (exit 1)", stderr, StringComparison.Ordinal);
        Assert.Contains("  egress-nat: masquerade rule present", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusCheck_Client_ShowsItsActiveGatewayOrWhyItHasNone()
    {
        UseInstanceProfiles();
        await RunAsync("apply", "--yes");
        var active = """{"name":"failover.active-gateway","ok":true,"detail":"tokyo-nat-c (eg2)"}""";
        _cloud.SsmHandler = (instance, _) => (0, CheckJson(instance, ok: true).Replace("\"invariants\":[", $"\"invariants\":[{active},", StringComparison.Ordinal), string.Empty);

        var (code, stdout, stderr) = await RunAsync("status", "--check", "-o", "json");

        Assert.True(code == 0, stderr);
        Assert.Contains("; egress via tokyo-nat-c", stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(stdout);
        Assert.All(json.RootElement.GetProperty("checks").EnumerateArray(), c => Assert.Equal("via tokyo-nat-c", c.GetProperty("egress").GetString()));

        var none = """{"name":"failover.active-gateway","ok":false,"detail":"no gateway alive: egress refused (fail-closed)"}""";
        _cloud.SsmHandler = (instance, _) => (1, CheckJson(instance, ok: false).Replace("\"invariants\":[", $"\"invariants\":[{none},", StringComparison.Ordinal), string.Empty);

        (code, _, stderr) = await RunAsync("status", "--check");

        Assert.Equal(1, code);
        Assert.Contains("FAILED (exit 1) via sg-client", stderr, StringComparison.Ordinal);
        Assert.Contains("; egress no gateway alive: egress refused (fail-closed)", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusCheck_NoSshNoProfile_SaysHowToReachTheHosts()
    {
        await RunAsync("apply", "--yes");

        var (code, _, stderr) = await RunAsync("status", "--check");

        Assert.Equal(1, code);
        Assert.Contains("check tokyo-nat: NOT RUN: the host cannot be reached", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("exit -1", stderr, StringComparison.Ordinal);
        Assert.Contains("SSH is closed (access.ssh: none)", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_NoCredentials_ExitsOneWithTheFix()
    {
        _cloud.Options.NoCredentials = true;

        var (code, _, stderr) = await RunAsync("plan");

        Assert.Equal(1, code);
        Assert.Contains("error: DescribeRegions in ap-southeast-1 failed: no AWS credentials were found.", stderr, StringComparison.Ordinal);
        Assert.Contains("fix: configure credentials", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_BadEndpointUrl_ExitsTwo()
    {
        var (code, _, stderr) = await RunAsync("plan", "--endpoint-url", "not a url");

        Assert.Equal(2, code);
        Assert.Contains("--endpoint-url 'not a url' is not an http(s) URL", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_PrivateKeyPassedAsPublicKey_ExitsTwo()
    {
        File.WriteAllText(Path.Combine(_directory, "id"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");

        var (code, _, stderr) = await RunAsync("plan", "--ssh-public-key", "id");

        Assert.Equal(2, code);
        Assert.Contains("not an OpenSSH public key", stderr, StringComparison.Ordinal);
    }

    private const string PublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOPh0aK7aTEZVdwWgOq2pXx5bm8GZlUHpAhdW7nHlVwq egress-test";

    private void UseThreeRegionAsSeed() =>
        File.WriteAllText(Path.Combine(_directory, "egress.yaml"),
            Examples.Text(Examples.ThreeRegion).Replace("stack: egress-three-region", "stack: egress-seed", StringComparison.Ordinal));

    private void UseSeed() => File.WriteAllText(Path.Combine(_directory, "egress.yaml"), Examples.Text(Examples.Seed));

    [Fact]
    public async Task Apply_WithoutTerminalOrYes_ShowsThePlanAndExitsTwoSayingPassYes()
    {
        var (code, _, stderr) = await RunAsync("apply");

        Assert.Equal(2, code);
        Assert.Contains("Plan: 18 to add, 0 to change, 0 to destroy.", stderr, StringComparison.Ordinal);
        Assert.Contains("apply asks for confirmation and stdin is not a terminal; nothing was changed. Pass --yes to apply without asking.", stderr, StringComparison.Ordinal);
        Assert.Empty(_cloud.LiveResources());
        AssertOnlyTheLockWasTouched();
    }

    [Fact]
    public async Task Apply_OnATerminal_AsksAndAppliesOnlyOnYes()
    {
        var no = await RunWithInputAsync("no\n", "apply");
        var yes = await RunWithInputAsync("yes\n", "apply");

        Assert.Equal(130, no.ExitCode);
        Assert.Contains("Apply these changes to stack egress-seed (18 to add, 0 to change, 0 to destroy)? Type 'yes' to confirm:", no.Stderr, StringComparison.Ordinal);
        Assert.Contains("Apply cancelled; nothing was changed.", no.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, yes.ExitCode);
        Assert.Contains("Apply complete: 18 added", yes.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_TwoAtOnce_OneBuildsTheStackTheOtherIsRefusedWithTheHolderNamed()
    {
        _cloud.HoldTheFirstLaunchUntilASecondLockAttempt();

        var runs = await Task.WhenAll(Task.Run(() => RunAsync("apply", "--yes")), Task.Run(() => RunAsync("apply", "--yes")));

        Assert.Equal([0, 1], runs.Select(r => r.ExitCode).Order());
        var refused = runs.Single(r => r.ExitCode == 1).Stderr;
        Assert.Contains("stack egress-seed is locked by 'egress apply' run by", refused, StringComparison.Ordinal);
        Assert.Contains("wait until that run ends", refused, StringComparison.Ordinal);
        Assert.Equal(14, _cloud.LiveResources().Count); // one stack: 18 resources, 4 of them routes inside the route tables
        Assert.Equal(0, (await RunAsync("plan")).ExitCode);
    }

    [Fact]
    public async Task DestroyAndStatus_WithTheSeedAfterAThreeRegionApply_FindSydneyToo()
    {
        UseThreeRegionAsSeed();
        Assert.Equal(0, (await RunAsync("apply", "--yes")).ExitCode);
        UseSeed();

        var status = await RunAsync("status", "-o", "json");
        var destroy = await RunAsync("destroy", "--yes");

        Assert.Equal(0, status.ExitCode);
        using (var json = JsonDocument.Parse(status.Stdout))
        {
            Assert.Contains(json.RootElement.GetProperty("resources").EnumerateArray(), r => r.GetProperty("resource").GetString() == "instance/syd-client");
            Assert.Contains(json.RootElement.GetProperty("costLines").EnumerateArray(), l => l.GetProperty("region").GetString() == "ap-southeast-2");
        }

        Assert.Contains("the stack also has resources in ap-southeast-2, which the topology does not name", status.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, destroy.ExitCode);
        Assert.Contains("ap-southeast-2:instance/syd-client", destroy.Stderr, StringComparison.Ordinal);
        Assert.Contains("Nothing tagged egress:stack=egress-seed remains in any of", destroy.Stderr, StringComparison.Ordinal);
        Assert.Empty(_cloud.LiveResources());
    }

    [Fact]
    public async Task Plan_WithoutPublicKeyAfterApplyWithOne_NoChanges()
    {
        File.WriteAllText(Path.Combine(_directory, "id.pub"), PublicKey + "\n");
        Assert.Equal(0, (await RunAsync("apply", "--yes", "--ssh-public-key", "id.pub")).ExitCode);

        var (code, stdout, _) = await RunAsync("plan");

        Assert.Equal(0, code);
        Assert.Contains("Plan: 0 to add, 0 to change, 0 to destroy.", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_EndpointWithNothingListening_FailsAtOnceNamingIt()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        } // closed again: nothing listens there now

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, _directory, colors: false)
        {
            AwsPorts = c => new Egress.Aws.Sdk.SdkAwsPorts(c with { Credentials = new Amazon.Runtime.BasicAWSCredentials("test", "test") }),
        };

        var code = await EgressCli.RunAsync(["plan", "--endpoint-url", $"http://127.0.0.1:{port}"], context);

        Assert.Equal(1, code);
        Assert.Contains($"error: DescribeRegions in ap-southeast-1 failed: cannot connect to http://127.0.0.1:{port}/", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("AWS calls: 1 read call, 0 mutating calls.", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("fix: check --endpoint-url", stderr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("retry", stderr.ToString(), StringComparison.Ordinal);
    }
}
