using System.Globalization;
using System.Text.RegularExpressions;
using Egress.Processes;

namespace Egress.Verify.Probes;

/// <summary>A ping's outcome: how many of the judged echoes went out and came back, and their average round trip (ms).</summary>
public sealed record PingResult(int Transmitted, int Received, double? AvgMs, string? Problem)
{
    public bool Reachable => Problem is null && Received > 0 && Received == Transmitted;
}

public static partial class Ping
{
    /// <summary>Sends <paramref name="count"/> echoes, 0.2 s apart, and waits for each until a deadline of count + 2 s
    /// (ping's -w). Without a deadline, iputils ping gives up on the last echoes two round trips after sending them once
    /// any reply has come: a reply that is only late (a software-emulated VM busy after its boot) would count as lost.
    /// With it, ping sends on until count replies have come; <see cref="Parse"/> judges the first count echoes by their
    /// sequence numbers, so a late reply counts and a lost one still fails. <paramref name="options"/> go before the
    /// count (e.g. -M do -s SIZE -I DEV).</summary>
    public static CommandSpec To(string address, int count, params IEnumerable<string> options)
    {
        var n = count.ToString(CultureInfo.InvariantCulture);
        var deadline = (count + 2).ToString(CultureInfo.InvariantCulture);
        return new("ping", ["-n", .. options, "-c", n, "-i", "0.2", "-w", deadline, address]) { Timeout = TimeSpan.FromSeconds(10 + (count * 3)) };
    }

    /// <summary>Reads iputils ping's output for echoes 1..<paramref name="count"/>: each is answered when a reply line
    /// carries its sequence number (duplicates and later echoes aside). A missing summary is a problem, not an exception.</summary>
    public static PingResult Parse(CommandResult result, int count)
    {
        ArgumentNullException.ThrowIfNull(result);
        var counts = Counts().Match(result.StandardOutput);
        if (!counts.Success)
        {
            return new PingResult(0, 0, null, $"ping printed no summary (exit {result.ExitCode}{(Curl.FirstLine(result.StandardError) is { } e ? ": " + e : "")})");
        }

        var transmitted = Math.Min(count, int.Parse(counts.Groups["tx"].Value, CultureInfo.InvariantCulture));
        var answered = Reply().Matches(result.StandardOutput)
            .Select(m => (Seq: int.Parse(m.Groups["seq"].Value, CultureInfo.InvariantCulture), Ms: double.Parse(m.Groups["ms"].Value, CultureInfo.InvariantCulture)))
            .Where(r => r.Seq >= 1 && r.Seq <= transmitted)
            .DistinctBy(r => r.Seq)
            .ToList();
        return new PingResult(transmitted, answered.Count, answered.Count == 0 ? null : Math.Round(answered.Average(r => r.Ms), 3), null);
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

    [GeneratedRegex(@"(?<tx>\d+) packets transmitted, \d+ (?:packets )?received", RegexOptions.CultureInvariant)]
    private static partial Regex Counts();

    [GeneratedRegex(@"^\d+ bytes from \S+: icmp_seq=(?<seq>\d+) .*time=(?<ms>[\d.]+) ms$", RegexOptions.CultureInvariant | RegexOptions.Multiline)]
    private static partial Regex Reply();
}
