using System.Text.Json;
using Egress.Core;
using Egress.Core.Topology;
using Egress.Host.Execution;
using Egress.Lab.Services;

namespace Egress.Lab;

public sealed record LabCheck(string Name, string Host, bool Ok, string Detail);

public sealed record LabVerifyReport
{
    public required string Id { get; init; }

    public required string Overlay { get; init; }

    public required string Latency { get; init; }

    public required IReadOnlyList<LabCheck> Checks { get; init; }

    public required LabCounters Counters { get; init; }

    public bool Passed => Checks.Count > 0 && Checks.All(c => c.Ok);
}

/// <summary>The lab's own end-to-end checks, run from each client host: the API sees the gateway's public
/// address; the IP echo places it in the gateway's region; the first hop is the gateway's tunnel address;
/// nothing of the client's egress crossed its own IGW; every host's check passes.</summary>
public static class LabVerifier
{
    public static async Task<LabVerifyReport> RunAsync(RunningLab lab, ICommandRunner? runner = null, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        runner ??= ProcessRunner.Instance;
        progress ??= _ => { };
        var checks = new List<LabCheck>();
        var topology = lab.Topology;
        var before = await LabStatusCollector.CountersAsync(lab, runner, cancellationToken);
        var rounds = Math.Max(1, topology.Verify.Criteria.Rounds);
        foreach (var pair in TunnelPairs.Of(topology).Where(p => p.Preference == 0))
        {
            var client = pair.Client.Name;
            var gatewayPublic = lab.PublicAddressOf(pair.Gateway.Name);
            var host = lab.RunnerFor(client, runner);
            progress($"{client}: {rounds} round(s) of egress checks via {pair.Gateway.Name} ({gatewayPublic ?? "no public address"})");
            var apiFailures = new List<string>();
            var echoFailures = new List<string>();
            var geoFailures = new List<string>();
            var region = AwsRegions.Find(topology.RegionOf(pair.Gateway).Name);
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var target in topology.Verify.Targets)
                {
                    var (seen, detail) = await SourceSeenByAsync(host, target, cancellationToken);
                    if (seen != gatewayPublic)
                    {
                        apiFailures.Add($"round {round}: {target} {detail}");
                    }
                }

                var echo = await EchoAsync(host, topology.Verify.IpEcho, cancellationToken);
                if (echo.Error is not null || echo.Answer!.Ip != gatewayPublic)
                {
                    echoFailures.Add($"round {round}: {echo.Error ?? $"ip {echo.Answer!.Ip}, expected {gatewayPublic}"}");
                }

                if (topology.Verify.Criteria.Geolocation == GeolocationExpectation.GatewayRegion && region is not null
                    && (echo.Answer is null || echo.Answer.City != region.City || echo.Answer.Country != region.CountryCode))
                {
                    geoFailures.Add($"round {round}: {(echo.Answer is null ? "no answer" : $"{echo.Answer.City}, {echo.Answer.Country}")}, expected {region.City}, {region.CountryCode}");
                }

                if (apiFailures.Count + echoFailures.Count + geoFailures.Count > 0)
                {
                    progress($"{client}: round {round} failed; the remaining rounds are skipped (every round must pass)");
                    break;
                }
            }

            checks.Add(new LabCheck("egress.api-source", client, apiFailures.Count == 0,
                apiFailures.Count == 0 ? $"{string.Join(", ", topology.Verify.Targets.Select(t => t.Host))} saw {gatewayPublic} in {rounds}/{rounds} rounds" : string.Join("; ", apiFailures.Take(3))));
            checks.Add(new LabCheck("egress.ip-echo", client, echoFailures.Count == 0,
                echoFailures.Count == 0 ? $"{topology.Verify.IpEcho.Host} says {gatewayPublic} in {rounds}/{rounds} rounds" : string.Join("; ", echoFailures.Take(3))));
            if (topology.Verify.Criteria.Geolocation == GeolocationExpectation.GatewayRegion)
            {
                checks.Add(new LabCheck("egress.geolocation", client, geoFailures.Count == 0,
                    geoFailures.Count == 0 ? $"{region?.City}, {region?.CountryCode} ({pair.Gateway.Name}'s region)" : string.Join("; ", geoFailures.Take(3))));
            }

            if (topology.Verify.Criteria.PathViaGateway)
            {
                var target = topology.Verify.Targets.FirstOrDefault() ?? topology.Verify.IpEcho;
                var (firstHop, detail) = await FirstHopAsync(host, target.Host, cancellationToken);
                var expected = pair.GatewayAddress.ToString();
                checks.Add(new LabCheck("path.first-hop", client, firstHop == expected,
                    firstHop == expected ? $"first hop to {target.Host} is {expected} ({pair.Gateway.Name}'s tunnel address)" : $"first hop {firstHop ?? "none"}, expected {expected}: {detail}"));
            }
        }

        var after = await LabStatusCollector.CountersAsync(lab, runner, cancellationToken);
        checks.AddRange(LabCounterChecks.Evaluate(topology, before, after));
        if (File.Exists(lab.State.HostScript(topology.Hosts.First().Name)))
        {
            foreach (var host in topology.Hosts)
            {
                var result = await LabStatusCollector.CheckAsync(lab, host.Name, runner, cancellationToken);
                checks.Add(new LabCheck("host.check", host.Name, result.Ok,
                    result.Error ?? (result.Ok ? $"{result.Invariants.Count} invariants hold" : "failed: " + string.Join(", ", result.Invariants.Where(i => !i.Ok).Select(i => $"{i.Name} ({i.Detail})")))));
            }
        }

        return new LabVerifyReport
        {
            Id = lab.Id,
            Overlay = lab.Manifest.OverlayNote,
            Latency = lab.Manifest.LatencyNote,
            Checks = checks,
            Counters = after,
        };
    }

    private static CommandSpec Curl(params string[] arguments) =>
        new("curl", ["-sS", "--connect-timeout", "2", "--max-time", "5", .. arguments]) { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The source address the lab's service saw (its X-Egress-Lab-Client header).</summary>
    private static async Task<(string? Seen, string Detail)> SourceSeenByAsync(ICommandRunner host, Uri target, CancellationToken cancellationToken)
    {
        var result = await host.RunAsync(Curl("-o", "/dev/null", "-D", "-", target.ToString()), cancellationToken);
        if (!result.Succeeded)
        {
            return (null, $"curl failed (exit {result.ExitCode}): {result.StandardError.Trim()}");
        }

        var header = result.StandardOutput.Split('\n')
            .FirstOrDefault(l => l.StartsWith(LabServices.ClientAddressHeader + ":", StringComparison.OrdinalIgnoreCase));
        var seen = header?[(header.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        var status = result.StandardOutput.Split('\n').FirstOrDefault()?.Trim() ?? string.Empty;
        return (seen, $"saw {seen ?? "nothing"} ({status})");
    }

    private static async Task<(LabServices.IpEchoAnswer? Answer, string? Error)> EchoAsync(ICommandRunner host, Uri echo, CancellationToken cancellationToken)
    {
        var result = await host.RunAsync(Curl(echo.ToString()), cancellationToken);
        if (!result.Succeeded)
        {
            return (null, $"curl {echo} failed (exit {result.ExitCode}): {result.StandardError.Trim()}");
        }

        try
        {
            var answer = JsonSerializer.Deserialize<LabServices.IpEchoAnswer>(result.StandardOutput, new JsonSerializerOptions(JsonSerializerDefaults.Web));
            return answer is null ? (null, "empty answer") : (answer, null);
        }
        catch (JsonException ex)
        {
            return (null, $"{echo} answered no JSON: {ex.Message}");
        }
    }

    /// <summary>First hop of `mtr --json -n` from the host.</summary>
    internal static async Task<(string? Hop, string Detail)> FirstHopAsync(ICommandRunner host, string target, CancellationToken cancellationToken)
    {
        var result = await host.RunAsync(new CommandSpec("mtr", ["--json", "-n", "-c", "2", "-i", "0.2", "-G", "1", "-m", "3", target]) { Timeout = TimeSpan.FromSeconds(20) }, cancellationToken);
        if (!result.Succeeded)
        {
            return (null, $"mtr failed (exit {result.ExitCode}): {result.StandardError.Trim()}");
        }

        return (ParseFirstHop(result.StandardOutput), result.StandardOutput.Length > 300 ? result.StandardOutput[..300] : result.StandardOutput);
    }

    internal static string? ParseFirstHop(string mtrJson)
    {
        try
        {
            using var document = JsonDocument.Parse(mtrJson);
            var hubs = document.RootElement.GetProperty("report").GetProperty("hubs");
            foreach (var hub in hubs.EnumerateArray())
            {
                return hub.GetProperty("host").GetString();
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }

        return null;
    }
}

/// <summary>What the lab's counters say about a run of checks: no client's egress left through its own IGW (its 1:1
/// NAT counter did not move), the peering links dropped nothing (no edge-to-edge packets), the IGWs dropped nothing
/// (no internet-bound packet from an address without a public IP). A failed one says why in words.</summary>
public static class LabCounterChecks
{
    public const string NoClientEgressViaOwnIgw = "igw.no-client-egress";

    public const string PeeringDrops = "peering.edge-to-edge-drops";

    public const string IgwDrops = "igw.drops";

    public static IReadOnlyList<LabCheck> Evaluate(TopologyModel topology, LabCounters before, LabCounters after)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var checks = new List<LabCheck>();
        foreach (var client in topology.Hosts.Where(h => h.Role == HostRole.Client && h.HasPublicAddress))
        {
            var region = topology.RegionOf(client).Name;
            var crossed = after.IgwNatOut.GetValueOrDefault(client.Name) - before.IgwNatOut.GetValueOrDefault(client.Name);
            checks.Add(new LabCheck(NoClientEgressViaOwnIgw, client.Name, crossed == 0,
                crossed == 0
                    ? $"0 connections of {client.Name}'s egress crossed the {region} IGW"
                    : $"{crossed} connections from {client.Name} left through its own IGW ({region})"));
        }

        foreach (var (region, drops) in after.PeeringDrops)
        {
            var delta = drops - before.PeeringDrops.GetValueOrDefault(region);
            checks.Add(new LabCheck(PeeringDrops, region, delta == 0,
                delta == 0
                    ? "0 packets dropped on the peering link"
                    : $"the {region} VPC router dropped {delta} packets on the peering link: their destination is outside the peer VPC (AWS peering does no edge-to-edge routing)"));
        }

        foreach (var (region, drops) in after.IgwDrops)
        {
            var delta = drops - before.IgwDrops.GetValueOrDefault(region);
            checks.Add(new LabCheck(IgwDrops, region, delta == 0,
                delta == 0
                    ? "0 internet-bound packets dropped"
                    : $"the {region} IGW dropped {delta} internet-bound packets from addresses without a public IP"));
        }

        return checks;
    }
}
