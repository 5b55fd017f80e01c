using System.Globalization;
using System.Text.Json;
using Egress.Core.Topology;

namespace Egress.Core.Cost;

/// <summary>A parsed price table, or every problem found in the text.</summary>
public sealed record PriceTableParseResult(PriceTable? Table, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool Succeeded => Table is not null;
}

/// <summary>Reads the price-table JSON format (docs/cost.md). Pure: text in, table or diagnostics out;
/// it reports every problem with its path (<c>prices[3].usd</c>) and a fix, not only the first.</summary>
public static class PriceTableParser
{
    private static readonly string[] TopKeys = ["$comment", "currency", "prices"];

    private static readonly string[] PriceKeys = ["item", "region", "instanceType", "unit", "usd", "source", "read", "estimate", "note"];

    public static PriceTableParseResult Parse(string json, string file)
    {
        ArgumentNullException.ThrowIfNull(json);
        var diagnostics = new List<Diagnostic>();
        void Error(string path, string message, string hint) =>
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, file, 0, 0, path, message, hint));

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            var line = (int)(ex.LineNumber ?? -1) + 1;
            var column = (int)(ex.BytePositionInLine ?? -1) + 1;
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, file, line, column, string.Empty,
                "not valid JSON: " + FirstSentence(ex.Message), "fix the JSON syntax; start from 'egress cost --default-prices' for a valid table"));
            return new PriceTableParseResult(null, diagnostics);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                Error(string.Empty, $"expected a JSON object with 'currency' and 'prices', found {Describe(root)}", "start from 'egress cost --default-prices'");
                return new PriceTableParseResult(null, diagnostics);
            }

            UnknownKeys(root, string.Empty, TopKeys, Error);
            if (root.TryGetProperty("currency", out var currency)
                && (currency.ValueKind != JsonValueKind.String || currency.GetString() != PriceTable.Currency))
            {
                Error("currency", $"only {PriceTable.Currency} is supported, found {Describe(currency)}", $"write \"currency\": \"{PriceTable.Currency}\" and give every price in US dollars");
            }

            if (!root.TryGetProperty("prices", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                Error("prices", list.ValueKind == JsonValueKind.Undefined ? "missing" : $"expected a list of prices, found {Describe(list)}",
                    "add \"prices\": [ { \"item\": ..., \"region\": ..., \"unit\": ..., \"usd\": ..., \"source\": ..., \"read\": ... } ]");
                return new PriceTableParseResult(null, diagnostics);
            }

            var prices = new List<Price>();
            var seen = new Dictionary<(PriceItem, string, string?), int>();
            var index = 0;
            foreach (var element in list.EnumerateArray())
            {
                var path = string.Create(CultureInfo.InvariantCulture, $"prices[{index}]");
                var price = ParsePrice(element, path, Error);
                if (price is not null)
                {
                    var key = (price.Item, price.Region, price.InstanceType);
                    if (seen.TryGetValue(key, out var first))
                    {
                        Error(path, $"a second {PriceItems.NameOf(price.Item)} price for {price.Region}{(price.InstanceType is null ? string.Empty : " " + price.InstanceType)} (the first is prices[{first}])",
                            "keep one price per item, region and instance type");
                    }
                    else
                    {
                        seen[key] = index;
                        prices.Add(price);
                    }
                }

                index++;
            }

            return diagnostics.Count > 0
                ? new PriceTableParseResult(null, diagnostics)
                : new PriceTableParseResult(new PriceTable { Name = file, Prices = prices }, diagnostics);
        }
    }

    private static Price? ParsePrice(JsonElement element, string path, Action<string, string, string> error)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            error(path, $"expected a price object, found {Describe(element)}", "write { \"item\": ..., \"region\": ..., \"unit\": ..., \"usd\": ..., \"source\": ..., \"read\": ... }");
            return null;
        }

        var ok = true;
        void Fail(string key, string message, string hint)
        {
            ok = false;
            error(path + (key.Length == 0 ? string.Empty : "." + key), message, hint);
        }

        UnknownKeys(element, path, PriceKeys, (p, m, h) => { ok = false; error(p, m, h); });
        var itemNames = string.Join(", ", PriceItems.All.Select(PriceItems.NameOf));

        PriceItem? item = null;
        var itemText = RequiredString(element, "item", Fail);
        if (itemText is not null)
        {
            item = PriceItems.Parse(itemText);
            if (item is null)
            {
                var suggestion = YamlBinder.Suggest(itemText, PriceItems.All.Select(PriceItems.NameOf));
                Fail("item", $"'{itemText}' is not a price item" + (suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?"), $"use one of: {itemNames}");
            }
        }

        var region = RequiredString(element, "region", Fail);
        if (region is not null && region != Price.AnyRegion && AwsRegions.Find(region) is null)
        {
            var suggestion = YamlBinder.Suggest(region, AwsRegions.All.Select(r => r.Code));
            Fail("region", $"'{region}' is not an AWS region" + (suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?"),
                $"use a region code such as ap-southeast-1, or \"{Price.AnyRegion}\" for every region without its own price");
        }

        string? instanceType = null;
        if (element.TryGetProperty("instanceType", out var typeElement))
        {
            instanceType = typeElement.ValueKind == JsonValueKind.String ? typeElement.GetString() : null;
            if (instanceType is null || !InstanceTypes.IsWellFormed(instanceType))
            {
                Fail("instanceType", $"{Describe(typeElement)} is not an EC2 instance type", "write it as family.size, e.g. \"t3.small\"");
            }
            else if (item is not null && item != PriceItem.Ec2Instance)
            {
                Fail("instanceType", $"only an ec2-instance price has an instance type, this is {PriceItems.NameOf(item.Value)}", "remove instanceType, or set item to ec2-instance");
            }
        }
        else if (item == PriceItem.Ec2Instance)
        {
            Fail("instanceType", "missing: an ec2-instance price is for one instance type", "add \"instanceType\": \"t3.small\" (or the type it prices)");
        }

        var unit = RequiredString(element, "unit", Fail);
        if (unit is not null && item is not null && unit != PriceItems.UnitOf(item.Value))
        {
            Fail("unit", $"'{unit}' is not the unit of {PriceItems.NameOf(item.Value)}", $"{PriceItems.NameOf(item.Value)} is priced per {PriceItems.UnitOf(item.Value)}: write \"unit\": \"{PriceItems.UnitOf(item.Value)}\" and convert the figure");
        }

        decimal usd = 0;
        if (!element.TryGetProperty("usd", out var usdElement))
        {
            Fail("usd", "missing", "add \"usd\": the price in US dollars per unit, e.g. 0.0264");
        }
        else if (usdElement.ValueKind != JsonValueKind.Number || !usdElement.TryGetDecimal(out usd) || usd is < 0 or > Price.MaxUsd)
        {
            // 7.9e28 and 1e400 are numbers too: a price beyond MaxUsd is refused here, so no sum of prices can overflow.
            Fail("usd", $"expected a number of US dollars from 0 to {Price.MaxUsd.ToString(CultureInfo.InvariantCulture)} per unit, found {Describe(usdElement)}",
                "write a plain number such as 0.0264 (no quotes, no '$')");
        }

        var source = RequiredString(element, "source", Fail);
        if (source is not null && source.Trim().Length == 0)
        {
            Fail("source", "empty", "name the page URL or document the figure was read from");
        }

        var readText = RequiredString(element, "read", Fail);
        DateOnly read = default;
        if (readText is not null && !DateOnly.TryParseExact(readText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out read))
        {
            Fail("read", $"'{readText}' is not a date", "write the date the figure was read as yyyy-MM-dd, e.g. \"2026-11-26\"");
        }

        var estimate = false;
        if (element.TryGetProperty("estimate", out var estimateElement))
        {
            if (estimateElement.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                estimate = estimateElement.GetBoolean();
            }
            else
            {
                Fail("estimate", $"expected true or false, found {Describe(estimateElement)}", "write true when the figure was not confirmed from its source, else false");
            }
        }

        string? note = null;
        if (element.TryGetProperty("note", out var noteElement))
        {
            if (noteElement.ValueKind == JsonValueKind.String)
            {
                note = noteElement.GetString();
            }
            else
            {
                Fail("note", $"expected text, found {Describe(noteElement)}", "write the note in quotes, or remove it");
            }
        }

        return ok && item is not null && region is not null && source is not null
            ? new Price
            {
                Item = item.Value,
                Region = region,
                InstanceType = instanceType,
                Usd = usd,
                Source = source,
                Read = read,
                Estimate = estimate,
                Note = note,
            }
            : null;
    }

    private static string? RequiredString(JsonElement element, string key, Action<string, string, string> fail)
    {
        if (!element.TryGetProperty(key, out var value))
        {
            fail(key, "missing", $"add \"{key}\": {Example(key)}");
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            fail(key, $"expected text, found {Describe(value)}", $"write it in quotes, e.g. \"{key}\": {Example(key)}");
            return null;
        }

        return value.GetString();
    }

    private static string Example(string key) => key switch
    {
        "item" => "\"nat-gateway-hour\"",
        "region" => "\"ap-northeast-1\"",
        "unit" => "\"hour\"",
        "source" => "\"https://aws.amazon.com/vpc/pricing/\"",
        "read" => "\"2026-11-26\"",
        _ => "\"...\"",
    };

    private static void UnknownKeys(JsonElement element, string path, string[] known, Action<string, string, string> error)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name, StringComparer.Ordinal))
            {
                var suggestion = YamlBinder.Suggest(property.Name, known);
                error((path.Length == 0 ? string.Empty : path + ".") + property.Name,
                    $"unknown key '{property.Name}'" + (suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?"),
                    suggestion is null ? $"the keys allowed here are: {string.Join(", ", known)}" : $"rename '{property.Name}' to '{suggestion}'");
            }
        }
    }

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"'{Clip(element.GetString()!)}'",
        JsonValueKind.Number => Clip(element.GetRawText()),
        JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        _ => "nothing",
    };

    /// <summary>A number as written, cut to 40 characters (a 10,000-digit literal is not echoed whole).</summary>
    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private static string FirstSentence(string message)
    {
        // System.Text.Json appends the position (" LineNumber: 2 | BytePositionInLine: 16.") and a path; the
        // diagnostic carries the position as file:line:column already.
        foreach (var marker in new[] { " LineNumber:", " Path:" })
        {
            var end = message.IndexOf(marker, StringComparison.Ordinal);
            if (end > 0)
            {
                message = message[..end];
            }
        }

        return message;
    }
}
