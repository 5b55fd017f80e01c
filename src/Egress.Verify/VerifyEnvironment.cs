using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Processes;

namespace Egress.Verify;

/// <summary>What the suite runs against: the lab (namespaces) or AWS (SSH to the EC2 hosts). Whoever built the
/// environment supplies a runner per host, the public addresses the internet sees, whether link delays are emulated,
/// and each host's <c>check</c> command.</summary>
/// <param name="Name">"lab" or "aws": printed in the report.</param>
/// <param name="Topology">The topology the environment was built from.</param>
/// <param name="RunnerFor">Host name to a runner that executes commands on that host.</param>
/// <param name="PublicAddresses">Host name to its public address (gateways at least).</param>
/// <param name="LatencyEmulated">True on AWS or when the lab emulates link delays; latency budgets are judged only then.</param>
/// <param name="CheckCommand">Host name to the command that runs the host script's <c>check</c>.</param>
public sealed record VerifyEnvironment(
    string Name,
    TopologyModel Topology,
    Func<string, ICommandRunner> RunnerFor,
    IReadOnlyDictionary<string, Ipv4Address> PublicAddresses,
    bool LatencyEmulated,
    Func<string, CommandSpec> CheckCommand)
{
    /// <summary>Checks only the environment can make, run at the end of every round and judged with it (the lab: "no
    /// egress flow crossed the client's IGW" from its counters). Takes the round number; may be null.</summary>
    public Func<int, CancellationToken, Task<IReadOnlyList<CheckResult>>>? RoundChecks { get; init; }

    /// <summary>Turns the environment's emulated link delays off until the returned handle is disposed (the lab with
    /// netem); null where delays are real (AWS) or not emulated. With it, the suite first measures a zero-delay cold
    /// baseline — the environment's own compute: TLS on an emulated CPU costs hundreds of ms — and judges the cold budget
    /// net of it, so a slow machine never fails a correct network.</summary>
    public Func<CancellationToken, Task<IAsyncDisposable>>? ZeroDelay { get; init; }

    /// <summary>Names behind geo-aware DNS that the environment knows of (the lab: its CDN-like name), checked with the
    /// verify targets' hosts: the client's answer must be the gateway region's (docs/verify.md, dns.answer-from-gateway-region).</summary>
    public IReadOnlyList<string> DnsNames { get; init; } = [];

    /// <summary>Why the latency budget is not judged although delays are emulated, or null. The VM lab under software
    /// emulation sets it: a cold HTTPS request's own compute there takes seconds and varies by more than the budget's
    /// width, so no baseline can make the net figure mean anything.</summary>
    public string? LatencyNotJudged { get; init; }

    /// <summary>Latency budgets are judged on AWS (real delays) and in a lab that emulates link delays, unless
    /// <see cref="LatencyNotJudged"/> says why not.</summary>
    public bool JudgesLatency => LatencyNotJudged is null && (LatencyEmulated || string.Equals(Name, "aws", StringComparison.OrdinalIgnoreCase));

    /// <summary>Why the latency budget is reported but not judged ("latency emulation off", or <see cref="LatencyNotJudged"/>).</summary>
    public string LatencyNotJudgedReason => LatencyNotJudged ?? "latency emulation off";
}

/// <summary>How much the suite measures. Defaults suit the lab and AWS alike; a null <see cref="Rounds"/> takes the
/// topology's <c>verify.criteria.rounds</c>.</summary>
public sealed record VerifyOptions
{
    public int? Rounds { get; init; }

    /// <summary>Cold samples per target and round: each one a new curl process, so a new connection.</summary>
    public int ColdSamples { get; init; } = 5;

    /// <summary>Requests per target and round over one keep-alive connection (the first one opens it).</summary>
    public int KeepAliveRequests { get; init; } = 10;

    /// <summary>mtr cycles (<c>-c</c>) per path probe.</summary>
    public int PathCycles { get; init; } = 3;

    /// <summary>Echo requests per tunnel ping.</summary>
    public int PingCount { get; init; } = 3;

    /// <summary>Limit for one HTTP request (curl <c>--max-time</c>).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad value.</summary>
    public void Validate()
    {
        if (Rounds is < 1)
        {
            throw new ArgumentException($"rounds must be at least 1 (got {Rounds}).");
        }

        if (ColdSamples < 1 || KeepAliveRequests < 2 || PathCycles < 1 || PingCount < 1)
        {
            throw new ArgumentException("cold samples, path cycles and ping count must be at least 1 and keep-alive requests at least 2 (the first opens the connection).");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("the request timeout must be positive.");
        }
    }
}

/// <summary>Where the suite is while it runs: round r of n, which host, which step.</summary>
public sealed record VerifyProgress(int Round, int Rounds, string Host, string Step);
