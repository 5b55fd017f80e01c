using System.Text.Json;
using Egress.Host.Execution;

namespace Egress.Verify.Probes;

/// <summary>One named invariant of a host's <c>check</c>.</summary>
public sealed record HostInvariant(string Name, bool Ok, string? Detail);

/// <summary>A host's <c>check</c> output: <c>{"host","ok","invariants":[{"name","ok","detail"}],"warnings":[]}</c>,
/// judged together with the exit code: a host passes only when it exits 0, says ok and every invariant is ok.</summary>
public sealed record HostCheckResult(string Host, bool Ok, IReadOnlyList<HostInvariant> Invariants, IReadOnlyList<string> Warnings, string? Problem)
{
    public bool Passed => Problem is null && Ok && Invariants.All(i => i.Ok);

    public IEnumerable<HostInvariant> Failed => Invariants.Where(i => !i.Ok);
}

/// <summary>A minimal reader of the host script's <c>check</c> JSON (the host renderer's own parser replaces it once merged).</summary>
public static class HostCheck
{
    public static HostCheckResult Parse(string host, CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = result.StandardOutput.Trim();
        var start = text.IndexOf('{', StringComparison.Ordinal);
        if (start < 0)
        {
            return new HostCheckResult(host, false, [], [], $"check printed no JSON (exit {result.ExitCode}{(Curl.FirstLine(result.StandardError) is { } e ? ": " + e : "")})");
        }

        try
        {
            using var document = JsonDocument.Parse(text[start..]);
            var root = document.RootElement;
            var ok = root.TryGetProperty("ok", out var okValue) && okValue.ValueKind == JsonValueKind.True;
            var invariants = new List<HostInvariant>();
            if (root.TryGetProperty("invariants", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in list.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.Object))
                {
                    invariants.Add(new HostInvariant(
                        item.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()! : "(unnamed)",
                        item.TryGetProperty("ok", out var itemOk) && itemOk.ValueKind == JsonValueKind.True,
                        item.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String ? detail.GetString() : null));
                }
            }

            var warnings = root.TryGetProperty("warnings", out var warningList) && warningList.ValueKind == JsonValueKind.Array
                ? warningList.EnumerateArray().Where(w => w.ValueKind == JsonValueKind.String).Select(w => w.GetString()!).ToList()
                : [];
            string? problem = null;
            if (result.ExitCode != 0 && ok && invariants.All(i => i.Ok))
            {
                problem = $"check exited {result.ExitCode} although its JSON says ok";
            }
            else if (invariants.Count == 0 && ok)
            {
                problem = "check reported no invariants";
            }

            return new HostCheckResult(host, ok, invariants, warnings, problem);
        }
        catch (JsonException)
        {
            return new HostCheckResult(host, false, [], [], $"check's output is not JSON: {Curl.Shorten(text)}");
        }
    }
}
