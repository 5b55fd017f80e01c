using Egress.Lab;
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
        return new VerifyEnvironment("lab", lab.Topology, host => lab.RunnerFor(host), lab.PublicAddresses, lab.LatencyEmulated, lab.CheckCommand)
        {
            ZeroDelay = lab.LatencyEmulated ? ct => ZeroDelayAsync(lab, ct) : null,
            RoundChecks = async (_, ct) =>
            {
                var now = await LabStatusCollector.CountersAsync(lab, cancellationToken: ct);
                var checks = LabCounterChecks.Evaluate(lab.Topology, previous, now);
                previous = now;
                return [.. checks.Select(ToResult)];
            },
        };
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

    internal static CheckResult ToResult(LabCheck check) => new(
        "lab." + check.Name,
        check.Name == LabCounterChecks.NoClientEgressViaOwnIgw ? CheckArea.Egress : CheckArea.Path,
        check.Host,
        check.Ok ? CheckStatus.Pass : CheckStatus.Fail,
        check.Detail);
}
