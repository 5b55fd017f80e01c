using Egress.Verify.Probes;

namespace Egress.Verify;

public enum CheckStatus
{
    Pass,
    Fail,

    /// <summary>Measured and reported but not judged (e.g. a latency budget without latency emulation).</summary>
    NotJudged,
}

/// <summary>The seed's areas of validation; the fifth, reliability, is the verdict over rounds (<see cref="VerifyReport.Passed"/>).</summary>
public enum CheckArea
{
    Connectivity,
    Latency,
    Path,
    Egress,
}

/// <summary>One judged fact: a stable id (e.g. <c>egress.ip</c>), the host it is about, the outcome and why.</summary>
public sealed record CheckResult(string Id, CheckArea Area, string Host, CheckStatus Status, string Detail)
{
    public string? Target { get; init; }
}

public sealed record RoundReport(int Round, IReadOnlyList<CheckResult> Checks)
{
    public bool Passed => Checks.All(c => c.Status != CheckStatus.Fail);
}

/// <summary>Percentiles per phase of one kind of sample (cold or keep-alive).</summary>
public sealed record LatencySummary(int Samples, int Failed, IReadOnlyDictionary<Phase, PhaseSummary> Phases);

/// <summary>Every latency sample of one client to one target over all rounds, with their summaries.</summary>
public sealed record TargetLatency
{
    public required string Client { get; init; }

    public required string Target { get; init; }

    public required LatencySummary Cold { get; init; }

    public required LatencySummary KeepAlive { get; init; }

    /// <summary>Median total of the cold requests measured with the environment's delays off, before the rounds (the
    /// environment's own compute); the cold budget is judged net of it. Null when no baseline was measured.</summary>
    public double? ColdBaselineMs { get; init; }

    /// <summary>Per successful cold sample, its phases (ms), in the order taken.</summary>
    public required IReadOnlyList<PhaseTimes> ColdSamples { get; init; }

    /// <summary>Per successful reused keep-alive request (the connection-opening first one excluded), its phases (ms).</summary>
    public required IReadOnlyList<PhaseTimes> KeepAliveSamples { get; init; }
}

/// <summary>What the IP echo said for one client, and what was expected.</summary>
public sealed record EgressIdentity(string Client, string Gateway, string? ExpectedIp, string? ExpectedCity, string? ExpectedCountry, IpEchoAnswer? Observed);

/// <summary>The path from a client to a target in the last round, and the first hop it should have.</summary>
public sealed record ClientPath(string Client, string ExpectedFirstHop, PathTrace Trace);

public sealed record LatencyBudgetReport(int MinMs, int MaxMs, bool Judged, string Basis);

/// <summary>The whole result: every round's checks, latency over all rounds, the last path seen per client and target.</summary>
public sealed record VerifyReport
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string Environment { get; init; }

    public required string Stack { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required DateTimeOffset FinishedAt { get; init; }

    public required bool LatencyEmulated { get; init; }

    public required LatencyBudgetReport ColdLatencyBudget { get; init; }

    public required IReadOnlyList<RoundReport> Rounds { get; init; }

    public required IReadOnlyList<TargetLatency> Latency { get; init; }

    public required IReadOnlyList<ClientPath> Paths { get; init; }

    public required IReadOnlyList<EgressIdentity> Egress { get; init; }

    /// <summary>Reliability: every round passed (the seed asks for 100%).</summary>
    public bool Passed => Rounds.Count > 0 && Rounds.All(r => r.Passed);

    public int PassedRounds => Rounds.Count(r => r.Passed);

    public IEnumerable<CheckResult> Failures => Rounds.SelectMany(r => r.Checks.Where(c => c.Status == CheckStatus.Fail));

    /// <summary>Each check over all rounds: failed if it failed in any round, with that first failure's detail;
    /// otherwise the last round's status and detail.</summary>
    public IReadOnlyList<CheckSummary> Summaries() =>
    [
        .. Rounds.SelectMany(r => r.Checks.Select(c => (r.Round, Check: c)))
            .GroupBy(x => (x.Check.Id, x.Check.Host, x.Check.Target))
            .Select(group =>
            {
                var items = group.ToList();
                var failure = items.FirstOrDefault(x => x.Check.Status == CheckStatus.Fail);
                var passed = items.Count(x => x.Check.Status != CheckStatus.Fail);
                return failure.Check is { } failed
                    ? new CheckSummary(failed, passed, items.Count, $"round {failure.Round}: {failed.Detail}")
                    : new CheckSummary(items[^1].Check, passed, items.Count, items[^1].Check.Detail);
            }),
    ];
}

/// <summary>One check over all rounds: the check to show (the first failure, else the last round's), in how many
/// rounds it did not fail, and the detail to print.</summary>
public sealed record CheckSummary(CheckResult Check, int RoundsPassed, int Rounds, string Detail);
