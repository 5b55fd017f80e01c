using System.Text.Json;
using Egress.Core.Topology;
using Egress.Terminal;

namespace Egress.Cli.Tests;

/// <summary>Tables at 80 columns and in logs: a value (address, id, CIDR, price) is never split; a table that does not
/// fit becomes a list; COLUMNS sets the width when output is piped.</summary>
public sealed class CliTableTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    private async Task<(string Text, JsonElement Json)> CostAsync(string example, int width)
    {
        await File.WriteAllTextAsync(_cli.PathOf("t.yaml"), Examples.Text(example));
        using var stdout = new StringWriter();
        var context = new CliContext(stdout, TextWriter.Null, _cli.Directory, colors: false) { Width = width };
        Assert.Equal(0, await EgressCli.RunAsync(["cost", "t.yaml"], context));
        var json = await _cli.RunAsync("cost", "t.yaml", "-o", "json");
        return (stdout.ToString(), JsonDocument.Parse(json.Stdout).RootElement.Clone());
    }

    [Theory]
    [InlineData(Examples.Seed, 80)]
    [InlineData(Examples.ThreeRegion, 80)]
    [InlineData(Examples.Failover, 80)]
    [InlineData(Examples.Seed, 60)]
    [InlineData(Examples.ThreeRegion, 40)]
    public async Task Cost_AtAnyWidth_EveryValueStaysOnOneLineAndNoLineIsWider(string example, int width)
    {
        var (text, json) = await CostAsync(example, width);
        var lines = text.Split('\n');

        foreach (var line in json.GetProperty("scenarios").EnumerateArray().SelectMany(s => s.GetProperty("lines").EnumerateArray()))
        {
            var region = line.GetProperty("region").GetString()!;
            Assert.Contains(lines, l => l.Contains(region, StringComparison.Ordinal));
            var cost = "$" + line.GetProperty("cost").GetDecimal().ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains(lines, l => l.Contains(cost, StringComparison.Ordinal));
        }

        Assert.All(lines.Where(l => l.StartsWith('│') || l.StartsWith('╭')), l => Assert.True(l.Length <= width, $"{l.Length} > {width}: {l}"));
    }

    [Fact]
    public async Task Cost_TooNarrowForTheTable_PrintsAList()
    {
        var (text, _) = await CostAsync(Examples.Seed, 40);

        Assert.DoesNotContain("│", text, StringComparison.Ordinal);
        Assert.Contains("- Item:       EC2 t3.small: sg-client", text, StringComparison.Ordinal);
        Assert.Contains("  Region:     ap-southeast-1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Layout_ValueWiderThanTheConsole_FallsBackToAList()
    {
        var table = new CliTable(null, new CliColumn("resource"), new CliColumn("id"));
        table.AddRow("instance/sg-client", "i-0123456789abcdef0123456789abcdef0123456789abcdef0123456789");

        Assert.Null(table.Layout(80));
        Assert.NotNull(table.Layout(120));
    }

    [Fact]
    public void Layout_ProseColumn_WrapsBetweenWordsButNeverNarrowerThanItsLongestWord()
    {
        var table = new CliTable(null, new CliColumn("what", Prose: true), new CliColumn("cidr"));
        table.AddRow("a rather long description of the subnet", "10.0.1.0/24");

        var widths = table.Layout(40)!;

        Assert.Equal("10.0.1.0/24".Length, widths[1]);
        Assert.True(widths[0] >= "description".Length);
        Assert.True(widths.Sum() + 7 <= 40);
    }

    [Theory]
    [InlineData("132", null, 132)]
    [InlineData(null, 100, 100)]
    [InlineData(null, null, 80)]
    [InlineData("abc", 90, 90)]
    [InlineData("5", null, 80)]
    public void WidthFrom_ColumnsThenTerminalThen80(string? columns, int? terminal, int expected) =>
        Assert.Equal(expected, CliContext.WidthFrom(columns, () => terminal));

    [Fact]
    public void Wrap_LongLine_BreaksBetweenWordsUnderAHangingIndentAndKeepsEveryWord()
    {
        var line = "      + ingress protocol 4 from 10.0.1.10/32; protocol 4 from 10.2.1.10/32; all egress to 0.0.0.0/0";

        var lines = CliText.WrapLine(line, 40).ToList();

        Assert.True(lines.Count > 1);
        Assert.All(lines, l => Assert.True(l.Length <= 40, l));
        Assert.All(lines.Skip(1), l => Assert.StartsWith(new string(' ', 6 + CliText.Hanging), l, StringComparison.Ordinal));
        Assert.Equal(line.Split(' ', StringSplitOptions.RemoveEmptyEntries), string.Join(' ', lines).Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Wrap_WordLongerThanTheWidth_StandsWholeOnItsOwnLine()
    {
        var id = "i-0123456789abcdef0123456789abcdef0123456789";

        var lines = CliText.WrapLine($"  delete {id} now", 30).ToList();

        Assert.Equal(["  delete", new string(' ', 2 + CliText.Hanging) + id, new string(' ', 2 + CliText.Hanging) + "now"], lines);
    }

    [Fact]
    public void Wrap_ShortLinesAndLineEnds_AreUnchanged()
    {
        var text = "Plan: 3 to add.\n\n  +   a  (b)\n";

        Assert.Equal(text, CliText.Wrap(text, 80));
    }
}
