using Egress.Processes;

namespace Egress.Host.Rendering;

/// <summary>A host's <c>check</c> run, judged together with its exit code (the one model the lab, verify and doctor share): a host passes only when it exits 0 and its
/// report (<see cref="CheckReport"/>) is OK: says ok, has invariants and every one holds.</summary>
public sealed record HostCheckResult(string Host, CheckReport? Report, string? Problem)
{
    public bool Passed => Problem is null && Report is { Ok: true };

    public IEnumerable<CheckInvariant> Failed => Report?.Failures ?? [];

    public IReadOnlyList<string> Warnings => Report?.Warnings ?? [];
}

/// <summary>Reads a host's <c>check</c> output with the host renderer's own parser, never throwing.</summary>
public static class HostCheck
{
    public static HostCheckResult Parse(string host, CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = result.StandardOutput.Trim();
        var start = text.IndexOf('{', StringComparison.Ordinal);
        if (start < 0)
        {
            return new HostCheckResult(host, null, $"check printed no JSON (exit {result.ExitCode}{(FirstLine(result.StandardError) is { } e ? ": " + e : "")})");
        }

        CheckReport report;
        try
        {
            report = CheckReport.Parse(text[start..]);
        }
        catch (FormatException ex)
        {
            return new HostCheckResult(host, null, ex.Message);
        }

        if (result.ExitCode != 0 && report.Ok)
        {
            return new HostCheckResult(host, report, $"check exited {result.ExitCode} although its JSON says ok");
        }

        if (report.Invariants.Count == 0)
        {
            return new HostCheckResult(host, report, "check reported no invariants");
        }

        return new HostCheckResult(host, report, null);
    }

    private static string? FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
}
