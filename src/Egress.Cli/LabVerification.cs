using Egress.Aws.Remote;
using Egress.Processes;
using Egress.Host.Rendering;
using Egress.Lab;
using Egress.Lab.Vm;
using Egress.Verify;

namespace Egress.Cli;

/// <summary>A running lab as the verify suite's environment ("lab"): a runner per host namespace, the public
/// addresses, whether delays are emulated, each host's check command, and at the end of every round the lab's
/// counter checks (no client egress through its own IGW, no peering, IGW or security-group drops), judged with the round;
/// with delays emulated, the switch that turns them off for the suite's zero-delay baseline.</summary>
internal static class LabVerification
{
    public static async Task<VerifyEnvironment> EnvironmentAsync(RunningLab lab, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var previous = await LabStatusCollector.CountersAsync(lab, cancellationToken: cancellationToken);
        var vm = lab.Manifest.Instances == Egress.Lab.World.LabInstances.Vm;
        return new VerifyEnvironment("lab", lab.Topology, host => vm ? VmRunner(lab, host) : lab.RunnerFor(host), lab.PublicAddresses, lab.LatencyEmulated,
            host => vm ? VmCheckCommand : lab.CheckCommand(host))
        {
            ZeroDelay = !lab.LatencyEmulated ? null : vm ? ct => VmZeroDelayAsync(lab, ct) : ct => ZeroDelayAsync(lab, ct),
            DnsNames = [Egress.Lab.World.LabWorldPlan.GeoName],
            LatencyNotJudged = vm && lab.LatencyEmulated && VmLab.Accelerator(new VmFiles(lab.State)) != "kvm" ? SoftwareEmulationNote : null,
            RoundChecks = async (_, ct) =>
            {
                var now = await LabStatusCollector.CountersAsync(lab, cancellationToken: ct);
                var checks = LabCounterChecks.Evaluate(lab.Topology, previous, now);
                previous = now;
                return [.. checks.Select(ToResult)];
            },
        };
    }

    /// <summary>Measured here: a cold HTTPS request in a VM under software emulation spends 4-6 s in its own TLS
    /// handshake with no delay at all, against a 200-400 ms budget.</summary>
    public const string SoftwareEmulationNote = "the VMs run under software emulation (no KVM): a cold HTTPS request's own compute takes seconds there; " +
        "the round trips are emulated, as lab exec HOST -- ping shows";

    /// <summary>On an EC2 host as on a VM: the installed script's check, as root through sudo (the AWS path's command).</summary>
    public static CommandSpec VmCheckCommand { get; } = new("sudo", ["-n", "/bin/sh", HostScript.InstalledPath, "check"]) { Timeout = TimeSpan.FromMinutes(1) };

    /// <summary>The AWS path's SSH runner for a VM: to the host's public address as ubuntu, with the lab's key and the host
    /// key pinned from the VM's serial console (what GetConsoleOutput gives on AWS). Needs this process to run in the
    /// lab's internet namespace (`lab verify` re-runs itself there), as SSH to an EC2 host comes from the internet.</summary>
    public static ICommandRunner VmRunner(RunningLab lab, string host)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var files = new VmFiles(lab.State);
        var address = lab.PublicAddressOf(host)
            ?? throw new UsageException($"host '{host}' has no public address: the VM lab reaches its hosts over SSH from the lab's internet, as egress verify does on AWS (give it publicIp: auto).");
        var pinned = ConsoleHostKeys.Parse(VmLab.ReadConsole(files, host));
        IHostKeyPolicy policy = pinned.Count > 0
            ? new PinnedHostKeys(pinned)
            : throw new UsageException($"the console of {host} ({files.Console(host)}) has no SSH host key fingerprints: cloud-init has not finished its first boot.");
        return new SshCommandRunner(new SshTarget(address, SshTarget.UbuntuUser, files.PrivateKey, policy));
    }

    /// <summary>The lab's delays off until disposed: the suite's zero-delay baseline (the lab's own compute).</summary>
    private static async Task<IAsyncDisposable> ZeroDelayAsync(RunningLab lab, CancellationToken cancellationToken)
    {
        await LabController.Default.SetDelaysAsync(lab, on: false, cancellationToken);
        return new DelaysBack(lab);
    }

    private sealed class DelaysBack(RunningLab lab) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await LabController.Default.SetDelaysAsync(lab, on: true, CancellationToken.None);
    }

    /// <summary>The image's delay switch on a VM, over SSH as root (the delays are netem inside the VM: eng/vm/egress-lab-delay).</summary>
    public static CommandSpec VmDelayCommand(bool on) => new("sudo", ["-n", "/usr/local/sbin/egress-lab-delay", on ? "on" : "off"]) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A VM lab's delays off inside every VM until disposed.</summary>
    private static async Task<IAsyncDisposable> VmZeroDelayAsync(RunningLab lab, CancellationToken cancellationToken)
    {
        var hosts = lab.Topology.Hosts.Where(h => lab.PublicAddressOf(h.Name) is not null).Select(h => h.Name).ToList();
        await SwitchVmDelaysAsync(lab, hosts, on: false, cancellationToken);
        return new VmDelaysBack(lab, hosts);
    }

    private static async Task SwitchVmDelaysAsync(RunningLab lab, IReadOnlyList<string> hosts, bool on, CancellationToken cancellationToken)
    {
        foreach (var host in hosts)
        {
            var spec = VmDelayCommand(on);
            (await VmRunner(lab, host).RunAsync(spec, cancellationToken)).EnsureSuccess(spec);
        }
    }

    private sealed class VmDelaysBack(RunningLab lab, IReadOnlyList<string> hosts) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await SwitchVmDelaysAsync(lab, hosts, on: true, CancellationToken.None);
    }

    internal static CheckResult ToResult(LabCheck check) => new(
        "lab." + check.Name,
        check.Name == LabCounterChecks.NoClientEgressViaOwnIgw ? CheckArea.Egress : CheckArea.Path,
        check.Host,
        check.Ok ? CheckStatus.Pass : CheckStatus.Fail,
        check.Detail);
}
