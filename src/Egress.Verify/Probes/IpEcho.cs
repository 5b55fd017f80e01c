using System.Text.Json;

namespace Egress.Verify.Probes;

/// <summary>What an ipinfo.io-style echo says about the caller.</summary>
public sealed record IpEchoAnswer(string? Ip, string? City, string? Region, string? Country, string? Org);

public static class IpEcho
{
    /// <summary>Reads the echo's JSON body; null with a problem when the body is not the expected object.</summary>
    public static IpEchoAnswer? Parse(string body, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(body))
        {
            problem = "the IP echo answered with an empty body";
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = $"the IP echo's answer is not a JSON object: {Curl.Shorten(body.Trim())}";
                return null;
            }

            var answer = new IpEchoAnswer(Text(root, "ip"), Text(root, "city"), Text(root, "region"), Text(root, "country"), Text(root, "org"));
            if (answer.Ip is null)
            {
                problem = $"the IP echo's answer has no \"ip\": {Curl.Shorten(body.Trim())}";
                return null;
            }

            return answer;
        }
        catch (JsonException)
        {
            problem = $"the IP echo's answer is not JSON: {Curl.Shorten(body.Trim())}";
            return null;
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
