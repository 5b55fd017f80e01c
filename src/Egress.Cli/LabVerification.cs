using Egress.Lab;
using Egress.Verify;

namespace Egress.Cli;

/// <summary>A running lab as the verify suite's environment ("lab"): a runner per host namespace, the public
/// addresses, whether delays are emulated, each host's check command, and at the end of every round the lab's
/// counter checks (no client egress through its own IGW, no peering or IGW drops), judged with the round.</summary>
internal static class LabVerification
{
    public static async Task<VerifyEnvironment> EnvironmentAsync(RunningLab lab, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var previous = await LabStatusCollector.CountersAsync(lab, cancellationToken: cancellationToken);
        return new VerifyEnvironment("lab", lab.Topology, host => lab.RunnerFor(host), lab.PublicAddresses, lab.LatencyEmulated, lab.CheckCommand)
        {
            RoundChecks = async (_, ct) =>
            {
                var now = await LabStatusCollector.CountersAsync(lab, cancellationToken: ct);
                var checks = LabCounterChecks.Evaluate(lab.Topology, previous, now);
                previous = now;
                return [.. checks.Select(ToResult)];
            },
        };
    }

    internal static CheckResult ToResult(LabCheck check) => new(
        "lab." + check.Name,
        check.Name == LabCounterChecks.NoClientEgressViaOwnIgw ? CheckArea.Egress : CheckArea.Path,
        check.Host,
        check.Ok ? CheckStatus.Pass : CheckStatus.Fail,
        check.Detail);
}
