using System.Text.Json;

namespace Egress.Lab;

/// <summary>One invariant of a host's `check` report.</summary>
public sealed record HostCheckInvariant(string Name, bool Ok, string Detail);

/// <summary>A host's `check` result as the lab reports it: parsed report, or why there is none.</summary>
public sealed record HostCheckResult(string Host, bool Ok, IReadOnlyList<HostCheckInvariant> Invariants, IReadOnlyList<string> Warnings, string? Error)
{
    /// <summary>Interim parser of the renderer's check JSON ({host, ok, invariants[{name, ok, detail}], warnings}).</summary>
    public static HostCheckResult Parse(string host, string json, int exitCode)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var invariants = root.GetProperty("invariants").EnumerateArray()
                .Select(i => new HostCheckInvariant(i.GetProperty("name").GetString() ?? string.Empty, i.GetProperty("ok").GetBoolean(), i.TryGetProperty("detail", out var d) ? d.GetString() ?? string.Empty : string.Empty))
                .ToList();
            var warnings = root.TryGetProperty("warnings", out var w) ? w.EnumerateArray().Select(x => x.GetString() ?? string.Empty).ToList() : [];
            var ok = root.GetProperty("ok").GetBoolean() && invariants.Count > 0 && invariants.All(i => i.Ok) && exitCode == 0;
            return new HostCheckResult(host, ok, invariants, warnings, null);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return Failed(host, $"check printed no valid report (exit {exitCode}): {ex.Message}");
        }
    }

    public static HostCheckResult Failed(string host, string error) => new(host, false, [], [], error);
}
