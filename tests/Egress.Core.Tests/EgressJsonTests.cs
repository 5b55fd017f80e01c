using System.Text.Json;
using Egress.Core;
using Xunit;

namespace Egress.Core.Tests;

public class EgressJsonTests
{
    private enum Sample { FailOpen, FailClosed }

    private sealed record Document(string DisplayName, Sample Mode, string Note);

    [Fact]
    public void Writes_camel_case_names_enum_names_and_characters_as_themselves()
    {
        var json = EgressJson.Serialize(new Document("Tokyo <nat>", Sample.FailClosed, "it's 東京"));

        Assert.Contains("\"displayName\": \"Tokyo <nat>\"", json);
        Assert.Contains("\"mode\": \"failClosed\"", json);
        Assert.Contains("\"note\": \"it's 東京\"", json);
    }

    [Fact]
    public void Reads_back_what_it_writes()
    {
        var document = new Document("a", Sample.FailOpen, "b");

        Assert.Equal(document, JsonSerializer.Deserialize<Document>(EgressJson.Serialize(document), EgressJson.Options));
    }
}
