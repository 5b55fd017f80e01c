using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Egress.Core;

/// <summary>The one JSON style of every document egress writes (<c>--output json</c> of each verb, the lab manifest, the
/// verify report, the resolved topology): camelCase names, enums as camelCase strings, indented, and characters such as
/// <c>&lt;</c>, <c>'</c> and non-ASCII letters written as themselves (these are files and terminal output, never HTML).</summary>
public static class EgressJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>The same style for code that writes a document field by field with a <see cref="Utf8JsonWriter"/>.</summary>
    public static JsonWriterOptions WriterOptions => new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
