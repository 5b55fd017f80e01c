using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Egress.Processes;

namespace Egress.Verify.Probes;

/// <summary>One hop of a path: its address ("???" when it never answered), loss and round-trip times in ms.</summary>
public sealed record Hop(int Number, string Address, double LossPercent, int Sent, double? LastMs, double? AvgMs, double? BestMs, double? WorstMs)
{
    public bool Answered => Address != "???" && LossPercent < 100;
}

/// <summary>A path to a target as mtr (or traceroute) saw it; <see cref="Problem"/> is set when the output was unusable.</summary>
public sealed record PathTrace(string Tool, string Target, IReadOnlyList<Hop> Hops, string? Problem);

/// <summary>Builds mtr and traceroute invocations and reads their output without ever throwing.</summary>
public static partial class PathProbe
{
    public static CommandSpec Mtr(string target, int cycles) =>
        new("mtr", ["--json", "-n", "-G", "1", "-c", cycles.ToString(CultureInfo.InvariantCulture), target]) { Timeout = TimeSpan.FromSeconds(30 + (cycles * 2)) };

    public static CommandSpec Traceroute(string target) =>
        new("traceroute", ["-n", "-q", "1", "-w", "2", "-m", "15", target]) { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>True when the run shows the program is not installed (so the fallback should run).</summary>
    public static bool NotInstalled(CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.ExitCode == 127 || result.StandardError.Contains("not found", StringComparison.OrdinalIgnoreCase)
            || result.StandardError.Contains("No such file", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Reads <c>mtr --json</c>: report.hubs[] with host, Loss%, Snt, Last, Avg, Best, Wrst.</summary>
    public static PathTrace ParseMtr(string target, CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = result.StandardOutput.Trim();
        if (text.Length == 0)
        {
            return new PathTrace("mtr", target, [], $"mtr printed nothing (exit {result.ExitCode}{Suffix(result)})");
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("report", out var report)
                || report.ValueKind != JsonValueKind.Object
                || !report.TryGetProperty("hubs", out var hubs)
                || hubs.ValueKind != JsonValueKind.Array)
            {
                return new PathTrace("mtr", target, [], "mtr's JSON has no report.hubs list");
            }

            var hops = new List<Hop>();
            foreach (var hub in hubs.EnumerateArray())
            {
                if (hub.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var number = (int)(Number(hub, "count") ?? hops.Count + 1);
                var loss = Number(hub, "Loss%") ?? 100;
                double? Time(string name) => loss >= 100 ? null : Number(hub, name); // mtr prints 0.0 for a hop that never answered
                hops.Add(new Hop(
                    number,
                    hub.TryGetProperty("host", out var host) && host.ValueKind == JsonValueKind.String ? host.GetString()! : "???",
                    loss,
                    (int)(Number(hub, "Snt") ?? 0),
                    Time("Last"),
                    Time("Avg"),
                    Time("Best"),
                    Time("Wrst")));
            }

            return hops.Count == 0
                ? new PathTrace("mtr", target, [], $"mtr reported no hops to {target} (exit {result.ExitCode}{Suffix(result)})")
                : new PathTrace("mtr", target, hops, result.ExitCode == 0 ? null : $"mtr exited {result.ExitCode}{Suffix(result)}");
        }
        catch (JsonException)
        {
            return new PathTrace("mtr", target, [], $"mtr's output is not JSON: {Curl.Shorten(text)}");
        }
    }

    /// <summary>Reads <c>traceroute -n -q 1</c>: " 1  192.168.250.1  0.123 ms" or " 2  *".</summary>
    public static PathTrace ParseTraceroute(string target, CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var hops = new List<Hop>();
        foreach (var line in result.StandardOutput.Split('\n'))
        {
            var match = HopLine().Match(line);
            if (!match.Success)
            {
                continue;
            }

            var number = int.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            if (match.Groups["addr"].Success)
            {
                var ms = double.Parse(match.Groups["ms"].Value, CultureInfo.InvariantCulture);
                hops.Add(new Hop(number, match.Groups["addr"].Value, 0, 1, ms, ms, ms, ms));
            }
            else
            {
                hops.Add(new Hop(number, "???", 100, 1, null, null, null, null));
            }
        }

        return hops.Count == 0
            ? new PathTrace("traceroute", target, [], $"traceroute reported no hops to {target} (exit {result.ExitCode}{Suffix(result)})")
            : new PathTrace("traceroute", target, hops, null);
    }

    private static double? Number(JsonElement hub, string name)
    {
        if (!hub.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetDouble(),
            JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
    }

    private static string Suffix(CommandResult result) => Curl.FirstLine(result.StandardError) is { } line ? ": " + line : "";

    [GeneratedRegex(@"^\s*(?<n>\d+)\s+(?:(?<addr>\d{1,3}(?:\.\d{1,3}){3})\s+(?<ms>\d+(?:\.\d+)?)\s*ms|\*)", RegexOptions.CultureInvariant)]
    private static partial Regex HopLine();
}
