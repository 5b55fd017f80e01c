using System.Globalization;
using System.Text.Json;
using Egress.Processes;

namespace Egress.Verify.Probes;

/// <summary>One HTTP transfer as curl's <c>-w '%{json}'</c> write-out describes it. Times are milliseconds since the
/// transfer started, as curl reports them (cumulative).</summary>
public sealed record CurlSample
{
    public required string Url { get; init; }

    /// <summary>curl's exit code for this transfer (0 ok, 28 timeout, 6 name not resolved, 7 connect failed, ...).</summary>
    public int ExitCode { get; init; }

    public string? ErrorMessage { get; init; }

    public int HttpCode { get; init; }

    /// <summary>New connections this transfer opened: 0 means it reused one.</summary>
    public int NumConnects { get; init; }

    public string? RemoteIp { get; init; }

    public double NameLookupMs { get; init; }

    public double ConnectMs { get; init; }

    public double AppConnectMs { get; init; }

    public double StartTransferMs { get; init; }

    public double TotalMs { get; init; }

    public bool Succeeded => ExitCode == 0 && HttpCode is >= 200 and < 300;

    /// <summary>The phases of this transfer (durations, never negative).</summary>
    public PhaseTimes Phases => new(
        Dns: NameLookupMs,
        Connect: Math.Max(0, ConnectMs - NameLookupMs),
        Tls: AppConnectMs > 0 ? Math.Max(0, AppConnectMs - ConnectMs) : 0,
        Ttfb: StartTransferMs,
        Total: TotalMs);

    /// <summary>What went wrong, in words, or null when the transfer succeeded.</summary>
    public string? Failure => (ExitCode, HttpCode) switch
    {
        (0, >= 200 and < 300) => null,
        (0, 451) => $"HTTP 451 Unavailable For Legal Reasons from {Url}: the target refuses the egress location",
        (0, var code) => $"HTTP {code} from {Url}",
        (28, _) => $"timed out: {Url} ({ErrorMessage ?? "curl exit 28"})",
        var (exit, _) => $"curl exit {exit}: {ErrorMessage ?? "no message"} ({Url})",
    };
}

/// <summary>The durations of one transfer's phases in milliseconds: DNS = time_namelookup, Connect = the TCP handshake
/// (time_connect − time_namelookup), TLS = time_appconnect − time_connect, TTFB = time_starttransfer, Total = time_total.</summary>
public readonly record struct PhaseTimes(double Dns, double Connect, double Tls, double Ttfb, double Total)
{
    public double Of(Phase phase) => phase switch
    {
        Phase.Dns => Dns,
        Phase.Connect => Connect,
        Phase.Tls => Tls,
        Phase.Ttfb => Ttfb,
        Phase.Total => Total,
        _ => throw new ArgumentOutOfRangeException(nameof(phase)),
    };
}

public enum Phase
{
    Dns,
    Connect,
    Tls,
    Ttfb,
    Total,
}

/// <summary>What a curl run produced: the transfers it described, and every problem with its output.</summary>
public sealed record CurlOutput(IReadOnlyList<CurlSample> Samples, IReadOnlyList<string> Problems, string Body);

/// <summary>Builds curl invocations and reads their <c>%{json}</c> write-outs defensively: a broken line, a missing
/// write-out or a non-JSON line becomes a problem in the result, never an exception.</summary>
public static class Curl
{
    private const string WriteOut = "%{json}\\n";

    /// <summary>One transfer in its own process: a new connection (a cold sample).</summary>
    public static CommandSpec Cold(Uri url, TimeSpan timeout) => KeepAlive(url, 1, timeout);

    /// <summary>One process fetching <paramref name="url"/> <paramref name="count"/> times: curl keeps the connection
    /// alive between them, and <c>num_connects</c> says whether it did. <c>--fail-early</c> stops at the first failed
    /// transfer, so a dead path costs one timeout, not <paramref name="count"/>.</summary>
    public static CommandSpec KeepAlive(Uri url, int count, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(url);
        var arguments = new List<string> { "--silent", "--show-error", "--max-time", Seconds(timeout), "--write-out", WriteOut };
        if (count > 1)
        {
            arguments.Add("--fail-early");
        }

        for (var i = 0; i < count; i++)
        {
            arguments.AddRange(["--output", "/dev/null", url.AbsoluteUri]);
        }

        return new CommandSpec("curl", arguments) { Timeout = timeout * count + TimeSpan.FromSeconds(5) };
    }

    /// <summary>One transfer whose body is kept: the body, a newline, then the write-out on the last line.</summary>
    public static CommandSpec WithBody(Uri url, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(url);
        return new CommandSpec("curl", ["--silent", "--show-error", "--max-time", Seconds(timeout), "--write-out", "\\n" + WriteOut, url.AbsoluteUri])
        {
            Timeout = timeout + TimeSpan.FromSeconds(5),
        };
    }

    /// <summary>Reads the write-outs of a run that expected <paramref name="expected"/> transfers.</summary>
    public static CurlOutput Parse(CommandResult result, int expected)
    {
        ArgumentNullException.ThrowIfNull(result);
        var samples = new List<CurlSample>();
        var problems = new List<string>();
        var bodyLines = new List<string>();
        var lines = result.StandardOutput.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        foreach (var line in lines)
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0)
            {
                bodyLines.Add(line);
                continue;
            }

            if (trimmed.StartsWith('{') && trimmed.Contains("\"time_total\"", StringComparison.Ordinal))
            {
                var sample = TryReadSample(trimmed, out var problem);
                if (sample is not null)
                {
                    samples.Add(sample);
                }
                else
                {
                    problems.Add(problem!);
                }

                continue;
            }

            if (trimmed.StartsWith("{\"certs\"", StringComparison.Ordinal) || trimmed.StartsWith("{\"content_type\"", StringComparison.Ordinal))
            {
                problems.Add($"a curl write-out is cut short: {Shorten(trimmed)}");
                continue;
            }

            bodyLines.Add(line);
        }

        if (samples.Count < expected)
        {
            var stderr = FirstLine(result.StandardError);
            problems.Add(samples.Count == 0 && result.StandardOutput.Trim().Length == 0
                ? $"curl printed nothing (exit {result.ExitCode}{(stderr is null ? "" : ": " + stderr)})"
                : $"expected {expected} curl write-out(s), got {samples.Count} (exit {result.ExitCode}{(stderr is null ? "" : ": " + stderr)})");
        }
        else if (samples.Count > expected)
        {
            problems.Add($"expected {expected} curl write-out(s), got {samples.Count}");
        }

        return new CurlOutput(samples, problems, string.Join('\n', bodyLines).Trim());
    }

    private static CurlSample? TryReadSample(string line, out string? problem)
    {
        problem = null;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = $"a curl write-out is not a JSON object: {Shorten(line)}";
                return null;
            }

            return new CurlSample
            {
                Url = String(root, "url_effective") ?? String(root, "url") ?? "(unknown url)",
                ExitCode = (int)Number(root, "exitcode"),
                ErrorMessage = String(root, "errormsg") is { Length: > 0 } message ? message : null,
                HttpCode = (int)Number(root, "http_code", Number(root, "response_code")),
                NumConnects = (int)Number(root, "num_connects"),
                RemoteIp = String(root, "remote_ip") is { Length: > 0 } ip ? ip : null,
                NameLookupMs = Number(root, "time_namelookup") * 1000,
                ConnectMs = Number(root, "time_connect") * 1000,
                AppConnectMs = Number(root, "time_appconnect") * 1000,
                StartTransferMs = Number(root, "time_starttransfer") * 1000,
                TotalMs = Number(root, "time_total") * 1000,
            };
        }
        catch (JsonException ex)
        {
            problem = $"a curl write-out is not valid JSON ({ex.Message.Split('.')[0]}): {Shorten(line)}";
            return null;
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double Number(JsonElement root, string name, double fallback = 0)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return fallback;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetDouble(),
            JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => fallback,
        };
    }

    private static string Seconds(TimeSpan timeout) => timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    internal static string Shorten(string text) => text.Length <= 120 ? text : text[..117] + "...";

    internal static string? FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
}
