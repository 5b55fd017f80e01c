using System.Globalization;
using System.Net;
using System.Text;
using Egress.Verify.Probes;

namespace Egress.Verify.Reporting;

/// <summary>Writes a self-contained HTML report (inline CSS and SVG, no script, no external resource): the verdict,
/// every failed check, per client and target the cold and keep-alive latency CDFs of each phase, the path and the
/// egress identity.</summary>
public static class VerifyHtmlWriter
{
    private const int Width = 360;
    private const int Height = 220;
    private const int Left = 48;
    private const int Right = 12;
    private const int Top = 12;
    private const int Bottom = 36;

    public static string Write(VerifyReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append(CultureInfo.InvariantCulture, $"<title>egress verify: {E(report.Stack)} ({E(report.Environment)}) {(report.Passed ? "PASS" : "FAIL")}</title>\n")
            .Append("<style>\n")
            .Append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n")
            .Append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em}\n")
            .Append(".pass{color:#17803d}.fail{color:#c0262d;font-weight:bold}.not-judged{color:#8a6d00}\n")
            .Append(".charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:.9em;font-weight:bold}\n")
            .Append("svg.cdf{background:#fafafa;border:1px solid #ddd}.axis{stroke:#555;stroke-width:1}.grid{stroke:#e3e3e3;stroke-width:1}\n")
            .Append(".cdf-cold{fill:none;stroke:#1f5fbf;stroke-width:2}.cdf-keepalive{fill:none;stroke:#e07b00;stroke-width:2}\n")
            .Append("text{font-size:10px;fill:#333}\n")
            .Append("</style>\n</head>\n<body>\n");

        var verdict = report.Passed ? "<span class=\"pass\">PASS</span>" : "<span class=\"fail\">FAIL</span>";
        html.Append(CultureInfo.InvariantCulture, $"<h1>egress verify: {E(report.Stack)} on {E(report.Environment)} — {verdict}</h1>\n")
            .Append(CultureInfo.InvariantCulture, $"<p>{report.PassedRounds}/{report.Rounds.Count} rounds passed (every round must pass). ")
            .Append(CultureInfo.InvariantCulture, $"Started {report.StartedAt:yyyy-MM-dd HH:mm:ss} UTC, finished {report.FinishedAt:HH:mm:ss} UTC. ")
            .Append(CultureInfo.InvariantCulture, $"Cold latency budget {report.ColdLatencyBudget.MinMs}–{report.ColdLatencyBudget.MaxMs} ms: {E(report.ColdLatencyBudget.Basis)}.</p>\n");

        WriteChecks(html, report);
        WriteLatency(html, report);
        WritePaths(html, report);
        WriteEgress(html, report);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void WriteChecks(StringBuilder html, VerifyReport report)
    {
        html.Append("<h2>Checks</h2>\n<table class=\"checks\">\n<tr><th>check</th><th>host</th><th>target</th><th>rounds passed</th><th>status</th><th>detail (last round, or first failure)</th></tr>\n");
        foreach (var summary in report.Summaries())
        {
            var check = summary.Check;
            var label = VerifyJsonWriter.Name(check.Status);
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{E(check.Id)}</td><td>{E(check.Host)}</td><td>{E(check.Target ?? "")}</td><td>{summary.RoundsPassed}/{summary.Rounds}</td><td class=\"{label}\">{label}</td><td>{E(summary.Detail)}</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void WriteLatency(StringBuilder html, VerifyReport report)
    {
        html.Append("<h2>Latency</h2>\n<p>Cumulative distribution of each phase over all rounds: <span style=\"color:#1f5fbf\">■ cold</span> (a new connection each) and <span style=\"color:#e07b00\">■ keep-alive</span> (requests on a reused connection).</p>\n");
        foreach (var latency in report.Latency)
        {
            html.Append(CultureInfo.InvariantCulture, $"<h3>{E(latency.Client)} → {E(latency.Target)}</h3>\n");
            html.Append("<table class=\"percentiles\">\n<tr><th>phase</th><th>cold p50</th><th>p90</th><th>p99</th><th>max</th><th>keep-alive p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n");
            foreach (var phase in Enum.GetValues<Phase>())
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{PhaseName(phase)}</td>{Cells(latency.Cold, phase)}{Cells(latency.KeepAlive, phase)}</tr>\n");
            }

            html.Append(CultureInfo.InvariantCulture, $"</table>\n<p>{latency.Cold.Samples} cold and {latency.KeepAlive.Samples} keep-alive samples (ms).</p>\n<div class=\"charts\">\n");
            foreach (var phase in Enum.GetValues<Phase>())
            {
                html.Append(Chart(latency, phase));
            }

            html.Append("</div>\n");
        }
    }

    private static string Cells(LatencySummary summary, Phase phase) =>
        summary.Phases.TryGetValue(phase, out var s)
            ? string.Create(CultureInfo.InvariantCulture, $"<td>{s.P50:0.###}</td><td>{s.P90:0.###}</td><td>{s.P99:0.###}</td><td>{s.Max:0.###}</td>")
            : "<td>–</td><td>–</td><td>–</td><td>–</td>";

    /// <summary>One phase's CDF chart: x = milliseconds (0 to a rounded maximum), y = fraction of samples at or below.</summary>
    internal static string Chart(TargetLatency latency, Phase phase)
    {
        var cold = latency.ColdSamples.Select(s => s.Of(phase)).ToList();
        var warm = latency.KeepAliveSamples.Select(s => s.Of(phase)).ToList();
        var max = NiceCeiling(cold.Concat(warm).DefaultIfEmpty(0).Max());
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        double X(double ms) => Left + (ms / max * plotWidth);
        double Y(double fraction) => Top + ((1 - fraction) * plotHeight);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<figure><figcaption>{PhaseName(phase)}</figcaption><svg class=\"cdf\" data-phase=\"{VerifyJsonWriter.Name(phase)}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{PhaseName(phase)} CDF, {E(latency.Client)} to {E(latency.Target)}\">\n");
        for (var i = 0; i <= 4; i++)
        {
            var fraction = i / 4.0;
            var ms = max * i / 4.0;
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" y1=\"{Y(fraction):0.#}\" x2=\"{Width - Right}\" y2=\"{Y(fraction):0.#}\"/>")
               .Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 4}\" y=\"{Y(fraction) + 3:0.#}\" text-anchor=\"end\">{fraction:0.##}</text>")
               .Append(CultureInfo.InvariantCulture, $"<text x=\"{X(ms):0.#}\" y=\"{Height - Bottom + 14}\" text-anchor=\"middle\">{ms:0.###}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\"/>")
           .Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\"/>\n")
           .Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + (plotWidth / 2)}\" y=\"{Height - 6}\" text-anchor=\"middle\">ms</text>\n");
        AppendStep(svg, "cdf-cold", cold, X, Y);
        AppendStep(svg, "cdf-keepalive", warm, X, Y);
        svg.Append("</svg></figure>\n");
        return svg.ToString();
    }

    private static void AppendStep(StringBuilder svg, string cssClass, IReadOnlyList<double> values, Func<double, double> x, Func<double, double> y)
    {
        if (values.Count == 0)
        {
            return;
        }

        var d = new StringBuilder();
        d.Append(CultureInfo.InvariantCulture, $"M{x(0):0.##},{y(0):0.##}");
        foreach (var (value, fraction) in Statistics.Cdf(values))
        {
            d.Append(CultureInfo.InvariantCulture, $" H{x(value):0.##} V{y(fraction):0.##}");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<path class=\"{cssClass}\" d=\"{d}\"><title>{values.Count} samples</title></path>\n");
    }

    private static void WritePaths(StringBuilder html, VerifyReport report)
    {
        html.Append("<h2>Path (last round)</h2>\n");
        foreach (var path in report.Paths)
        {
            html.Append(CultureInfo.InvariantCulture, $"<h3>{E(path.Client)} → {E(path.Trace.Target)} ({E(path.Trace.Tool)}; first hop expected {E(path.ExpectedFirstHop)})</h3>\n");
            if (path.Trace.Problem is { } problem)
            {
                html.Append(CultureInfo.InvariantCulture, $"<p class=\"fail\">{E(problem)}</p>\n");
            }

            html.Append("<table class=\"hops\">\n<tr><th>hop</th><th>address</th><th>loss %</th><th>sent</th><th>avg ms</th><th>best ms</th><th>worst ms</th></tr>\n");
            foreach (var hop in path.Trace.Hops)
            {
                html.Append(CultureInfo.InvariantCulture,
                    $"<tr><td>{hop.Number}</td><td>{E(hop.Address)}</td><td>{hop.LossPercent:0.#}</td><td>{hop.Sent}</td><td>{Ms(hop.AvgMs)}</td><td>{Ms(hop.BestMs)}</td><td>{Ms(hop.WorstMs)}</td></tr>\n");
            }

            html.Append("</table>\n");
        }
    }

    private static void WriteEgress(StringBuilder html, VerifyReport report)
    {
        html.Append("<h2>Egress identity (last round)</h2>\n<table class=\"egress\">\n<tr><th>client</th><th>gateway</th><th>expected</th><th>IP echo saw</th><th>org</th></tr>\n");
        foreach (var identity in report.Egress)
        {
            var observed = identity.Observed is { } o ? $"{o.Ip} ({o.City}, {o.Country})" : "no answer";
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{E(identity.Client)}</td><td>{E(identity.Gateway)}</td><td>{E($"{identity.ExpectedIp ?? "?"} ({identity.ExpectedCity}, {identity.ExpectedCountry})")}</td><td>{E(observed)}</td><td>{E(identity.Observed?.Org ?? "")}</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    internal static string PhaseName(Phase phase) => phase switch
    {
        Phase.Dns => "DNS",
        Phase.Connect => "TCP connect",
        Phase.Tls => "TLS",
        Phase.Ttfb => "TTFB",
        Phase.Total => "total",
        _ => phase.ToString(),
    };

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="value"/> (and at least 1 ms).</summary>
    internal static double NiceCeiling(double value)
    {
        if (value <= 1)
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }

    private static string Ms(double? value) => value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "–";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
