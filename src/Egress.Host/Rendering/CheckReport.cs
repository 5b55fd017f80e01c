using System.Text.Json;

namespace Egress.Host.Rendering;

/// <summary>One named invariant from the script's <c>check</c> output.</summary>
public sealed record CheckInvariant(string Name, bool Ok, string Detail);

/// <summary>The parsed JSON of <c>egress-host check</c>: the host, whether every invariant holds, each invariant,
/// and warnings (missing optional kernel features, skipped machine-wide sysctls).</summary>
public sealed record CheckReport(string Host, bool Ok, IReadOnlyList<CheckInvariant> Invariants, IReadOnlyList<string> Warnings)
{
    /// <summary>The invariant a client's check reports its egress gateway in (detail "NAME (TUNNEL)" when it holds).</summary>
    public const string ActiveGatewayInvariant = "failover.active-gateway";

    /// <summary>For a client: the gateway its default halves go through and that answers; null for a gateway host, or
    /// when none does (then <see cref="EgressState"/> says why: every gateway down, fail-closed or fail-open).</summary>
    public string? ActiveGateway => Invariants.FirstOrDefault(i => i.Name == ActiveGatewayInvariant) is { Ok: true } active
        ? active.Detail.Split(' ')[0]
        : null;

    /// <summary>For a client: "via NAME", or the failed invariant's detail (e.g. "no gateway alive: egress refused
    /// (fail-closed)"); null for a host whose check has no failover invariant (a gateway).</summary>
    public string? EgressState => Invariants.FirstOrDefault(i => i.Name == ActiveGatewayInvariant) is { } active
        ? (active.Ok ? $"via {ActiveGateway}" : active.Detail)
        : null;

    /// <summary>The version of the check document the host script prints (docs/json.md).</summary>
    public const int SchemaVersion = 1;

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

            // docs/json.md: a host script of an older egress prints no schemaVersion (it reads as 1); a newer one may print a
            // shape this egress does not know, which must not pass for healthy.
            if (root.TryGetProperty("schemaVersion", out var version)
                && !(version.ValueKind == JsonValueKind.Number && version.TryGetInt32(out var v) && v == SchemaVersion))
            {
                throw new FormatException($"egress-host check printed schemaVersion {version.GetRawText()}; this egress reads {SchemaVersion}: render the host's script with this egress ('egress apply', or 'egress render' for a hand-installed script).");
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
