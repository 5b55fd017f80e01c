using Egress.Aws.Execution;
using Egress.Aws.Model;
using Egress.Aws.Ports;
using Egress.Core.Topology;
using Egress.Processes;

namespace Egress.Aws.Remote;

/// <summary>How to reach hosts: the private key for SSH and where trust-on-first-use keys are remembered.</summary>
public sealed record RemoteAccess
{
    /// <summary>The private key whose public half was imported with --ssh-public-key; null = SSH not possible.</summary>
    public string? PrivateKeyFile { get; init; }

    public required string KnownHostsFile { get; init; }

    /// <summary>Use SSM even when SSH would work (default: SSM whenever the host has an instance profile).</summary>
    public bool PreferSsm { get; init; } = true;
}

/// <summary>A runner for one host and how it reaches it, said to the user.</summary>
public sealed record RemoteRunner(string Host, ICommandRunner Runner, string Description);

/// <summary>Picks the way to run commands on a host of the stack: SSM Run Command when the topology gives the host an
/// instance profile, else SSH to its public address with the host key pinned from the console output (or trusted on
/// first use when the console has no fingerprints, said so).</summary>
public static class RemoteRunners
{
    public static async Task<RemoteRunner> ForHostAsync(IAwsPorts ports, TopologyModel topology, string hostName, RemoteAccess access,
        TimeProvider time, RetryPolicy retry, Action<string>? announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(retry);
        var host = topology.GetHost(hostName);
        var region = topology.RegionOf(host).Name;
        var ec2 = ports.Ec2(region);
        var component = new ResourceAddress(region, ResourceKind.Instance, host.Name).Component;
        ObservedInstance? instance;
        try
        {
            var instances = await retry.RunAsync(ct => ec2.DescribeInstancesAsync(topology.Stack, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
            instance = instances.FirstOrDefault(i => StackNames.Owns(topology.Stack, i.Tags) && i.Component == component && i.State == InstanceStates.Running);
        }
        catch (AwsApiException ex)
        {
            throw AwsErrors.Map(ex);
        }

        if (instance is null)
        {
            throw new AwsProvisionException(AwsErrorKind.BadInput, "DescribeInstances", region,
                $"host '{host.Name}' has no running instance in stack {topology.Stack}", "run 'egress apply' first, then 'egress status' to see its state");
        }

        if (host.InstanceProfile is not null && instance.InstanceProfileArn is not null && (access.PreferSsm || access.PrivateKeyFile is null))
        {
            return new RemoteRunner(host.Name, new SsmCommandRunner(ports.Ssm(region), instance.Id, time, retry),
                $"{host.Name} ({instance.Id}) via SSM Run Command, instance profile {host.InstanceProfile}");
        }

        if (topology.Access.Ssh is null)
        {
            throw new AwsProvisionException(AwsErrorKind.BadInput, "RunCommand", region,
                $"cannot reach host '{host.Name}': SSH is closed (access.ssh: none) and the host has no instanceProfile for SSM",
                "set access.ssh to your address (e.g. 203.0.113.7/32) or give the host an instanceProfile (docs/aws.md), then 'egress apply'");
        }

        if (instance.PublicIp is null)
        {
            throw new AwsProvisionException(AwsErrorKind.BadInput, "RunCommand", region,
                $"host '{host.Name}' has no public address to SSH to (publicIp: none)", "give it an instanceProfile to use SSM instead (docs/aws.md)");
        }

        if (access.PrivateKeyFile is null || instance.KeyName is null)
        {
            throw new AwsProvisionException(AwsErrorKind.BadInput, "RunCommand", region,
                $"host '{host.Name}' was launched without a key pair or no private key was given",
                "apply with --ssh-public-key ~/.ssh/id_ed25519.pub (the host is replaced to take the key) and pass the private key");
        }

        string console;
        try
        {
            console = await retry.RunAsync(ct => ec2.GetConsoleOutputAsync(instance.Id, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
        }
        catch (AwsApiException ex)
        {
            throw AwsErrors.Map(ex);
        }

        var pinned = ConsoleHostKeys.Parse(console);
        IHostKeyPolicy policy = pinned.Count > 0 ? new PinnedHostKeys(pinned) : new TrustOnFirstUse(access.KnownHostsFile, announce);
        if (pinned.Count == 0)
        {
            announce?.Invoke($"{host.Name}: the console output of {instance.Id} has no SSH host key fingerprints yet; the key will be trusted on first use");
        }

        var target = new SshTarget(instance.PublicIp, SshTarget.UbuntuUser, access.PrivateKeyFile, policy);
        return new RemoteRunner(host.Name, new SshCommandRunner(target), $"{host.Name} ({instance.Id}) via SSH to {SshTarget.UbuntuUser}@{instance.PublicIp}, {policy.Description}");
    }
}
