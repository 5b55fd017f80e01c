using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Egress.Core;

/// <summary>The one JSON style of every document egress writes (<c>--output json</c> of each verb, the lab manifest, the
/// verify report, the resolved topology): camelCase names, enums as camelCase strings, indented, and characters such as
/// <c>&lt;</c>, <c>'</c> and non-ASCII letters written as themselves (these are files and terminal output, never HTML).
/// Documents are typed records serialized through System.Text.Json source generation (a <see cref="JsonSerializerContext"/>
/// per project, built over <see cref="NewOptions"/>): no reflection and no run-time code generation, so the shipped build
/// (DynamicCodeSupport false, trim and AOT analyzers on) writes exactly what the tests read. docs/json.md lists them.</summary>
public static class EgressJson
{
    /// <summary>Options for a source-generated context: <c>new MyJsonContext(EgressJson.NewOptions())</c>. A new instance
    /// each time, because a context takes its options over (they become read-only and bound to it).</summary>
    public static JsonSerializerOptions NewOptions() => new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    /// <summary>The same style for code that writes a document field by field with a <see cref="Utf8JsonWriter"/>.</summary>
    public static JsonWriterOptions WriterOptions => new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

/// <summary>An enum written as its camelCase name (<c>FailClosed</c> → <c>"failClosed"</c>): put
/// <c>[JsonConverter(typeof(JsonCamelCaseEnum&lt;TheEnum&gt;))]</c> on the enum. The generic converter needs no run-time code
/// generation, unlike the non-generic <see cref="JsonStringEnumConverter"/>.</summary>
public sealed class JsonCamelCaseEnum<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase)
    where TEnum : struct, Enum;
