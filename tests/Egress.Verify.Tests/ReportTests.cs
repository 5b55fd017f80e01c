using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Egress.Tests.Shared;
using Egress.Verify.Reporting;

namespace Egress.Verify.Tests;

public partial class ReportTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 5, 0, 0, TimeSpan.Zero);

    internal static async Task<VerifyReport> ReportAsync(Action<FakeEnvironment>? breakIt = null, int rounds = 2)
    {
        var fake = new FakeEnvironment();
        breakIt?.Invoke(fake);
        var options = FakeEnvironment.Options(rounds) with { Time = new FixedTime(Start) };
        return await new VerifySuite().RunAsync(fake.Build(), options, null, CancellationToken.None);
    }

    [Fact]
    public async Task Json_Report_HasTheDocumentedSchema()
    {
        using var document = JsonDocument.Parse(VerifyJsonWriter.Write(await ReportAsync(f => f.Client.On(s => s.Program == "mtr", _ => Samples.Result("mtr-lossy.json")))));
        var root = document.RootElement;

        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        AssertKeys(root, "schemaVersion", "environment", "stack", "startedAt", "finishedAt", "passed", "latencyEmulated", "reliability", "coldLatencyBudget", "failures", "rounds", "latency", "paths", "egress");
        AssertKeys(root.GetProperty("reliability"), "rounds", "passedRounds");
        AssertKeys(root.GetProperty("coldLatencyBudget"), "minMs", "maxMs", "judged", "basis");
        var round = root.GetProperty("rounds")[0];
        AssertKeys(round, "round", "passed", "checks");
        AssertKeys(round.GetProperty("checks")[0], "id", "area", "host", "target", "status", "detail");
        var latency = root.GetProperty("latency")[0];
        AssertKeys(latency, "client", "target", "cold", "coldBaselineMs", "keepAlive", "coldSamplesMs", "keepAliveSamplesMs");
        AssertKeys(latency.GetProperty("cold"), "samples", "failed", "phases");
        AssertKeys(latency.GetProperty("cold").GetProperty("phases"), "dns", "connect", "tls", "ttfb", "total");
        AssertKeys(latency.GetProperty("cold").GetProperty("phases").GetProperty("total"), "count", "p50", "p90", "p99", "max");
        AssertKeys(latency.GetProperty("coldSamplesMs")[0], "dns", "connect", "tls", "ttfb", "total");
        var path = root.GetProperty("paths")[0];
        AssertKeys(path, "client", "target", "tool", "expectedFirstHop", "problem", "hops");
        AssertKeys(path.GetProperty("hops")[1], "hop", "address", "lossPercent", "sent", "lastMs", "avgMs", "bestMs", "worstMs");
        AssertKeys(root.GetProperty("egress")[0], "client", "gateway", "expected", "observed");
        AssertKeys(root.GetProperty("egress")[0].GetProperty("observed"), "ip", "city", "region", "country", "org");
        Assert.Equal("not-judged", round.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "latency.cold-budget").GetProperty("status").GetString());
        Assert.Equal(0, root.GetProperty("failures").GetArrayLength());
    }

    [Fact]
    public async Task Json_FailedRun_ListsFailuresWithTheirRound()
    {
        var pings = 0;
        var report = await ReportAsync(f => f.Client.On(s => s.Program == "ping", _ => ++pings == 2 ? Samples.Result("ping-unreachable.txt", 1) : Samples.Result("ping-ok.txt")));

        using var document = JsonDocument.Parse(VerifyJsonWriter.Write(report));

        Assert.False(document.RootElement.GetProperty("passed").GetBoolean());
        Assert.Equal(1, document.RootElement.GetProperty("reliability").GetProperty("passedRounds").GetInt32());
        var failure = Assert.Single(document.RootElement.GetProperty("failures").EnumerateArray());
        Assert.Equal((2, "connectivity.tunnel", "connectivity", "fail"), (failure.GetProperty("round").GetInt32(), failure.GetProperty("id").GetString(), failure.GetProperty("area").GetString(), failure.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Json_HealthyRun_MatchesGoldenFile()
    {
        var json = VerifyJsonWriter.Write(await ReportAsync(rounds: 1));
        var golden = Path.Combine(SourceDirectory(), "Golden", "report.json");
        if (Environment.GetEnvironmentVariable("EGRESS_UPDATE_GOLDEN") == "1")
        {
            await File.WriteAllTextAsync(golden, json);
        }

        Assert.Equal(await File.ReadAllTextAsync(golden), json);
    }

    [Fact]
    public async Task Html_Report_IsSelfContainedWithAChartPerPhase()
    {
        var html = VerifyHtmlWriter.Write(await ReportAsync());

        Assert.Equal(5, SvgCharts().Count(html));
        Assert.Equal(5, html.Split("class=\"cdf-cold\"").Length - 1);
        Assert.Equal(5, html.Split("class=\"cdf-keepalive\"").Length - 1);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(ExternalReference(), html);
    }

    [Fact]
    public async Task Html_FailedRun_ShowsTheFailureAndEscapesText()
    {
        var report = await ReportAsync(f => f.Client.On(s => ScriptedRunner.IsCurlTo(s, "ipinfo.io"), _ => Samples.Result("ipinfo-not-json.txt")));

        var html = VerifyHtmlWriter.Write(report);

        Assert.Contains("<span class=\"fail\">FAIL</span>", html, StringComparison.Ordinal);
        Assert.Contains("the IP echo&#39;s answer is not JSON: &lt;html&gt;rate limited&lt;/html&gt;", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.3, 1)]
    [InlineData(7, 10)]
    [InlineData(72.4, 100)]
    [InlineData(151, 200)]
    [InlineData(451, 500)]
    [InlineData(1000, 1000)]
    public void NiceCeiling_RoundsUpToOneTwoFive(double value, double expected) => Assert.Equal(expected, VerifyHtmlWriter.NiceCeiling(value));

    /// <summary>The report opened in headless Chromium: the charts exist in the rendered DOM.</summary>
    [ChromiumFact]
    public async Task Html_OpenedInHeadlessChromium_RendersTheSvgCharts()
    {
        Prerequisites.RequireProgram("chromium", "chromium");
        var directory = Directory.CreateTempSubdirectory("egv-html-");
        try
        {
            var file = Path.Combine(directory.FullName, "report.html");
            await File.WriteAllTextAsync(file, VerifyHtmlWriter.Write(await ReportAsync()));

            var dom = await DumpDomAsync(file, Path.Combine(directory.FullName, "profile"));

            Assert.Contains("<title>egress verify: egress-seed (fake) PASS</title>", dom, StringComparison.Ordinal);
            Assert.Equal(5, SvgCharts().Count(dom));
            Assert.Equal(5, dom.Split("class=\"cdf-cold\"").Length - 1);
            Assert.Equal(5, dom.Split("class=\"cdf-keepalive\"").Length - 1);
            Assert.Matches("<path class=\"cdf-cold\" d=\"M48,[0-9.]+ H", dom);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<string> DumpDomAsync(string file, string profile)
    {
        var info = new ProcessStartInfo("chromium")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", $"--user-data-dir={profile}", "--dump-dom", new Uri(file).AbsoluteUri,
                 })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium did not finish within 60 s: {await stderr}");
        }

        var dom = await stdout;
        Assert.True(process.ExitCode == 0 && dom.Length > 0, $"chromium exited {process.ExitCode}: {await stderr}");
        return dom;
    }

    private static void AssertKeys(JsonElement element, params string[] keys) =>
        Assert.Equal(keys.Order(), element.EnumerateObject().Select(p => p.Name).Order());

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    [GeneratedRegex("<svg class=\"cdf\"")]
    private static partial Regex SvgCharts();

    [GeneratedRegex("(src|href)=\"(https?:)?//", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}

/// <summary>A test that needs Debian's chromium: skipped with a reason when it is missing, unless CI is set, where the
/// missing browser fails the test.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Prerequisites.FindOnPath("chromium") is null && !Prerequisites.InCi)
        {
            Skip = "chromium is not installed (apt-get install chromium); set CI=true to make this a failure";
        }
    }
}
