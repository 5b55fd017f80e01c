using System.Globalization;
using System.Text.RegularExpressions;
using Egress.Processes;

namespace Egress.Verify.Probes;

/// <summary>A ping's summary: how many echoes went out and came back, and the average round trip (ms).</summary>
public sealed record PingResult(int Transmitted, int Received, double? AvgMs, string? Problem)
{
    public bool Reachable => Problem is null && Received > 0 && Received == Transmitted;
}

public static partial class Ping
{
    public static CommandSpec To(string address, int count) =>
        new("ping", ["-n", "-c", count.ToString(CultureInfo.InvariantCulture), "-i", "0.2", "-W", "2", address]) { Timeout = TimeSpan.FromSeconds(10 + (count * 3)) };

    /// <summary>Reads iputils ping's summary lines; a missing summary is a problem, not an exception.</summary>
    public static PingResult Parse(CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var counts = Counts().Match(result.StandardOutput);
        if (!counts.Success)
        {
            return new PingResult(0, 0, null, $"ping printed no summary (exit {result.ExitCode}{(Curl.FirstLine(result.StandardError) is { } e ? ": " + e : "")})");
        }

        var transmitted = int.Parse(counts.Groups["tx"].Value, CultureInfo.InvariantCulture);
        var received = int.Parse(counts.Groups["rx"].Value, CultureInfo.InvariantCulture);
        var rtt = Rtt().Match(result.StandardOutput);
        double? avg = rtt.Success ? double.Parse(rtt.Groups["avg"].Value, CultureInfo.InvariantCulture) : null;
        return new PingResult(transmitted, received, avg, null);
    }

    /// <summary>Reachability from an mtr run to <paramref name="address"/>, for hosts without ping (mtr-tiny is enough):
    /// the last hop must be the address itself.</summary>
    public static PingResult FromTrace(string address, PathTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        if (trace.Hops.Count == 0)
        {
            return new PingResult(0, 0, null, $"ping is not installed; {trace.Problem}");
        }

        var last = trace.Hops[^1];
        if (last.Address != address)
        {
            return new PingResult(last.Sent, 0, null, $"ping is not installed; mtr's last hop is {last.Address}, not {address}");
        }

        var received = (int)Math.Round(last.Sent * (100 - last.LossPercent) / 100);
        return new PingResult(last.Sent, received, last.AvgMs, null);
    }

    [GeneratedRegex(@"(?<tx>\d+) packets transmitted, (?<rx>\d+) (?:packets )?received", RegexOptions.CultureInvariant)]
    private static partial Regex Counts();

    [GeneratedRegex(@"= [\d.]+/(?<avg>[\d.]+)/[\d.]+", RegexOptions.CultureInvariant)]
    private static partial Regex Rtt();
}
