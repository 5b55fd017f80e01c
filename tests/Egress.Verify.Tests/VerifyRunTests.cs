using System.Text.Json;
using Spectre.Console;

namespace Egress.Verify.Tests;

public class VerifyRunTests
{
    private sealed class Captured(int width = 250)
    {
        public StringWriter Human { get; } = new();

        public StringWriter Stdout { get; } = new();

        public VerifyOutput Output(VerifyOutputFormat format, string? html = null) =>
            new(Console(Human), Console(Stdout), Stdout, format, html);

        private IAnsiConsole Console(TextWriter writer)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(writer),
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
            });
            console.Profile.Width = width;
            return console;
        }
    }

    [Fact]
    public async Task RunAsync_Passing_Exit0WithTablesOnStdoutAndProgressOnStderr()
    {
        var captured = new Captured();

        var exit = await VerifyRun.RunAsync(new FakeEnvironment().Build(), FakeEnvironment.Options(2), captured.Output(VerifyOutputFormat.Text), CancellationToken.None);

        Assert.Equal(0, exit);
        var stdout = captured.Stdout.ToString();
        Assert.Contains("egress verify: egress-seed on fake: PASS (2/2 rounds passed; every round must pass)", stdout, StringComparison.Ordinal);
        Assert.Contains("latency emulation is off: the cold latency budget (200-400 ms) is not judged", stdout, StringComparison.Ordinal);
        Assert.Contains("keepalive-reuse", stdout, StringComparison.Ordinal);
        Assert.Contains("192.168.250.1", stdout, StringComparison.Ordinal);
        var stderr = captured.Human.ToString();
        Assert.Contains("[round 2/2] sg-client: keep-alive requests to api.binance.com", stderr, StringComparison.Ordinal);
        Assert.Contains("verify passed (2/2 rounds passed)", stderr, StringComparison.Ordinal);
    }

    /// <summary>At 80 columns (a terminal, or COLUMNS in a log) no line is wider, and no id, address or URL is split:
    /// a table that does not fit becomes a list, long lines break between words.</summary>
    [Fact]
    public async Task RunAsync_Failing_At80Columns_NoLineWider_NoValueSplit()
    {
        var fake = new FakeEnvironment();
        fake.Client.On(s => s.Program == "mtr", _ => Samples.Result("mtr-wrong-first-hop.json"));
        var captured = new Captured(80);

        await VerifyRun.RunAsync(fake.Build(), FakeEnvironment.Options(1), captured.Output(VerifyOutputFormat.Text), CancellationToken.None);

        var stdout = captured.Stdout.ToString();
        var lines = stdout.Split('\n');
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= 80, $"{l.TrimEnd().Length} columns: {l}"));
        var words = stdout.Split([' ', '\n', '\r', '│', '─', '┌', '┐', '└', '┘', '├', '┤', '┬', '┴', '┼', '╭', '╮', '╰', '╯'], StringSplitOptions.RemoveEmptyEntries);
        foreach (var value in new[] { "latency.keepalive-reuse", "path.first-hop", "https://api.binance.com/api/v3/time", "192.168.250.1", "egress-seed" })
        {
            Assert.Contains(value, words.Select(w => w.TrimEnd(',', ':', ';', ')').TrimStart('(')));
        }

        Assert.Contains("FAIL", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_JsonFailing_Exit1WithOnlyJsonOnStdout()
    {
        var fake = new FakeEnvironment();
        fake.Client.On(s => s.Program == "mtr", _ => Samples.Result("mtr-wrong-first-hop.json"));
        var captured = new Captured();

        var exit = await VerifyRun.RunAsync(fake.Build(), FakeEnvironment.Options(1), captured.Output(VerifyOutputFormat.Json), CancellationToken.None);

        Assert.Equal(1, exit);
        using var document = JsonDocument.Parse(captured.Stdout.ToString());
        Assert.False(document.RootElement.GetProperty("passed").GetBoolean());
        Assert.Contains("verify failed: path.first-hop (sg-client)", captured.Human.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Html_WritesTheFile()
    {
        var directory = Directory.CreateTempSubdirectory("egv-run-");
        try
        {
            var file = Path.Combine(directory.FullName, "verify.html");
            var captured = new Captured();

            var exit = await VerifyRun.RunAsync(new FakeEnvironment().Build(), FakeEnvironment.Options(1), captured.Output(VerifyOutputFormat.Text, file), CancellationToken.None);

            Assert.Equal(0, exit);
            Assert.Contains("<svg class=\"cdf\"", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task RunAsync_HtmlDirectoryMissing_Exit2BeforeMeasuring()
    {
        var fake = new FakeEnvironment();
        var captured = new Captured();

        var exit = await VerifyRun.RunAsync(fake.Build(), FakeEnvironment.Options(1), captured.Output(VerifyOutputFormat.Text, "/nonexistent-egv/report.html"), CancellationToken.None);

        Assert.Equal(2, exit);
        Assert.Contains("--html /nonexistent-egv/report.html: the directory /nonexistent-egv does not exist", captured.Human.ToString(), StringComparison.Ordinal);
        Assert.Empty(fake.Client.Calls);
    }

    [Fact]
    public async Task RunAsync_ZeroRounds_Exit2()
    {
        var captured = new Captured();

        var exit = await VerifyRun.RunAsync(new FakeEnvironment().Build(), FakeEnvironment.Options(1) with { Rounds = 0 }, captured.Output(VerifyOutputFormat.Text), CancellationToken.None);

        Assert.Equal(2, exit);
        Assert.Contains("rounds must be at least 1 (got 0)", captured.Human.ToString(), StringComparison.Ordinal);
    }
}
