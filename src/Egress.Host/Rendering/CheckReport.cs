using System.Text.Json;

namespace Egress.Host.Rendering;

/// <summary>One named invariant from the script's <c>check</c> output.</summary>
public sealed record CheckInvariant(string Name, bool Ok, string Detail);

/// <summary>The parsed JSON of <c>egress-host check</c>: the host, whether every invariant holds, each invariant,
/// and warnings (missing optional kernel features, skipped machine-wide sysctls).</summary>
public sealed record CheckReport(string Host, bool Ok, IReadOnlyList<CheckInvariant> Invariants, IReadOnlyList<string> Warnings)
{
    /// <summary>Parses check output. Throws <see cref="FormatException"/> naming what is wrong. The report is OK only
    /// if the script said so and every invariant is OK and there is at least one invariant.</summary>
    public static CheckReport Parse(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new FormatException("egress-host check printed nothing; expected a JSON object {\"host\":..,\"ok\":..,\"invariants\":[..],\"warnings\":[..]} (did the script run at all?).");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"egress-host check output is not valid JSON ({ex.Message}): {Excerpt(json)}", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"egress-host check output must be a JSON object, not {root.ValueKind}: {Excerpt(json)}");
            }

            var host = String(root, "host", "the report");
            var ok = Bool(root, "ok", "the report");
            var invariants = Array(root, "invariants", "the report").Select((item, i) =>
            {
                var where = $"invariants[{i}]";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException($"{where} must be an object with name, ok and detail.");
                }

                return new CheckInvariant(String(item, "name", where), Bool(item, "ok", where), String(item, "detail", where));
            }).ToList();
            var warnings = root.TryGetProperty("warnings", out _)
                ? Array(root, "warnings", "the report").Select((w, i) => w.ValueKind == JsonValueKind.String
                    ? w.GetString()!
                    : throw new FormatException($"warnings[{i}] must be a string.")).ToList()
                : [];
            var allOk = ok && invariants.Count > 0 && invariants.All(x => x.Ok);
            return new CheckReport(host, allOk, invariants, warnings);
        }
    }

    /// <summary>The invariants that failed.</summary>
    public IEnumerable<CheckInvariant> Failures => Invariants.Where(i => !i.Ok);

    private static JsonElement Property(JsonElement element, string name, string where) =>
        element.TryGetProperty(name, out var value)
            ? value
            : throw new FormatException($"{where} has no \"{name}\" property.");

    private static string String(JsonElement element, string name, string where)
    {
        var value = Property(element, name, where);
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"{where}.{name} must be a string, not {value.ValueKind}.");
    }

    private static bool Bool(JsonElement element, string name, string where)
    {
        var value = Property(element, name, where);
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FormatException($"{where}.{name} must be true or false, not {value.ValueKind}."),
        };
    }

    private static IEnumerable<JsonElement> Array(JsonElement element, string name, string where)
    {
        var value = Property(element, name, where);
        return value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().ToList()
            : throw new FormatException($"{where}.{name} must be an array, not {value.ValueKind}.");
    }

    private static string Excerpt(string text) => text.Length <= 200 ? text : text[..200] + "...";
}
