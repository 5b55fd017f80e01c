using Egress.Aws.Execution;
using Egress.Aws.Model;
using Egress.Aws.Remote;
using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Processes;

namespace Egress.Aws.Tests;

public sealed class RemoteRunnerTests : IDisposable
{
    private const string Console = """
        [   12.3] cloud-init[612]: Cloud-init v. 23.4 running 'modules:final'
        ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----
        ec2: 256 SHA256:ohD8VZEXGWo6Ez8GSEJQ9WpafgLFsOfLOtGGQCQo6Og root@ip-10-1-1-10 (ECDSA)
        ec2: 256 SHA256:Q7nGkQmZ3wq2Yv1m2cS0XqA8Zr6i0Jm4KpV1nTq3bE8 root@ip-10-1-1-10 (ED25519)
        ec2: -----END SSH HOST KEY FINGERPRINTS-----
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("egress-remote-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static TopologyModel WithProfile(TopologyModel topology, string? profile) =>
        topology with { Regions = [.. topology.Regions.Select(r => r with { Hosts = [.. r.Hosts.Select(h => h with { InstanceProfile = profile })] })] };

    [Fact]
    public void ShellScript_QuotesWordsAndPipesStdinAsBase64()
    {
        var script = ShellScript.Of(new CommandSpec("sh", ["-c", "echo 'it''s' $HOME"]) { StandardInput = "a\nb", Environment = new Dictionary<string, string> { ["X"] = "1 2" } });

        Assert.Equal("printf '%s' YQpi | base64 -d | env 'X=1 2' sh -c 'echo '\\''it'\\'''\\''s'\\'' $HOME'", script);
    }

    [Fact]
    public void ConsoleHostKeys_ReadsCloudInitFingerprints()
    {
        var keys = ConsoleHostKeys.Parse(Console);

        Assert.Equal([new HostKeyFingerprint("ECDSA", "ohD8VZEXGWo6Ez8GSEJQ9WpafgLFsOfLOtGGQCQo6Og"), new HostKeyFingerprint("ED25519", "Q7nGkQmZ3wq2Yv1m2cS0XqA8Zr6i0Jm4KpV1nTq3bE8")], keys);
        Assert.Empty(ConsoleHostKeys.Parse("booting...\n"));
    }

    [Fact]
    public void ConsoleHostKeys_ReadsTheLastKeysBlockForKnownHosts()
    {
        const string console = """
            ec2: -----BEGIN SSH HOST KEY KEYS-----
            ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= root@old
            ec2: -----END SSH HOST KEY KEYS-----
            [  301.2] reboot: Restarting system
            [    8.1] cloud-init[601]: Cloud-init v. 22.4.2 running 'modules:final'
            ec2: -----BEGIN SSH HOST KEY KEYS-----
            ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTZ= root@ip-10-1-1-10
            ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx root@ip-10-1-1-10
            ec2: -----END SSH HOST KEY KEYS-----
            """;

        Assert.Equal(["ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTZ=", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx"], ConsoleHostKeys.ParseKeys(console));
        Assert.Empty(ConsoleHostKeys.ParseKeys(Console));
        Assert.Empty(ConsoleHostKeys.ParseKeys("ec2: -----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 AAAAC3 cut off by a reboot"));
    }

    [Fact]
    public void PinnedHostKeys_AcceptsOnlyPrintedKeys()
    {
        var policy = new PinnedHostKeys(ConsoleHostKeys.Parse(Console));

        Assert.True(policy.Accept("198.51.100.10", "ssh-ed25519", "Q7nGkQmZ3wq2Yv1m2cS0XqA8Zr6i0Jm4KpV1nTq3bE8"));
        Assert.False(policy.Accept("198.51.100.10", "ssh-ed25519", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    }

    [Fact]
    public void TrustOnFirstUse_RemembersTheFirstKeyAndRefusesAnother()
    {
        var announced = new List<string>();
        var file = Path.Combine(_directory, "known_hosts");
        var policy = new TrustOnFirstUse(file, announced.Add);

        var first = policy.Accept("203.0.113.10", "ssh-ed25519", "key1");
        var same = new TrustOnFirstUse(file).Accept("203.0.113.10", "ssh-ed25519", "key1");
        var changed = new TrustOnFirstUse(file).Accept("203.0.113.10", "ssh-ed25519", "key2");

        Assert.True(first);
        Assert.True(same);
        Assert.False(changed);
        Assert.Contains("on first use (not verified)", Assert.Single(announced), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForHost_WithInstanceProfile_RunsThroughSsm()
    {
        var h = new Harness(WithProfile(TestTopologies.Seed, "egress-ssm"));
        await h.ApplyAsync();
        IReadOnlyList<string>? sent = null;
        h.Cloud.SsmHandler = (_, script) =>
        {
            sent = script;
            return (3, "checked\n", "one invariant failed\n");
        };

        var remote = await RemoteRunners.ForHostAsync(h.Cloud, h.Topology, "tokyo-nat", new RemoteAccess { KnownHostsFile = Path.Combine(_directory, "kh") },
            h.Clock, new RetryPolicy(h.Clock), null, CancellationToken.None);
        var result = await remote.Runner.RunAsync(CommandSpec.Of("egress-host", "check"));

        Assert.Contains("via SSM Run Command, instance profile egress-ssm", remote.Description, StringComparison.Ordinal);
        Assert.Equal(["egress-host check"], sent);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("checked\n", result.StandardOutput);
        Assert.Equal("one invariant failed\n", result.StandardError);
    }

    [Fact]
    public async Task ForHost_SshWithConsoleFingerprints_PinsThem()
    {
        var topology = TestTopologies.Seed with { Access = new Access { Ssh = Ipv4Cidr.Parse("203.0.113.7/32") } };
        var h = new Harness(topology, new ProvisionOptions { SshPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITEST me" });
        await h.ApplyAsync();
        var gateway = (await h.DiscoverAsync()).Region("ap-northeast-1").Instances[0];
        h.Cloud.SetConsoleOutput(gateway.Id, Console);

        var remote = await RemoteRunners.ForHostAsync(h.Cloud, h.Topology, "tokyo-nat",
            new RemoteAccess { PrivateKeyFile = "/home/me/.ssh/id_ed25519", KnownHostsFile = Path.Combine(_directory, "kh") },
            h.Clock, new RetryPolicy(h.Clock), null, CancellationToken.None);

        Assert.IsType<SshCommandRunner>(remote.Runner);
        Assert.Equal($"tokyo-nat ({gateway.Id}) via SSH to ubuntu@{gateway.PublicIp}, host key pinned from the instance console output (2 fingerprints)", remote.Description);
    }

    [Fact]
    public async Task ForHost_SshWithoutFingerprints_SaysItTrustsOnFirstUse()
    {
        var topology = TestTopologies.Seed with { Access = new Access { Ssh = Ipv4Cidr.Parse("203.0.113.7/32") } };
        var h = new Harness(topology, new ProvisionOptions { SshPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITEST me" });
        await h.ApplyAsync();
        var announced = new List<string>();

        var remote = await RemoteRunners.ForHostAsync(h.Cloud, h.Topology, "sg-client",
            new RemoteAccess { PrivateKeyFile = "/k", KnownHostsFile = Path.Combine(_directory, "kh") },
            h.Clock, new RetryPolicy(h.Clock), announced.Add, CancellationToken.None);

        Assert.Contains("trusted on first use", remote.Description, StringComparison.Ordinal);
        Assert.Contains(announced, a => a.Contains("will be trusted on first use", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForHost_NoSshAndNoProfile_SaysHowToReachIt()
    {
        var h = new Harness();
        await h.ApplyAsync();

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(() => RemoteRunners.ForHostAsync(h.Cloud, h.Topology, "tokyo-nat",
            new RemoteAccess { KnownHostsFile = "kh" }, h.Clock, new RetryPolicy(h.Clock), null, CancellationToken.None));

        Assert.Contains("access.ssh: none", ex.Problem, StringComparison.Ordinal);
        Assert.Contains("instanceProfile", ex.Fix, StringComparison.Ordinal);
    }
}
