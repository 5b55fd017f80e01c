using System.Globalization;
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
        var verdict = report.Passed ? "[green]PASS[/]" : "[red]FAIL[/]";
        console.MarkupLine($"egress verify: [bold]{Markup.Escape(report.Stack)}[/] on {Markup.Escape(report.Environment)}: {verdict} ({report.PassedRounds}/{report.Rounds.Count} rounds passed; every round must pass)");
        if (!report.ColdLatencyBudget.Judged)
        {
            console.MarkupLine(report.LatencyEmulated
                ? $"[yellow]the cold latency budget ({report.ColdLatencyBudget.MinMs}-{report.ColdLatencyBudget.MaxMs} ms) is {Markup.Escape(report.ColdLatencyBudget.Basis)}[/]"
                : $"[yellow]latency emulation is off: the cold latency budget ({report.ColdLatencyBudget.MinMs}-{report.ColdLatencyBudget.MaxMs} ms) is not judged[/]");
        }

        var checks = new Table().Title("Checks").AddColumns("check", "host", "target", "rounds", "status", "detail");
        foreach (var summary in report.Summaries())
        {
            var check = summary.Check;
            checks.AddRow(
                Markup.Escape(check.Id),
                Markup.Escape(check.Host),
                Markup.Escape(check.Target ?? ""),
                $"{summary.RoundsPassed}/{summary.Rounds}",
                check.Status switch { CheckStatus.Pass => "[green]pass[/]", CheckStatus.Fail => "[red]FAIL[/]", _ => "[yellow]not judged[/]" },
                Markup.Escape(summary.Detail));
        }

        console.Write(checks);

        foreach (var latency in report.Latency)
        {
            var table = new Table()
                .Title($"Latency (ms) {Markup.Escape(latency.Client)} -> {Markup.Escape(latency.Target)}: {latency.Cold.Samples} cold, {latency.KeepAlive.Samples} keep-alive samples")
                .AddColumns("phase", "cold p50", "p90", "p99", "max", "keep-alive p50", "p90", "p99", "max");
            foreach (var phase in Enum.GetValues<Phase>())
            {
                table.AddRow([VerifyHtmlWriter.PhaseName(phase), .. Cells(latency.Cold, phase), .. Cells(latency.KeepAlive, phase)]);
            }

            console.Write(table);
        }

        foreach (var path in report.Paths)
        {
            var table = new Table()
                .Title($"Path {Markup.Escape(path.Client)} -> {Markup.Escape(path.Trace.Target)} ({Markup.Escape(path.Trace.Tool)}, first hop expected {Markup.Escape(path.ExpectedFirstHop)})")
                .AddColumns("hop", "address", "loss %", "avg ms", "worst ms");
            foreach (var hop in path.Trace.Hops)
            {
                table.AddRow(hop.Number.ToString(CultureInfo.InvariantCulture), Markup.Escape(hop.Address), F(hop.LossPercent), F(hop.AvgMs), F(hop.WorstMs));
            }

            console.Write(table);
            if (path.Trace.Problem is { } problem)
            {
                console.MarkupLine($"[red]{Markup.Escape(problem)}[/]");
            }
        }

        var egress = new Table().Title("Egress identity").AddColumns("client", "gateway", "expected", "IP echo saw", "org");
        foreach (var identity in report.Egress)
        {
            egress.AddRow(
                Markup.Escape(identity.Client),
                Markup.Escape(identity.Gateway),
                Markup.Escape($"{identity.ExpectedIp ?? "?"} ({identity.ExpectedCity}, {identity.ExpectedCountry})"),
                Markup.Escape(identity.Observed is { } o ? $"{o.Ip} ({o.City}, {o.Country})" : "no answer"),
                Markup.Escape(identity.Observed?.Org ?? ""));
        }

        console.Write(egress);
        foreach (var failure in report.Rounds.SelectMany(r => r.Checks.Where(c => c.Status == CheckStatus.Fail).Select(c => (r.Round, c))).Take(20))
        {
            console.MarkupLine($"[red]round {failure.Round}: {Markup.Escape(failure.c.Id)} failed on {Markup.Escape(failure.c.Host)}: {Markup.Escape(failure.c.Detail)}[/]");
        }
    }

    private static string[] Cells(LatencySummary summary, Phase phase) =>
        summary.Phases.TryGetValue(phase, out var s) ? [F(s.P50), F(s.P90), F(s.P99), F(s.Max)] : ["-", "-", "-", "-"];

    private static string F(double? value) => value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "-";
}
