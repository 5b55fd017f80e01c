using System.Globalization;
using Egress.Terminal;
using Egress.Verify.Probes;
using Spectre.Console;

namespace Egress.Verify.Reporting;

/// <summary>The report for people: verdict, checks (grouped over rounds), latency percentiles, path and egress identity.</summary>
public static class VerifyConsoleRenderer
{
    public static void Render(IAnsiConsole console, VerifyReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        Line(console, $"egress verify: {report.Stack} on {report.Environment}: {(report.Passed ? "PASS" : "FAIL")} ({report.PassedRounds}/{report.Rounds.Count} rounds passed; every round must pass)",
            report.Passed ? "green" : "red");
        if (!report.ColdLatencyBudget.Judged)
        {
            Line(console, report.LatencyEmulated
                ? $"the cold latency budget ({report.ColdLatencyBudget.MinMs}-{report.ColdLatencyBudget.MaxMs} ms) is {report.ColdLatencyBudget.Basis}"
                : $"latency emulation is off: the cold latency budget ({report.ColdLatencyBudget.MinMs}-{report.ColdLatencyBudget.MaxMs} ms) is not judged", "yellow");
        }

        var checks = new CliTable("Checks", new CliColumn("check"), new CliColumn("host"), new CliColumn("target"), new CliColumn("rounds"),
            new CliColumn("status"), new CliColumn("detail", Prose: true));
        foreach (var summary in report.Summaries())
        {
            var check = summary.Check;
            checks.AddRow(check.Id, check.Host, check.Target ?? "", $"{summary.RoundsPassed}/{summary.Rounds}",
                check.Status switch { CheckStatus.Pass => "pass", CheckStatus.Fail => "FAIL", _ => "not judged" }, summary.Detail);
        }

        checks.Write(console);

        // One row per phase and kind of request, the percentiles across: narrow enough for 80 columns.
        foreach (var latency in report.Latency)
        {
            var table = new CliTable($"Latency (ms) {latency.Client} -> {latency.Target}: {latency.Cold.Samples} cold, {latency.KeepAlive.Samples} keep-alive samples",
                new CliColumn("phase"), new CliColumn("requests"), new CliColumn("p50", RightAligned: true), new CliColumn("p90", RightAligned: true),
                new CliColumn("p99", RightAligned: true), new CliColumn("max", RightAligned: true));
            foreach (var phase in Enum.GetValues<Phase>())
            {
                table.AddRow([VerifyHtmlWriter.PhaseName(phase), "cold", .. Cells(latency.Cold, phase)]);
                table.AddRow([string.Empty, "keep-alive", .. Cells(latency.KeepAlive, phase)]);
            }

            table.Write(console);
        }

        foreach (var path in report.Paths)
        {
            var table = new CliTable($"Path {path.Client} -> {path.Trace.Target} ({path.Trace.Tool}, first hop expected {path.ExpectedFirstHop})",
                new CliColumn("hop", RightAligned: true), new CliColumn("address"), new CliColumn("loss %", RightAligned: true),
                new CliColumn("avg ms", RightAligned: true), new CliColumn("worst ms", RightAligned: true));
            foreach (var hop in path.Trace.Hops)
            {
                table.AddRow(hop.Number.ToString(CultureInfo.InvariantCulture), hop.Address, F(hop.LossPercent), F(hop.AvgMs), F(hop.WorstMs));
            }

            table.Write(console);
            if (path.Trace.Problem is { } problem)
            {
                Line(console, problem, "red");
            }
        }

        var egress = new CliTable("Egress identity", new CliColumn("client"), new CliColumn("gateway"), new CliColumn("expected"), new CliColumn("IP echo saw"), new CliColumn("org", Prose: true));
        foreach (var identity in report.Egress)
        {
            egress.AddRow(
                identity.Client,
                identity.Gateway,
                $"{identity.ExpectedIp ?? "?"} ({identity.ExpectedCity}, {identity.ExpectedCountry})",
                identity.Observed is { } o ? $"{o.Ip} ({o.City}, {o.Country})" : "no answer",
                identity.Observed?.Org ?? "");
        }

        egress.Write(console);
        foreach (var failure in report.Rounds.SelectMany(r => r.Checks.Where(c => c.Status == CheckStatus.Fail).Select(c => (r.Round, c))).Take(20))
        {
            Line(console, $"round {failure.Round}: {failure.c.Id} failed on {failure.c.Host}: {failure.c.Detail}", "red");
        }
    }

    /// <summary>Plain text in <paramref name="color"/>, broken between words to the console's width (never inside an
    /// address or id, which Spectre's own wrapping would split).</summary>
    private static void Line(IAnsiConsole console, string text, string? color)
    {
        foreach (var line in CliText.Wrap(text, console.Profile.Width).Split('\n'))
        {
            console.MarkupLine(color is null ? Markup.Escape(line) : $"[{color}]{Markup.Escape(line)}[/]");
        }
    }

    private static string[] Cells(LatencySummary summary, Phase phase) =>
        summary.Phases.TryGetValue(phase, out var s) ? [F(s.P50), F(s.P90), F(s.P99), F(s.Max)] : ["-", "-", "-", "-"];

    private static string F(double? value) => value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "-";
}
