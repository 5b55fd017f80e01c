using System.Text.Json;
using System.Text.Json.Serialization;
using Egress.Core;
using Xunit;

namespace Egress.Core.Tests;

public partial class EgressJsonTests
{
    [JsonConverter(typeof(JsonCamelCaseEnum<Sample>))]
    internal enum Sample { FailOpen, FailClosed }

    internal sealed record Document(string DisplayName, Sample Mode, string Note);

    [JsonSerializable(typeof(Document))]
    internal sealed partial class TestJson : JsonSerializerContext;

    private static readonly TestJson Json = new(EgressJson.NewOptions());

    [Fact]
    public void Serialize_SourceGenerated_WritesCamelCaseNamesEnumNamesAndCharactersAsThemselves()
    {
        var json = JsonSerializer.Serialize(new Document("Tokyo <nat>", Sample.FailClosed, "it's 東京"), Json.Document);

        Assert.Contains("\"displayName\": \"Tokyo <nat>\"", json);
        Assert.Contains("\"mode\": \"failClosed\"", json);
        Assert.Contains("\"note\": \"it's 東京\"", json);
    }

    [Fact]
    public void Serialize_SourceGenerated_ReadsBackWhatItWrites()
    {
        var document = new Document("a", Sample.FailOpen, "b");

        Assert.Equal(document, JsonSerializer.Deserialize(JsonSerializer.Serialize(document, Json.Document), Json.Document));
    }
}
