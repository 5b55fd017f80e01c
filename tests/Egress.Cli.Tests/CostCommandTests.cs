using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Egress.Core.Topology;

namespace Egress.Cli.Tests;

public sealed partial class CostCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Cost_SeedTopology_PrintsEveryScenarioTotalsAndSavings()
    {
        await _cli.RunAsync("init");

        var (code, stdout, stderr) = await _cli.RunAsync("cost");

        Assert.True(code == 0, stderr);
        Assert.Contains("This topology: EC2 gateway over the tunnel on VPC peering", stdout, StringComparison.Ordinal);
        Assert.Contains("NAT Gateway in the gateway's region via Transit Gateway peering", stdout, StringComparison.Ordinal);
        Assert.Contains("NAT Gateway in the client's own region", stdout, StringComparison.Ordinal);
        Assert.Contains("EC2 t3.small: sg-client", stdout, StringComparison.Ordinal);
        Assert.Contains("TGW VPC attachment", stdout, StringComparison.Ordinal);

        // Hand-computed in Egress.Core.Tests CostModelTests.Compare_SeedWeek_MatchesTheHandComputedBill.
        Assert.Equal(["$8.70", "$64.03", "$16.27"], TotalRows().Matches(stdout).Select(m => m.Groups["total"].Value));
        Assert.Contains("This topology saves 86.4% against a NAT Gateway via Transit Gateway peering.", stdout, StringComparison.Ordinal);
        Assert.Contains("This topology saves 46.5% against a NAT Gateway in the client's own region.", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_Json_HasTheSameNumbersAsTheTable()
    {
        await _cli.RunAsync("init", "--example", "three-region");

        var table = await _cli.RunAsync("cost", "--hours", "100", "--gb-out", "3.5", "--gb-in", "12");
        var json = await _cli.RunAsync("cost", "--hours", "100", "--gb-out", "3.5", "--gb-in", "12", "--output", "json");

        Assert.Equal(0, table.ExitCode);
        Assert.Equal(0, json.ExitCode);
        using var document = JsonDocument.Parse(json.Stdout);
        var root = document.RootElement;
        Assert.Equal(100m, root.GetProperty("hours").GetDecimal());
        Assert.Equal(3.5m, root.GetProperty("gbOutPerClient").GetDecimal());
        var scenarios = root.GetProperty("scenarios").EnumerateArray().ToList();
        Assert.Equal(["this-topology", "transit-gateway-nat", "local-nat-gateway"], scenarios.Select(s => s.GetProperty("id").GetString()));

        // Every line's cost, in order, as the table prints it (to 0.0001 USD).
        var jsonLineCosts = scenarios.SelectMany(s => s.GetProperty("lines").EnumerateArray())
            .Select(l => "$" + l.GetProperty("cost").GetDecimal().ToString("0.0000", CultureInfo.InvariantCulture));
        Assert.Equal(jsonLineCosts, LineCostCells().Matches(table.Stdout).Select(m => m.Groups["cost"].Value));

        // Totals per scenario, per week and per month (to the cent), and the savings.
        var totals = TotalRows().Matches(table.Stdout).Select(m => m.Groups["total"].Value).ToList();
        Assert.Equal(scenarios.Select(s => Money(s, "total")), totals);
        foreach (var scenario in scenarios)
        {
            var row = $@"{Regex.Escape(Money(scenario, "total"))} │\s+{Regex.Escape(Money(scenario, "perWeek"))} │\s+{Regex.Escape(Money(scenario, "perMonth"))} │";
            Assert.Matches(row, table.Stdout);
        }

        var savings = root.GetProperty("savingsPercent");
        Assert.Contains($"saves {Percent(savings, "vsTransitGatewayNat")} against a NAT Gateway via", table.Stdout, StringComparison.Ordinal);
        Assert.Contains($"saves {Percent(savings, "vsLocalNatGateway")} against a NAT Gateway in", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_Json_SeedWeekFigures()
    {
        await _cli.RunAsync("init");

        var (code, stdout, _) = await _cli.RunAsync("cost", "--output", "json");

        Assert.Equal(0, code);
        using var document = JsonDocument.Parse(stdout);
        var root = document.RootElement;
        Assert.Equal("built-in price table", root.GetProperty("prices").GetString());
        Assert.Equal(168m, root.GetProperty("hours").GetDecimal());
        var totals = root.GetProperty("scenarios").EnumerateArray().Select(s => s.GetProperty("total").GetDecimal()).ToList();
        Assert.Equal([8.696432m, 64.0292m, 16.2652m], totals);
        Assert.Equal(86.42m, root.GetProperty("savingsPercent").GetProperty("vsTransitGatewayNat").GetDecimal());
        var line = root.GetProperty("scenarios")[0].GetProperty("lines")[0];
        Assert.Equal("ec2-instance", line.GetProperty("item").GetString());
        Assert.Equal("hour", line.GetProperty("unit").GetString());
        Assert.Equal(0.0264m, line.GetProperty("unitPrice").GetDecimal());
        Assert.True(line.GetProperty("estimate").GetBoolean());
    }

    [Fact]
    public async Task Cost_HeavyDownloads_SaysTheTopologyCostsMoreThanALocalNatGateway()
    {
        await _cli.RunAsync("init");

        // 10 TB in a month: the tunnel pays 0.09/GB inter-region on every response byte (plus overhead), a local
        // NAT Gateway 0.059/GB processing only, so the local NAT Gateway wins; TGW+NAT pays both and stays dearer.
        var (code, stdout, _) = await _cli.RunAsync("cost", "--hours", "730", "--gb-out", "100", "--gb-in", "10000");

        Assert.Equal(0, code);
        Assert.Matches(@"This topology costs \d+\.\d% more than a NAT Gateway in the client's own region\.", stdout);
        Assert.Matches(@"This topology saves \d+\.\d% against a NAT Gateway via Transit Gateway peering\.", stdout);
    }

    [Theory]
    [InlineData("--gb-out", "-1", "--gb-out: must be from 0 to 1000000000000 (1e12 GB), got -1")]
    [InlineData("--gb-in", "-0.5", "--gb-in: must be from 0 to 1000000000000 (1e12 GB), got -0.5")]
    [InlineData("--hours", "0", "--hours: must be from 0.01 to 1000000, got 0")]
    [InlineData("--hours", "-168", "--hours: must be from 0.01 to 1000000, got -168")]
    public async Task Cost_NegativeOrZero_ExitsTwoNamingTheFlag(string flag, string value, string expected)
    {
        await _cli.RunAsync("init");

        var (code, stdout, stderr) = await _cli.RunAsync("cost", flag, value);

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_NotANumber_ExitsTwo()
    {
        var (code, _, stderr) = await _cli.RunAsync("cost", "--gb-out", "lots");

        Assert.Equal(2, code);
        Assert.Contains("lots", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_InstanceTypeWithoutAPrice_ExitsTwoAndSaysHowToAddIt()
    {
        await File.WriteAllTextAsync(_cli.PathOf("egress.yaml"),
            Examples.Text(Examples.Seed).Replace("instanceType: t3.micro", "instanceType: c7gn.medium", StringComparison.Ordinal)
                .Replace("architecture: amd64\n        publicIp: elastic", "architecture: arm64\n        publicIp: elastic", StringComparison.Ordinal));

        var (code, stdout, stderr) = await _cli.RunAsync("cost");

        Assert.True(code == 2, stderr);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("error: built-in price table: no ec2-instance c7gn.medium price for ap-northeast-1 (needed by host tokyo-nat)", stderr, StringComparison.Ordinal);
        Assert.Contains("egress cost --default-prices > prices.json", stderr, StringComparison.Ordinal);
        Assert.Contains("--prices prices.json", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_RegionWithoutPrices_ExitsTwoListingEachMissingPrice()
    {
        await File.WriteAllTextAsync(_cli.PathOf("egress.yaml"),
            Examples.Text(Examples.Seed).Replace("ap-southeast-1", "eu-west-1", StringComparison.Ordinal));

        var (code, _, stderr) = await _cli.RunAsync("cost");

        Assert.Equal(2, code);
        Assert.Contains("no ec2-instance t3.small price for eu-west-1 (needed by host sg-client)", stderr, StringComparison.Ordinal);
        Assert.Contains("no nat-gateway-hour price for eu-west-1", stderr, StringComparison.Ordinal);
        Assert.Contains("no inter-region-transfer price for eu-west-1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_OwnPrices_AreUsed()
    {
        await _cli.RunAsync("init");
        var defaults = await _cli.RunAsync("cost", "--default-prices");
        using var document = JsonDocument.Parse(defaults.Stdout);

        // The seed's NAT Gateway rate, $0.45/h, in place of Tokyo's $0.062.
        await File.WriteAllTextAsync(_cli.PathOf("mine.json"), defaults.Stdout.Replace(
            "\"item\": \"nat-gateway-hour\",\n      \"region\": \"ap-northeast-1\",\n      \"unit\": \"hour\",\n      \"usd\": 0.062,",
            "\"item\": \"nat-gateway-hour\",\n      \"region\": \"ap-northeast-1\",\n      \"unit\": \"hour\",\n      \"usd\": 0.45,", StringComparison.Ordinal));
        var (code, stdout, stderr) = await _cli.RunAsync("cost", "--prices", "mine.json");

        Assert.True(code == 0, stderr);
        Assert.Equal(JsonValueKind.Array, document.RootElement.GetProperty("prices").ValueKind);
        Assert.Contains("prices: mine.json", stdout, StringComparison.Ordinal);

        // 64.0292 + 168 × (0.45 − 0.062) = 64.0292 + 65.184 = 129.2132; the other two scenarios do not change.
        Assert.Equal(["$8.70", "$129.21", "$16.27"], TotalRows().Matches(stdout).Select(m => m.Groups["total"].Value));
    }

    [Fact]
    public async Task Cost_InvalidPricesFile_ExitsTwoWithPathsAndFixes()
    {
        await _cli.RunAsync("init");
        await File.WriteAllTextAsync(_cli.PathOf("bad.json"), """
            { "currency": "USD", "prices": [
              { "item": "nat-gateway-hour", "region": "ap-northeast-1", "unit": "hour", "usd": -0.062, "source": "x", "read": "2026-11-26" } ] }
            """);

        var (code, stdout, stderr) = await _cli.RunAsync("cost", "--prices", "bad.json");

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("bad.json: error: prices[0].usd: expected a number of US dollars from 0 to 1000000 per unit, found -0.062", stderr, StringComparison.Ordinal);
        Assert.Contains("fix: write a plain number", stderr, StringComparison.Ordinal);
        Assert.Contains("--prices bad.json: 1 error in the price table; fix it, or drop --prices", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_MissingPricesFile_ExitsTwo()
    {
        await _cli.RunAsync("init");

        var (code, _, stderr) = await _cli.RunAsync("cost", "--prices", "nope.json");

        Assert.Equal(2, code);
        Assert.Contains("--prices nope.json: no such file. Fix: pass a price table (JSON, at most 1 MiB): write one with 'egress cost --default-prices > prices.json'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_NoTopologyFile_UsesTheEmbeddedSeedAndSaysSo()
    {
        var (code, stdout, stderr) = await _cli.RunAsync("cost");

        Assert.Equal(0, code);
        Assert.Contains("using the embedded seed topology", stderr, StringComparison.Ordinal);
        Assert.Contains("86.4%", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_NamedFileMissing_ExitsTwo()
    {
        var (code, _, stderr) = await _cli.RunAsync("cost", "nope.yaml");

        Assert.Equal(2, code);
        Assert.Contains("nope.yaml: no such file", stderr, StringComparison.Ordinal);
    }

    private static string Money(JsonElement scenario, string name) =>
        "$" + scenario.GetProperty(name).GetDecimal().ToString("0.00", CultureInfo.InvariantCulture);

    private static string Percent(JsonElement savings, string name) =>
        savings.GetProperty(name).GetDecimal().ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>A line's cost cell: four decimals, last column (unit prices end in /h or /GB).</summary>
    [GeneratedRegex(@"(?<cost>\$\d+\.\d{4}) │\s*$", RegexOptions.Multiline)]
    private static partial Regex LineCostCells();

    [GeneratedRegex(@"^│ Total .*?(?<total>\$\d+\.\d{2}) │\s*$", RegexOptions.Multiline)]
    private static partial Regex TotalRows();
}
