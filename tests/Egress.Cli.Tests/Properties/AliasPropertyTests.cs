using System.Diagnostics;
using CsCheck;
using Egress.Core.Topology;
using Xunit.Abstractions;

namespace Egress.Cli.Tests.Properties;

/// <summary>Issue 24: alias structures (anchors, aliases, nested aliases, merge keys) through the loader and validate.
/// Each document loads in bounded time into a valid topology or errors that all carry a line and column.</summary>
public sealed class AliasPropertyTests(ITestOutputHelper output)
{
    private static long Cases(long fallback) =>
        long.TryParse(Environment.GetEnvironmentVariable("EGRESS_PROPERTY_CASES"), out var n) && n > 0 ? n : fallback;

    /// <summary>A generous bound for one document on a loaded 2-core machine; the slowest measured is in the output.</summary>
    private static readonly TimeSpan PerDocument = TimeSpan.FromSeconds(5);

    [Fact]
    public void Load_AnyAliasStructure_ValidOrLocatedErrorsInBoundedTime()
    {
        var cases = Cases(5_000);
        var clock = Stopwatch.StartNew();
        long valid = 0, refusedAtBound = 0, slowestTicks = 0;
        AliasDocuments.Any.Sample(text =>
        {
            var one = Stopwatch.StartNew();
            var result = TopologyLoader.Load(text, "t.yaml");
            one.Stop();
            InterlockedMax(ref slowestTicks, one.Elapsed.Ticks);
            Assert.True(one.Elapsed < PerDocument, $"{one.Elapsed.TotalMilliseconds:0} ms");
            if (result.Succeeded)
            {
                Interlocked.Increment(ref valid);
                _ = TopologyWriter.ToYaml(result.Topology!);
                return;
            }

            Assert.NotEmpty(result.Errors);
            Assert.All(result.Errors, e => Assert.True(e.Line > 0 && e.Column > 0, $"error without a position: {e}"));
            if (result.Errors.Any(e => e.Message.Contains("aliases expand the document past", StringComparison.Ordinal)))
            {
                Interlocked.Increment(ref refusedAtBound);
            }
        }, iter: cases, print: t => "\n--- document ---\n" + (t.Length > 4000 ? t[..4000] + "…" : t) + "\n---");
        output.WriteLine($"aliases: {cases} documents ({valid} valid, {refusedAtBound} refused at the alias bound), 0 crashes, slowest {TimeSpan.FromTicks(slowestTicks).TotalMilliseconds:0} ms, {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(valid > 0, "the generator no longer makes valid documents");
        Assert.True(refusedAtBound > 0, "the generator no longer reaches the alias bound");
    }

    [Fact]
    public void Validate_AnyAliasStructure_ExitZeroOrTwoWithLocation()
    {
        var cases = Cases(300);
        using var runner = new CliRunner();
        var file = runner.PathOf("t.yaml");
        AliasDocuments.Any.Sample(text =>
        {
            File.WriteAllText(file, text);
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var code = EgressCli.RunAsync(["validate", "t.yaml"], new CliContext(stdout, stderr, runner.Directory, colors: false)).GetAwaiter().GetResult();
            Assert.True(code is 0 or 2, $"exit {code}:\n{stderr}");
            if (code == 2)
            {
                Assert.Matches(@"(?m)^t\.yaml:\d+:\d+: error: ", stderr.ToString());
                Assert.True(stderr.ToString().Split('\n').Length < 2 * TopologyFile.MaxPrinted + 10, "printed diagnostics are bounded");
            }
        }, iter: cases, threads: 1);
        output.WriteLine($"aliases through validate: {cases} documents, 0 exit 70");
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
