using Egress.Core.IO;
using Egress.Verify.Reporting;
using Spectre.Console;

namespace Egress.Verify;

public enum VerifyOutputFormat
{
    Text,
    Json,
}

/// <summary>Where a verify run writes: <paramref name="Human"/> (stderr) gets progress and messages; the report goes to
/// <paramref name="Report"/> (stdout console) as tables, or to <paramref name="Data"/> (stdout) as JSON; optionally
/// an HTML file.</summary>
public sealed record VerifyOutput(IAnsiConsole Human, IAnsiConsole Report, TextWriter Data, VerifyOutputFormat Format, string? HtmlPath);

/// <summary>The entry point a CLI verb calls (<c>egress lab verify</c>, later <c>egress verify</c>): runs the suite with
/// progress, writes the report and returns the exit code: 0 every round passed, 1 a check failed, 2 bad options.
/// Cancellation propagates as <see cref="OperationCanceledException"/> (the CLI maps it to 130).</summary>
public static class VerifyRun
{
    public const int Passed = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    public static async Task<int> RunAsync(VerifyEnvironment env, VerifyOptions options, VerifyOutput output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        string? htmlPath = null;
        try
        {
            options.Validate();
            if (output.HtmlPath is not null)
            {
                htmlPath = Path.GetFullPath(output.HtmlPath);
                var directory = Path.GetDirectoryName(htmlPath);
                if (directory is not null && !Directory.Exists(directory))
                {
                    throw new ArgumentException($"--html {output.HtmlPath}: the directory {directory} does not exist; create it or pick another path.");
                }
            }
        }
        catch (ArgumentException ex)
        {
            output.Human.MarkupLine($"[red]error:[/] {Markup.Escape(ex.Message)}");
            return BadInput;
        }

        var rounds = options.Rounds ?? env.Topology.Verify.Criteria.Rounds;
        output.Human.MarkupLine($"verify: {Markup.Escape(env.Topology.Stack)} on {Markup.Escape(env.Name)}, {rounds} round(s)" +
            (env.JudgesLatency ? "" : $"; the latency budget is reported but not judged ({Markup.Escape(env.LatencyNotJudgedReason)})"));
        var report = await new VerifySuite().RunAsync(env, options, new ConsoleProgress(output.Human), ct);

        if (output.Format == VerifyOutputFormat.Json)
        {
            await output.Data.WriteAsync(VerifyJsonWriter.Write(report).AsMemory(), ct);
            await output.Data.FlushAsync(ct);
        }
        else
        {
            VerifyConsoleRenderer.Render(output.Report, report);
        }

        if (htmlPath is not null)
        {
            try
            {
                // Whole or not at all: a temporary file beside it, renamed; a device (/dev/stdout) is written in place.
                OutputFile.WriteAllText(htmlPath, VerifyHtmlWriter.Write(report), output.HtmlPath ?? htmlPath);
            }
            catch (FileAccessProblem problem)
            {
                output.Human.MarkupLine($"[red]error:[/] --html {Markup.Escape(problem.Message)}. Fix: pick a file in a directory you can write to, on a disk with room; the report above is complete.");
                return BadInput;
            }

            output.Human.MarkupLine($"HTML report: {Markup.Escape(htmlPath)}");
        }

        var verdict = report.Passed ? "[green]verify passed[/]" : $"[red]verify failed[/]: {Markup.Escape(string.Join(", ", report.Failures.Select(f => $"{f.Id} ({f.Host})").Distinct()))}";
        output.Human.MarkupLine($"{verdict} ({report.PassedRounds}/{report.Rounds.Count} rounds passed)");
        return report.Passed ? Passed : Failed;
    }

    /// <summary>Reports synchronously, one line per step, so the lines stay in order.</summary>
    private sealed class ConsoleProgress(IAnsiConsole console) : IProgress<VerifyProgress>
    {
        public void Report(VerifyProgress value) =>
            console.MarkupLine($"[grey][[round {value.Round}/{value.Rounds}]] {Markup.Escape(value.Host)}: {Markup.Escape(value.Step)}[/]");
    }
}
