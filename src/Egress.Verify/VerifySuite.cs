using System.Globalization;
using Egress.Core;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Rendering;
using Egress.Verify.Probes;

namespace Egress.Verify;

/// <summary>The seed's validation (connectivity, latency, path, egress identity, reliability) as one suite. Every
/// measurement runs on the vantage host through the environment's runner; the analysis runs here. Probes run one after
/// another so that measurements never overlap.</summary>
public sealed class VerifySuite
{
    public static class Ids
    {
        public const string HostCheck = "connectivity.host-check";
        public const string TunnelPing = "connectivity.tunnel";
        public const string EgressIp = "egress.ip";
        public const string Geolocation = "egress.geolocation";
        public const string TargetAccess = "egress.target-access";
        public const string Requests = "latency.requests";
        public const string KeepAliveReuse = "latency.keepalive-reuse";
        public const string ColdBudget = "latency.cold-budget";
        public const string FirstHop = "path.first-hop";
        public const string DnsAnswer = "dns.answer-from-gateway-region";
    }

    public async Task<VerifyReport> RunAsync(VerifyEnvironment env, VerifyOptions options, IProgress<VerifyProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var topology = env.Topology;
        var rounds = options.Rounds ?? topology.Verify.Criteria.Rounds;
        var started = options.Time.GetUtcNow();
        var clients = topology.Hosts.Where(h => h.Role == HostRole.Client).ToList();
        var pairs = TunnelPairs.Of(topology);
        var samples = new Dictionary<(string Client, string Target), Collected>();
        var paths = new Dictionary<(string Client, string Target), ClientPath>();
        var identities = new Dictionary<string, EgressIdentity>();
        var roundReports = new List<RoundReport>();
        var baselines = await ZeroDelayBaselinesAsync(env, clients, options, progress, rounds, ct);

        for (var round = 1; round <= rounds; round++)
        {
            var checks = new List<CheckResult>();
            void Step(string host, string step) => progress?.Report(new VerifyProgress(round, rounds, host, step));

            foreach (var host in topology.Hosts)
            {
                Step(host.Name, "host check");
                checks.Add(await HostCheckAsync(env, host.Name, ct));
            }

            if (clients.Count == 0)
            {
                checks.Add(new CheckResult(Ids.TunnelPing, CheckArea.Connectivity, "(none)", CheckStatus.Fail, "the topology has no client host to verify from"));
            }

            foreach (var client in clients)
            {
                var runner = env.RunnerFor(client.Name);
                var clientPairs = pairs.Where(p => p.Client == client).OrderBy(p => p.Preference).ToList();
                foreach (var pair in clientPairs)
                {
                    Step(client.Name, $"ping {pair.Gateway.Name} over the tunnel");
                    checks.Add(await TunnelPingAsync(runner, pair, options, ct));
                }

                if (clientPairs.Count == 0)
                {
                    checks.Add(new CheckResult(Ids.EgressIp, CheckArea.Egress, client.Name, CheckStatus.Fail, "the client has no gateway in egressVia"));
                    continue;
                }

                Step(client.Name, "active gateway");
                var (active, activeWhy) = await ActiveGatewayAsync(runner, clientPairs, ct);
                if (active is null)
                {
                    checks.Add(new CheckResult(Ids.EgressIp, CheckArea.Egress, client.Name, CheckStatus.Fail, activeWhy));
                }
                else
                {
                    Step(client.Name, "egress identity");
                    var (identityChecks, identity) = await EgressIdentityAsync(env, runner, active, options, ct);
                    checks.AddRange(identityChecks);
                    identities[client.Name] = identity;
                    Step(client.Name, "dns answers");
                    checks.AddRange(await DnsAnswersAsync(env, runner, active, ct));
                }

                foreach (var target in topology.Verify.Targets)
                {
                    var key = (client.Name, target.AbsoluteUri);
                    if (!samples.TryGetValue(key, out var collected))
                    {
                        samples[key] = collected = new Collected();
                    }

                    Step(client.Name, $"cold requests to {target.Host}");
                    var cold = new List<CurlSample>();
                    var problems = new List<string>();
                    for (var i = 0; i < options.ColdSamples; i++)
                    {
                        var output = Curl.Parse(await RunAsync(runner, Curl.Cold(target, options.RequestTimeout), ct), 1);
                        cold.AddRange(output.Samples);
                        problems.AddRange(output.Problems);
                        var remaining = options.ColdSamples - i - 1;
                        if ((output.Samples.Count == 0 || output.Samples[0].ExitCode != 0) && remaining > 0)
                        {
                            // The round has failed already; a dead path would cost a timeout per remaining sample.
                            problems.Add($"{remaining} remaining cold request(s) skipped after a failed one");
                            break;
                        }
                    }

                    Step(client.Name, $"keep-alive requests to {target.Host}");
                    var keepAlive = Curl.Parse(await RunAsync(runner, Curl.KeepAlive(target, options.KeepAliveRequests, options.RequestTimeout), ct), options.KeepAliveRequests);
                    problems.AddRange(keepAlive.Problems);
                    collected.Add(cold, keepAlive.Samples);
                    checks.AddRange(JudgeRequests(client.Name, target, cold, keepAlive.Samples, problems, options));
                    checks.Add(JudgeColdBudget(env, client.Name, target, cold, baselines.TryGetValue(key, out var baseline) ? baseline : null));

                    Step(client.Name, $"path to {target.Host}");
                    var trace = await TraceAsync(runner, target.IdnHost, options, ct);
                    var expected = active?.GatewayAddress.ToString();
                    paths[key] = new ClientPath(client.Name, expected ?? "none", trace);
                    checks.Add(active is null
                        ? new CheckResult(Ids.FirstHop, CheckArea.Path, client.Name, CheckStatus.Fail, activeWhy) { Target = target.AbsoluteUri }
                        : JudgeFirstHop(topology, client.Name, target, expected!, active.Gateway.Name, trace));
                }
            }

            if (env.RoundChecks is { } environmentChecks)
            {
                Step(env.Name, "environment checks");
                checks.AddRange(await environmentChecks(round, ct));
            }

            roundReports.Add(new RoundReport(round, checks));
            Step("all hosts", roundReports[^1].Passed ? "round passed" : "round failed: " + string.Join(", ", checks.Where(c => c.Status == CheckStatus.Fail).Select(c => $"{c.Id} ({c.Host})").Distinct()));
        }

        var budget = topology.Verify.Criteria.ColdLatencyMs;
        return new VerifyReport
        {
            Environment = env.Name,
            Stack = topology.Stack,
            StartedAt = started,
            FinishedAt = options.Time.GetUtcNow(),
            LatencyEmulated = env.LatencyEmulated,
            ColdLatencyBudget = new LatencyBudgetReport(budget.MinMs, budget.MaxMs, env.JudgesLatency,
                !env.JudgesLatency ? $"not judged ({env.LatencyNotJudgedReason})"
                : baselines.Count > 0 ? "median of each round's cold total times, net of a zero-delay baseline measured in the same run (the environment's own compute)"
                : "median of each round's cold total times"),
            Rounds = roundReports,
            Latency = [.. samples.Select(s => s.Value.Summarise(s.Key.Client, s.Key.Target) with { ColdBaselineMs = baselines.TryGetValue(s.Key, out var b) ? b : null })],
            Paths = [.. paths.Values],
            Egress = [.. identities.Values],
        };
    }

    /// <summary>The names whose answer matters: every target's host (not an address) and the environment's geo names.</summary>
    private static IReadOnlyList<string> DnsNames(VerifyEnvironment env) =>
        [.. env.Topology.Verify.Targets.Select(t => t.IdnHost).Where(h => Uri.CheckHostName(h) == UriHostNameType.Dns)
            .Concat(env.DnsNames).Distinct(StringComparer.OrdinalIgnoreCase)];

    /// <summary>For each name, the client's answer must be the one the active gateway's region gives (the gateway's own
    /// resolver, its VPC's): geo-aware DNS (a CDN, a latency-routed API) then points at endpoints near where the traffic
    /// leaves. Answers match when they share an address (a CDN rotates several). The lookup times are in the detail.</summary>
    private static async Task<IReadOnlyList<CheckResult>> DnsAnswersAsync(VerifyEnvironment env, ICommandRunner runner, TunnelPair active, CancellationToken ct)
    {
        var names = DnsNames(env);
        if (names.Count == 0)
        {
            return [];
        }

        var client = active.Client;
        var gateway = active.Gateway;
        var mine = DnsLookup.Parse(await RunAsync(runner, DnsLookup.Command(names), ct));
        var theirs = DnsLookup.Parse(await RunAsync(env.RunnerFor(gateway.Name), DnsLookup.Command(names), ct));
        var via = env.Topology.ResolveViaOf(client);
        var region = env.Topology.RegionOf(gateway).Name;
        var results = new List<CheckResult>();
        foreach (var name in names)
        {
            CheckResult Result(CheckStatus status, string detail) => new(Ids.DnsAnswer, CheckArea.Egress, client.Name, status, detail) { Target = name };
            if (!mine.TryGetValue(name, out var answer) || answer.Addresses.Count == 0)
            {
                results.Add(Result(CheckStatus.Fail, $"{client.Name} cannot resolve {name} (dns.resolveVia: {Name(via)})"));
                continue;
            }

            var times = $"lookup {F(answer.FirstMs)} ms first, {F(answer.RepeatMs)} ms repeated (cached), net of getent's start";
            var said = string.Join(", ", answer.Addresses);
            if (!theirs.TryGetValue(name, out var expected) || expected.Addresses.Count == 0)
            {
                results.Add(Result(CheckStatus.NotJudged, $"{name} -> {said}; {gateway.Name} ({region}) cannot resolve it, so there is nothing to compare; {times}"));
            }
            else if (answer.Addresses.Intersect(expected.Addresses).Any())
            {
                results.Add(Result(CheckStatus.Pass, $"{name} -> {said}, as {gateway.Name}'s region {region} answers; {times}"));
            }
            else
            {
                var fix = via == DnsResolveVia.Local
                    ? "the client resolves through its own region (dns.resolveVia: local); set dns.resolveVia: gateway so names resolve where the traffic leaves"
                    : $"the client's stub does not ask {gateway.Name}'s forwarder; run 'egress-host check' on both hosts";
                results.Add(Result(CheckStatus.Fail,
                    $"mismatch: {client.Name} resolves {name} to {said}, but {gateway.Name}'s region {region} answers {string.Join(", ", expected.Addresses)}: " +
                    $"requests go to an endpoint chosen for the client's region while they leave from {region}; {fix}; {times}"));
            }
        }

        return results;
    }

    private static string Name(DnsResolveVia via) => via.ToString().ToLowerInvariant();

    private static async Task<CheckResult> HostCheckAsync(VerifyEnvironment env, string host, CancellationToken ct)
    {
        var result = await RunAsync(env.RunnerFor(host), env.CheckCommand(host), ct);
        var check = HostCheck.Parse(host, result);
        if (check.Passed)
        {
            var warnings = check.Warnings.Count == 0 ? "" : $"; warnings: {string.Join("; ", check.Warnings)}";
            return new CheckResult(Ids.HostCheck, CheckArea.Connectivity, host, CheckStatus.Pass, $"{check.Report!.Invariants.Count} invariants ok{warnings}");
        }

        var why = check.Problem ?? string.Join("; ", check.Failed.Select(i => string.IsNullOrWhiteSpace(i.Detail) ? i.Name : $"{i.Name}: {i.Detail}"));
        if (why.Length == 0)
        {
            why = $"check says not ok (exit {result.ExitCode})";
        }

        return new CheckResult(Ids.HostCheck, CheckArea.Connectivity, host, CheckStatus.Fail, why);
    }

    private static async Task<CheckResult> TunnelPingAsync(ICommandRunner runner, TunnelPair pair, VerifyOptions options, CancellationToken ct)
    {
        var address = pair.GatewayAddress.ToString();
        var result = await RunAsync(runner, Ping.To(address, options.PingCount), ct);
        var ping = PathProbe.NotInstalled(result)
            ? Ping.FromTrace(address, PathProbe.ParseMtr(address, await RunAsync(runner, PathProbe.Mtr(address, options.PingCount), ct)))
            : Ping.Parse(result, options.PingCount);
        var detail = ping.Problem
            ?? $"{ping.Received}/{ping.Transmitted} replies from {pair.Gateway.Name} at {address}{(ping.AvgMs is { } avg ? $", avg {F(avg)} ms" : "")}";
        return new CheckResult(Ids.TunnelPing, CheckArea.Connectivity, pair.Client.Name, ping.Reachable ? CheckStatus.Pass : CheckStatus.Fail, detail)
        {
            Target = address,
        };
    }

    /// <summary>The gateway the client's routes point at now (<see cref="ActiveRoute"/>): after a failover the standby.
    /// Null, with why, when no tunnel carries its internet traffic (fail-closed, fail-open). When the lookup cannot run,
    /// the first gateway of egressVia, saying so.</summary>
    private static async Task<(TunnelPair? Pair, string Why)> ActiveGatewayAsync(ICommandRunner runner, IReadOnlyList<TunnelPair> pairs, CancellationToken ct)
    {
        var answer = ActiveRoute.Parse(await RunAsync(runner, ActiveRoute.Command(), ct));
        return answer.Problem is { } problem
            ? (pairs[0], $"active gateway unknown ({problem}): judged against egressVia[0] {pairs[0].Gateway.Name}")
            : ActiveRoute.Match(answer, pairs);
    }

    private static async Task<(IReadOnlyList<CheckResult> Checks, EgressIdentity Identity)> EgressIdentityAsync(
        VerifyEnvironment env, ICommandRunner runner, TunnelPair active, VerifyOptions options, CancellationToken ct)
    {
        var client = active.Client.Name;
        var gateway = active.Gateway;
        var echo = env.Topology.Verify.IpEcho;
        var expectedIp = env.PublicAddresses.TryGetValue(gateway.Name, out var address) ? address.ToString() : null;
        var region = AwsRegions.Find(env.Topology.RegionOf(gateway).Name);
        var output = Curl.Parse(await RunAsync(runner, Curl.WithBody(echo, options.RequestTimeout), ct), 1);
        IpEchoAnswer? answer = null;
        string? problem;
        if (output.Samples.Count == 0)
        {
            problem = $"the IP echo {echo} gave no answer: {string.Join("; ", output.Problems)}";
        }
        else if (output.Samples[0].Failure is { } failure)
        {
            problem = failure;
        }
        else
        {
            answer = IpEcho.Parse(output.Body, out problem);
        }

        var identity = new EgressIdentity(client, gateway.Name, expectedIp, region?.City, region?.CountryCode, answer);
        var checks = new List<CheckResult>();
        if (answer is null)
        {
            checks.Add(new CheckResult(Ids.EgressIp, CheckArea.Egress, client, CheckStatus.Fail, problem!) { Target = echo.AbsoluteUri });
            return (checks, identity);
        }

        var which = active.Preference == 0 ? string.Empty : $" (the active gateway: failed over from {active.Client.EgressVia[0]})";
        checks.Add(expectedIp is null
            ? new CheckResult(Ids.EgressIp, CheckArea.Egress, client, CheckStatus.Fail, $"the environment knows no public address of gateway {gateway.Name}; the echo saw {answer.Ip}")
            : answer.Ip == expectedIp
                ? new CheckResult(Ids.EgressIp, CheckArea.Egress, client, CheckStatus.Pass, $"the echo sees {answer.Ip}, the public address of {gateway.Name}{which}")
                : new CheckResult(Ids.EgressIp, CheckArea.Egress, client, CheckStatus.Fail, $"the echo sees {answer.Ip}, expected {gateway.Name}'s public address {expectedIp}"));

        var where = $"{answer.City ?? "?"}, {answer.Country ?? "?"}";
        if (env.Topology.Verify.Criteria.Geolocation == GeolocationExpectation.None)
        {
            checks.Add(new CheckResult(Ids.Geolocation, CheckArea.Egress, client, CheckStatus.NotJudged, $"not judged (geolocation: none); the echo places it in {where}"));
        }
        else if (region is null)
        {
            checks.Add(new CheckResult(Ids.Geolocation, CheckArea.Egress, client, CheckStatus.Fail, $"region {env.Topology.RegionOf(gateway).Name} of {gateway.Name} is not in the table of AWS regions"));
        }
        else
        {
            var ok = string.Equals(answer.City, region.City, StringComparison.OrdinalIgnoreCase)
                && string.Equals(answer.Country, region.CountryCode, StringComparison.OrdinalIgnoreCase);
            checks.Add(new CheckResult(Ids.Geolocation, CheckArea.Egress, client, ok ? CheckStatus.Pass : CheckStatus.Fail,
                ok ? $"{where}, as {gateway.Name}'s region {region.Code}" : $"the echo places the egress in {where}, expected {region.City}, {region.CountryCode} ({region.Code})"));
        }

        return (checks, identity);
    }

    internal static IEnumerable<CheckResult> JudgeRequests(string client, Uri target, IReadOnlyList<CurlSample> cold, IReadOnlyList<CurlSample> keepAlive, IReadOnlyList<string> problems, VerifyOptions options)
    {
        var url = target.AbsoluteUri;
        var all = cold.Concat(keepAlive).ToList();
        var refused = all.FirstOrDefault(s => s.HttpCode == 451);
        yield return refused is null
            ? new CheckResult(Ids.TargetAccess, CheckArea.Egress, client, CheckStatus.Pass, "no request was refused for its location (no HTTP 451)") { Target = url }
            : new CheckResult(Ids.TargetAccess, CheckArea.Egress, client, CheckStatus.Fail, refused.Failure!) { Target = url };

        var failed = all.Where(s => !s.Succeeded).ToList();
        var expected = options.ColdSamples + options.KeepAliveRequests;
        if (failed.Count == 0 && problems.Count == 0)
        {
            yield return new CheckResult(Ids.Requests, CheckArea.Latency, client, CheckStatus.Pass, $"{all.Count}/{expected} requests answered 2xx") { Target = url };
        }
        else
        {
            var reasons = failed.Select(s => s.Failure!).Concat(problems).Distinct().Take(3);
            yield return new CheckResult(Ids.Requests, CheckArea.Latency, client, CheckStatus.Fail,
                $"{all.Count - failed.Count}/{expected} requests answered 2xx: {string.Join("; ", reasons)}") { Target = url };
        }

        yield return JudgeReuse(client, url, keepAlive, options.KeepAliveRequests);
    }

    /// <summary>The keep-alive run must have opened exactly one connection, on its first request; a reuse that silently
    /// did not happen would report cold numbers as warm ones.</summary>
    internal static CheckResult JudgeReuse(string client, string url, IReadOnlyList<CurlSample> keepAlive, int expected)
    {
        CheckResult Fail(string why) => new(Ids.KeepAliveReuse, CheckArea.Latency, client, CheckStatus.Fail, why) { Target = url };
        if (keepAlive.Count < expected)
        {
            return Fail($"reuse not verified: {keepAlive.Count} of {expected} keep-alive requests reported");
        }

        if (keepAlive[0].NumConnects < 1)
        {
            return Fail($"the first keep-alive request opened no connection (num_connects={keepAlive[0].NumConnects})");
        }

        var reconnected = keepAlive.Select((s, i) => (s, i)).Skip(1).Where(x => x.s.NumConnects != 0).Select(x => x.i + 1).ToList();
        if (reconnected.Count > 0)
        {
            return Fail($"connection not reused: request(s) {string.Join(", ", reconnected.Take(5))} of {expected} opened a new connection (num_connects != 0)");
        }

        var unsuccessful = keepAlive.Count(s => !s.Succeeded);
        return unsuccessful > 0
            ? Fail($"{unsuccessful} of {expected} keep-alive requests failed; reuse not verified")
            : new CheckResult(Ids.KeepAliveReuse, CheckArea.Latency, client, CheckStatus.Pass, $"1 connection for {expected} requests (num_connects 0 after the first)") { Target = url };
    }

    /// <summary>With <paramref name="baseline"/> (the zero-delay median, the environment's own compute) the budget is
    /// judged on the cold median net of it, and the detail shows both figures.</summary>
    internal static CheckResult JudgeColdBudget(VerifyEnvironment env, string client, Uri target, IReadOnlyList<CurlSample> cold, double? baseline = null)
    {
        var budget = env.Topology.Verify.Criteria.ColdLatencyMs;
        var totals = cold.Where(s => s.Succeeded).Select(s => s.TotalMs).ToList();
        var p50 = Statistics.Summarise(totals)?.P50;
        var net = p50 is { } gross && baseline is { } b ? Math.Max(0, gross - b) : (double?)null;
        var measured = p50 is null ? "no successful cold request"
            : net is null ? $"cold p50 {F(p50.Value)} ms"
            : $"cold p50 {F(p50.Value)} ms, zero-delay baseline {F(baseline!.Value)} ms (the environment's own compute), net {F(net.Value)} ms";
        var url = target.AbsoluteUri;
        if (!env.JudgesLatency)
        {
            return new CheckResult(Ids.ColdBudget, CheckArea.Latency, client, CheckStatus.NotJudged,
                $"not judged ({env.LatencyNotJudgedReason}): {measured}, budget {budget.MinMs}-{budget.MaxMs} ms") { Target = url };
        }

        var ok = (net ?? p50) is { } median && median >= budget.MinMs && median <= budget.MaxMs;
        return new CheckResult(Ids.ColdBudget, CheckArea.Latency, client, ok ? CheckStatus.Pass : CheckStatus.Fail,
            $"{measured}, budget {budget.MinMs}-{budget.MaxMs} ms{(net is null ? string.Empty : " (judged net)")}") { Target = url };
    }

    /// <summary>Per client and target, the median total of cold requests with the environment's emulated delays off
    /// (<see cref="VerifyEnvironment.ZeroDelay"/>), measured once before the rounds; empty when the environment has no
    /// such switch or latency is not judged.</summary>
    private static async Task<Dictionary<(string Client, string Target), double>> ZeroDelayBaselinesAsync(
        VerifyEnvironment env, IReadOnlyList<Core.Topology.Host> clients, VerifyOptions options, IProgress<VerifyProgress>? progress, int rounds, CancellationToken ct)
    {
        var baselines = new Dictionary<(string Client, string Target), double>();
        if (!env.JudgesLatency || env.ZeroDelay is not { } zeroDelay)
        {
            return baselines;
        }

        await using (await zeroDelay(ct))
        {
            foreach (var client in clients)
            {
                var runner = env.RunnerFor(client.Name);
                foreach (var target in env.Topology.Verify.Targets)
                {
                    progress?.Report(new VerifyProgress(0, rounds, client.Name, $"zero-delay baseline to {target.Host}"));
                    var totals = new List<double>();
                    for (var i = 0; i < options.ColdSamples; i++)
                    {
                        totals.AddRange(Curl.Parse(await RunAsync(runner, Curl.Cold(target, options.RequestTimeout), ct), 1).Samples.Where(s => s.Succeeded).Select(s => s.TotalMs));
                    }

                    if (Statistics.Summarise(totals)?.P50 is { } p50)
                    {
                        baselines[(client.Name, target.AbsoluteUri)] = p50;
                    }
                }
            }
        }

        return baselines;
    }

    private static async Task<PathTrace> TraceAsync(ICommandRunner runner, string target, VerifyOptions options, CancellationToken ct)
    {
        var mtr = await RunAsync(runner, PathProbe.Mtr(target, options.PathCycles), ct);
        if (!PathProbe.NotInstalled(mtr))
        {
            return PathProbe.ParseMtr(target, mtr);
        }

        var traceroute = await RunAsync(runner, PathProbe.Traceroute(target), ct);
        return PathProbe.NotInstalled(traceroute)
            ? new PathTrace("none", target, [], "neither mtr nor traceroute is installed on the client (apt-get install mtr-tiny)")
            : PathProbe.ParseTraceroute(target, traceroute);
    }

    internal static CheckResult JudgeFirstHop(TopologyModel topology, string client, Uri target, string expected, string gateway, PathTrace trace)
    {
        var url = target.AbsoluteUri;
        if (!topology.Verify.Criteria.PathViaGateway)
        {
            return new CheckResult(Ids.FirstHop, CheckArea.Path, client, CheckStatus.NotJudged, "not judged (pathViaGateway: false)") { Target = url };
        }

        if (trace.Hops.Count == 0)
        {
            return new CheckResult(Ids.FirstHop, CheckArea.Path, client, CheckStatus.Fail, trace.Problem ?? "no hops") { Target = url };
        }

        var first = trace.Hops[0];
        return first.Address == expected && first.Answered
            ? new CheckResult(Ids.FirstHop, CheckArea.Path, client, CheckStatus.Pass,
                $"first hop {first.Address} ({gateway}'s tunnel address), {trace.Hops.Count} hops, {F(first.LossPercent)}% loss") { Target = url }
            : new CheckResult(Ids.FirstHop, CheckArea.Path, client, CheckStatus.Fail,
                first.Answered
                    ? $"first hop is {first.Address}, expected {gateway}'s tunnel address {expected}: traffic does not enter the tunnel"
                    : $"the first hop never answered ({F(first.LossPercent)}% loss), expected {gateway}'s tunnel address {expected}") { Target = url };
    }

    /// <summary>Runs a probe; a runner that throws (SSH down, namespace gone) becomes a failed result, never a crash.</summary>
    private static async Task<CommandResult> RunAsync(ICommandRunner runner, CommandSpec spec, CancellationToken ct)
    {
        try
        {
            return await runner.RunAsync(spec, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Any failure to run a probe is a failed measurement, reported with its reason.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new CommandResult(-1, string.Empty, $"could not run '{spec}': {ex.Message}", TimeSpan.Zero);
        }
    }

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private sealed class Collected
    {
        private readonly List<CurlSample> _cold = [];
        private readonly List<CurlSample> _keepAlive = [];

        public void Add(IEnumerable<CurlSample> cold, IReadOnlyList<CurlSample> keepAlive)
        {
            _cold.AddRange(cold);
            _keepAlive.AddRange(keepAlive.Skip(1).Where(s => s.NumConnects == 0));
        }

        public TargetLatency Summarise(string client, string target)
        {
            var cold = _cold.Where(s => s.Succeeded).Select(s => s.Phases).ToList();
            var warm = _keepAlive.Where(s => s.Succeeded).Select(s => s.Phases).ToList();
            return new TargetLatency
            {
                Client = client,
                Target = target,
                Cold = Summary(cold, _cold.Count),
                KeepAlive = Summary(warm, _keepAlive.Count),
                ColdSamples = cold,
                KeepAliveSamples = warm,
            };
        }

        private static LatencySummary Summary(IReadOnlyList<PhaseTimes> ok, int total)
        {
            var phases = new Dictionary<Phase, PhaseSummary>();
            foreach (var phase in Enum.GetValues<Phase>())
            {
                if (Statistics.Summarise(ok.Select(p => p.Of(phase))) is { } summary)
                {
                    phases[phase] = summary;
                }
            }

            return new LatencySummary(ok.Count, total - ok.Count, phases);
        }
    }
}
