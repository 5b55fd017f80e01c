using System.Globalization;
using Egress.Processes;

namespace Egress.Verify.Probes;

/// <summary>How a host's system resolver answers names, and how long it takes: for each name two lookups in a row with
/// <c>getent ahostsv4</c> (the resolver every program uses: /etc/hosts, then /etc/resolv.conf's nameserver), timed with
/// <c>date +%s%N</c>. The first lookup is cold unless something cached the name before (an earlier round, the host's own
/// use); the second is answered from the stub's or forwarder's cache.</summary>
public static class DnsLookup
{
    /// <summary>Prints "- BASE_US" (the quicker of two lookups of localhost, which /etc/hosts answers: what starting getent
    /// and reading the clock cost), then one line per name: NAME FIRST_US REPEAT_US ADDRESS... ("-" when it does not resolve).</summary>
    private const string Script =
        "t() { s=$(date +%s%N); getent ahostsv4 \"$1\" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }; " +
        "b=$(t localhost); c=$(t localhost); [ \"$c\" -lt \"$b\" ] && b=$c; echo \"- $b\"; " +
        "for n; do s=$(date +%s%N); a=$(getent ahostsv4 \"$n\" | awk '$2 == \"STREAM\" { printf \" %s\", $1 }'); " +
        "m=$(date +%s%N); getent ahostsv4 \"$n\" >/dev/null; e=$(date +%s%N); " +
        "echo \"$n $(( (m - s) / 1000 )) $(( (e - m) / 1000 ))${a:- -}\"; done";

    public static CommandSpec Command(IEnumerable<string> names) =>
        new("sh", ["-c", Script, "dns", .. names]) { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>True for a command <see cref="Command"/> made; its names are the arguments after "dns".</summary>
    public static bool IsLookup(CommandSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Program == "sh" && spec.Arguments.Count > 2 && spec.Arguments[1] == Script && spec.Arguments[2] == "dns";
    }

    /// <summary>One name's answer: its IPv4 addresses (empty: it does not resolve) and the two lookups' times, net of what
    /// starting getent costs (the localhost baseline; never below 0).</summary>
    public sealed record Answer(string Name, IReadOnlyList<string> Addresses, double FirstMs, double RepeatMs);

    /// <summary>The answers by name; a line that does not parse is skipped (the caller reports a name without an answer).</summary>
    public static IReadOnlyDictionary<string, Answer> Parse(CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var answers = new Dictionary<string, Answer>(StringComparer.OrdinalIgnoreCase);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var baseline = 0L;
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is ["-", var b] && long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                baseline = parsed;
            }
        }

        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 4
                || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                || !long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var repeat))
            {
                continue;
            }

            var addresses = fields.Skip(3).Where(a => a != "-").Distinct().ToList();
            answers[fields[0]] = new Answer(fields[0], addresses, Math.Max(0, first - baseline) / 1000.0, Math.Max(0, repeat - baseline) / 1000.0);
        }

        return answers;
    }
}
