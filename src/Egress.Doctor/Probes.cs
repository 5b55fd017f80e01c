using System.Globalization;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Rendering;

namespace Egress.Doctor;

/// <summary>The gateway's load, read in one command: its connection-tracking table against its limit, and the share of
/// CPU time the hypervisor stole over a short sample (how an exhausted t3 CPU credit balance shows inside the instance).</summary>
public static class GatewayProbe
{
    public static CommandSpec Command(TimeSpan sample) => new("sh",
    [
        "-c",
        """
        stat() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat; }
        a=$(stat); sleep "$1"; b=$(stat)
        echo "steal=$a $b"
        echo "conntrack=$(cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null) $(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null)"
        """,
        "gateway-probe",
        sample.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture),
    ])
    {
        Timeout = TimeSpan.FromSeconds(15),
    };

    public static IReadOnlyList<DoctorCheck> Judge(string host, CommandResult result, DoctorOptions options)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        var values = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => Numbers(kv[1]), StringComparer.Ordinal);
        var checks = new List<DoctorCheck>();
        const string StealExpected = "CPU steal under {0}% of the gateway's CPU time";
        var stealExpected = string.Format(CultureInfo.InvariantCulture, StealExpected, options.MaxStealPercent);
        if (values.TryGetValue("steal", out var s) && s.Count == 4 && s[3] > s[1])
        {
            var percent = 100 * (s[2] - s[0]) / (s[3] - s[1]);
            var seen = $"{percent:0.#}% stolen over {options.StealSample.TotalMilliseconds:0} ms";
            checks.Add(percent > options.MaxStealPercent
                ? DoctorCheck.Broken("gateway.cpu-steal", PathLink.Gateway, host, stealExpected, seen,
                    "the hypervisor is taking CPU from the gateway: a burstable instance (t3/t4g) out of CPU credits. Set unlimited credits, or a non-burstable instanceType (c7i, c6gn) in the topology, then 'egress apply'",
                    FixedBy.Topology)
                : DoctorCheck.Healthy("gateway.cpu-steal", PathLink.Gateway, host, stealExpected, seen));
        }
        else
        {
            checks.Add(DoctorCheck.Skipped("gateway.cpu-steal", PathLink.Gateway, host, stealExpected, $"not measured ({Problem(result)})"));
        }

        var conntrackExpected = string.Format(CultureInfo.InvariantCulture, "connection tracking under {0}% of nf_conntrack_max", options.MaxConntrackPercent);
        if (values.TryGetValue("conntrack", out var c) && c.Count == 2 && c[1] > 0)
        {
            var percent = 100 * c[0] / c[1];
            var seen = $"{c[0]:0} of {c[1]:0} entries ({percent:0.#}%)";
            checks.Add(percent > options.MaxConntrackPercent
                ? DoctorCheck.Broken("gateway.conntrack", PathLink.Gateway, host, conntrackExpected, seen,
                    "new connections are dropped once the table is full: raise tunings.conntrackMax in the topology (or a larger instance), then 'egress-host apply'",
                    FixedBy.Topology)
                : DoctorCheck.Healthy("gateway.conntrack", PathLink.Gateway, host, conntrackExpected, seen));
        }
        else
        {
            checks.Add(DoctorCheck.Skipped("gateway.conntrack", PathLink.Gateway, host, conntrackExpected, "not measured (no connection tracking loaded yet)"));
        }

        return checks;
    }

    private static List<double> Numbers(string text) =>
        [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN).Where(v => !double.IsNaN(v))];

    private static string Problem(CommandResult result) =>
        result.Succeeded ? "unreadable /proc/stat" : $"exit {result.ExitCode}: {result.StandardError.Trim()}";
}

/// <summary>How long names take to resolve on a host through its system resolver, timed inside curl
/// (<c>time_namelookup</c>, getaddrinfo as every program uses it) so the cost of starting processes on a busy machine is
/// not counted. curl binds to 127.0.0.1, so its connection fails at once and no packet leaves for the target; getent
/// then names the answer (after curl, so a caching resolver's first answer is the one timed).</summary>
public static class Resolve
{
    public static CommandSpec Command(IReadOnlyList<string> names) => new("sh",
    [
        "-c",
        """
        for n; do
          t=$(curl -s -o /dev/null --interface 127.0.0.1 --connect-timeout 10 -w '%{time_namelookup}' "http://$n:1/")
          a=$(getent ahostsv4 "$n" | awk 'NR == 1 { print $1 }')
          echo "$n ${t:-x} ${a:-none}"
        done
        """,
        "resolve",
        .. names,
    ])
    {
        Timeout = TimeSpan.FromSeconds(20 + (15 * names.Count)),
    };

    /// <summary>One check per host: every name resolves within <paramref name="slow"/>.</summary>
    public static DoctorCheck Judge(string host, IReadOnlyList<string> names, CommandResult result, TimeSpan slow)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(names);
        var expected = $"{string.Join(", ", names)} resolve within {slow.TotalMilliseconds:0} ms";
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ')).Where(p => p.Length == 3 && double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            .ToDictionary(p => p[0], p => (Ms: (int)Math.Round(double.Parse(p[1], CultureInfo.InvariantCulture) * 1000), Answer: p[2]), StringComparer.OrdinalIgnoreCase);
        if (names.Any(n => !lines.ContainsKey(n)))
        {
            return DoctorCheck.Broken("dns.time", PathLink.Dns, host, expected, $"could not time the lookups (exit {result.ExitCode}: {result.StandardError.Trim()})",
                "check the host's resolver ('resolvectl status' or /etc/resolv.conf) and that curl is installed", FixedBy.Manual);
        }

        var timed = names.Select(n => (Name: n, Net: lines[n].Ms, lines[n].Answer)).ToList();
        var seen = string.Join("; ", timed.Select(t => t.Answer == "none" ? $"{t.Name}: no address after {t.Net} ms" : $"{t.Name}: {t.Answer} in {t.Net} ms"));
        var bad = timed.Where(t => t.Net > slow.TotalMilliseconds || t.Answer == "none").ToList();
        return bad.Count == 0
            ? DoctorCheck.Healthy("dns.time", PathLink.Dns, host, expected, seen)
            : DoctorCheck.Broken("dns.time", PathLink.Dns, host, expected, seen,
                "every new connection pays this before it starts: point the host at a resolver that answers fast (the VPC resolver, 169.254.169.253), or pin the names in /etc/hosts as the seed's troubleshooting suggests",
                FixedBy.Manual);
    }
}

/// <summary>Whether a host's uplink carries its tunnels' packets once the overlay's header is added: a tunnel MTU above
/// what the uplink carries (a raised tunnel MTU, or an uplink whose MTU is lower than the topology's underlayMtu) sends
/// packets that are fragmented or, with DF, dropped.</summary>
public static class UplinkMtu
{
    public static readonly CommandSpec Command = new("sh", ["-c", "for d in /sys/class/net/*; do echo \"${d##*/} $(cat \"$d/mtu\")\"; done"])
    {
        Timeout = TimeSpan.FromSeconds(15),
    };

    public static DoctorCheck Judge(string host, CheckReport report, IReadOnlyList<string> tunnels, OverlayMode mode, CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(result);
        var mtus = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ')).Where(p => p.Length == 2 && int.TryParse(p[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            .ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var uplink = report.Invariants.FirstOrDefault(i => i.Name == "uplink.found" && i.Ok)?.Detail.Split(' ')[^1];
        var overhead = Mtu.Overhead(mode);
        var expected = $"each tunnel's MTU + {overhead} bytes of {mode.ToString().ToLowerInvariant()} header within the uplink's MTU";
        if (uplink is null || !mtus.TryGetValue(uplink, out var uplinkMtu) || tunnels.Any(t => !mtus.ContainsKey(t)))
        {
            return DoctorCheck.Skipped("path.uplink-mtu", PathLink.Tunnel, host, expected, $"not read (uplink {uplink ?? "unknown"}; exit {result.ExitCode})");
        }

        var over = tunnels.Where(t => mtus[t] + overhead > uplinkMtu).ToList();
        var seen = string.Join(", ", tunnels.Select(t => $"{t} {mtus[t]} + {overhead} = {mtus[t] + overhead}")) + $"; {uplink} mtu {uplinkMtu}";
        return over.Count == 0
            ? DoctorCheck.Healthy("path.uplink-mtu", PathLink.Tunnel, host, expected, seen)
            : DoctorCheck.Broken("path.uplink-mtu", PathLink.Tunnel, host, expected, seen,
                $"the path carries {uplinkMtu} bytes: set overlay.underlayMtu: {uplinkMtu} in the topology (tunnel MTU {Mtu.Tunnel(uplinkMtu, mode)}) and re-apply, or restore the uplink's MTU",
                FixedBy.Topology);
    }
}
