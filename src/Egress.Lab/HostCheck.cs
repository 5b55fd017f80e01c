using Egress.Host.Rendering;

namespace Egress.Lab;

/// <summary>A host's `check` result as the lab reports it: the parsed report, or why there is none.</summary>
public sealed record HostCheckResult(string Host, bool Ok, IReadOnlyList<CheckInvariant> Invariants, IReadOnlyList<string> Warnings, string? Error)
{
    /// <summary>Parses the script's check JSON with <see cref="CheckReport.Parse"/>; OK only when the report is OK and the
    /// script exited 0.</summary>
    public static HostCheckResult Parse(string host, string json, int exitCode)
    {
        try
        {
            var report = CheckReport.Parse(json);
            return new HostCheckResult(host, report.Ok && exitCode == 0, report.Invariants, report.Warnings, null);
        }
        catch (FormatException ex)
        {
            return Failed(host, $"check printed no valid report (exit {exitCode}): {ex.Message}");
        }
    }

    public static HostCheckResult Failed(string host, string error) => new(host, false, [], [], error);
}
