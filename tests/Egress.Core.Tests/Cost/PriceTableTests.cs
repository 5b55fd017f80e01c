using Egress.Core.Cost;

namespace Egress.Core.Tests.Cost;

public sealed class PriceTableTests
{
    private static readonly string[] ExampleRegions = ["ap-southeast-1", "ap-northeast-1", "ap-southeast-2"];

    private static readonly string[] InstanceTypeNames = ["t3.micro", "t3.small", "t3.medium", "t4g.micro", "t4g.small"];

    [Fact]
    public void BuiltIn_ExampleRegions_HaveEveryItemAndInstanceType()
    {
        var table = PriceTable.BuiltIn;

        foreach (var region in ExampleRegions)
        {
            foreach (var type in InstanceTypeNames)
            {
                Assert.True(table.Find(PriceItem.Ec2Instance, region, type) is not null, $"no {type} price in {region}");
            }

            foreach (var item in PriceItems.All.Where(i => i != PriceItem.Ec2Instance))
            {
                Assert.True(table.Find(item, region) is not null, $"no {PriceItems.NameOf(item)} price in {region}");
            }
        }
    }

    [Fact]
    public void BuiltIn_EveryPrice_HasAnAwsSourceAReadDateAndItsItemsUnit()
    {
        var text = PriceTable.BuiltInText();

        Assert.All(PriceTable.BuiltIn.Prices, p =>
        {
            Assert.StartsWith("https://aws.amazon.com/", p.Source, StringComparison.Ordinal);
            Assert.Equal(new DateOnly(2026, 11, 26), p.Read);
        });
        Assert.DoesNotContain("\r", text, StringComparison.Ordinal);
        Assert.Equal(PriceTable.BuiltIn.Prices.Count, System.Text.RegularExpressions.Regex.Count(text, "\"item\":"));
    }

    [Fact]
    public void BuiltIn_KnownRates_AreAwsPublishedFigures()
    {
        var table = PriceTable.BuiltIn;

        Assert.Equal(0.005m, table.Find(PriceItem.PublicIpv4, "ap-northeast-1")!.Usd);
        Assert.Equal(0.062m, table.Find(PriceItem.NatGatewayHour, "ap-northeast-1")!.Usd);
        Assert.Equal(0.059m, table.Find(PriceItem.NatGatewayHour, "ap-southeast-1")!.Usd);
        Assert.Equal(0.045m, table.Find(PriceItem.NatGatewayHour, "us-east-1")!.Usd);
        Assert.Equal(0.09m, table.Find(PriceItem.InterRegionTransfer, "ap-southeast-1")!.Usd);
        Assert.Equal(0.02m, table.Find(PriceItem.TransitGatewayData, "ap-southeast-1")!.Usd);
    }

    [Fact]
    public void SeedNatGatewayRate_IsTenTimesAws()
    {
        // The seed's cost section: "Hourly charge: $0.45/hr × 168 hours = $75.60".
        const decimal seedNatPerHour = 0.45m;
        var table = PriceTable.BuiltIn;

        // Against AWS's base rate (US East, $0.045/h) it is exactly ten times ...
        Assert.Equal(10m, seedNatPerHour / table.Find(PriceItem.NatGatewayHour, "us-east-1")!.Usd);

        // ... and even against the seed's own gateway region (Tokyo, the dearest here at $0.062/h) more than seven times.
        var tokyo = table.Find(PriceItem.NatGatewayHour, "ap-northeast-1")!.Usd;
        Assert.True(seedNatPerHour / tokyo > 7m, $"0.45 / {tokyo}");
        Assert.All(table.Prices.Where(p => p.Item == PriceItem.NatGatewayHour), p => Assert.InRange(p.Usd, 0.045m, 0.062m));
    }

    [Fact]
    public void Find_RegionWithoutItsOwnPrice_FallsBackToTheWildcard()
    {
        var table = PriceTable.BuiltIn;

        var price = table.Find(PriceItem.PublicIpv4, "eu-west-1");

        Assert.NotNull(price);
        Assert.Equal(Price.AnyRegion, price.Region);
        Assert.Null(table.Find(PriceItem.NatGatewayHour, "eu-west-1"));
        Assert.Null(table.Find(PriceItem.Ec2Instance, "ap-southeast-1", "t3.2xlarge"));
    }

    [Fact]
    public void Parse_ValidTable_ReadsEveryField()
    {
        const string json = """
            { "currency": "USD", "prices": [
              { "item": "ec2-instance", "region": "eu-west-1", "instanceType": "t3.small", "unit": "hour", "usd": 0.0228,
                "source": "my invoice 2026-10", "read": "2026-11-01", "estimate": true, "note": "from the bill" } ] }
            """;

        var result = PriceTableParser.Parse(json, "mine.json");

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var price = Assert.Single(result.Table!.Prices);
        Assert.Equal("mine.json", result.Table.Name);
        Assert.Equal(PriceItem.Ec2Instance, price.Item);
        Assert.Equal("t3.small", price.InstanceType);
        Assert.Equal(0.0228m, price.Usd);
        Assert.Equal("my invoice 2026-10", price.Source);
        Assert.Equal(new DateOnly(2026, 11, 1), price.Read);
        Assert.True(price.Estimate);
        Assert.Equal("from the bill", price.Note);
    }

    [Fact]
    public void Parse_ManyMistakes_ReportsEachWithPathAndFix()
    {
        const string json = """
            { "currency": "EUR", "prices": [
              { "item": "nat-gateway-hours", "region": "ap-northeast-1", "unit": "hour", "usd": 0.062, "source": "x", "read": "2026-11-26" },
              { "item": "nat-gateway-hour", "region": "ap-northeast-9", "unit": "GB", "usd": -1, "source": "x", "read": "26/11/2026" },
              { "item": "ec2-instance", "region": "ap-northeast-1", "unit": "hour", "usd": "0.01", "source": "x", "read": "2026-11-26", "price": 1 }
            ] }
            """;

        var result = PriceTableParser.Parse(json, "bad.json");

        Assert.False(result.Succeeded);
        var byPath = result.Diagnostics.ToDictionary(d => d.Path, d => d);
        Assert.Contains("only USD", byPath["currency"].Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'nat-gateway-hour'?", byPath["prices[0].item"].Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'ap-northeast-1'?", byPath["prices[1].region"].Message, StringComparison.Ordinal);
        Assert.Contains("write \"unit\": \"hour\"", byPath["prices[1].unit"].Hint, StringComparison.Ordinal);
        Assert.Contains("found -1", byPath["prices[1].usd"].Message, StringComparison.Ordinal);
        Assert.Contains("yyyy-MM-dd", byPath["prices[1].read"].Hint, StringComparison.Ordinal);
        Assert.Contains("missing", byPath["prices[2].instanceType"].Message, StringComparison.Ordinal);
        Assert.Contains("found '0.01'", byPath["prices[2].usd"].Message, StringComparison.Ordinal);
        Assert.Contains("unknown key 'price'", byPath["prices[2].price"].Message, StringComparison.Ordinal);
        Assert.All(result.Diagnostics, d => Assert.False(string.IsNullOrEmpty(d.Hint)));
        Assert.All(result.Diagnostics, d => Assert.Equal("bad.json", d.File));
    }

    [Fact]
    public void Parse_DuplicatePrice_NamesTheFirst()
    {
        const string json = """
            { "prices": [
              { "item": "internet-egress", "region": "ap-northeast-1", "unit": "GB", "usd": 0.114, "source": "x", "read": "2026-11-26" },
              { "item": "internet-egress", "region": "ap-northeast-1", "unit": "GB", "usd": 0.09, "source": "y", "read": "2026-11-26" } ] }
            """;

        var result = PriceTableParser.Parse(json, "dup.json");

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("prices[1]", error.Path);
        Assert.Contains("the first is prices[0]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BrokenJson_GivesLineAndColumn()
    {
        const string json = "{\n  \"prices\": [\n    { \"item\": \"internet-egress\" \"region\": \"x\" }\n  ]\n}\n";

        var result = PriceTableParser.Parse(json, "broken.json");

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal(3, error.Line);
        Assert.True(error.Column > 1);
        Assert.StartsWith("broken.json:3:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "expected a JSON object")]
    [InlineData("{}", "prices: missing")]
    [InlineData("{ \"prices\": 3 }", "expected a list of prices")]
    public void Parse_WrongShape_SaysWhatIsExpected(string json, string expected)
    {
        var result = PriceTableParser.Parse(json, "x.json");

        Assert.False(result.Succeeded);
        Assert.Contains(expected, Assert.Single(result.Diagnostics).ToString(), StringComparison.Ordinal);
    }
}
