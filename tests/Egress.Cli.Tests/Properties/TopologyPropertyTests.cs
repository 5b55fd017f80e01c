using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using CsCheck;
using Egress.Aws.Testing;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Lab.World;
using Xunit.Abstractions;

namespace Egress.Cli.Tests.Properties;

/// <summary>No input crashes the tool: thousands of generated and mutated topology documents through the loader and
/// every verb that reads a topology (validate, show, cost, render, plan against the in-memory fake AWS) and the lab's
/// planner. Each ends in exit 0, or exit 2 with every error located (file:line:column and the path); never exit 70.
/// The counts come from EGRESS_PROPERTY_CASES (default below) so a developer can run more.</summary>
public sealed partial class TopologyPropertyTests(ITestOutputHelper output)
{
    /// <summary>Loader-only cases: cheap (about 0.1 ms each), so many.</summary>
    private static readonly long LoaderCases = Cases(20_000);

    /// <summary>Whole-CLI cases: each runs six verbs in process.</summary>
    private static readonly long CliCases = Cases(1_000);

    /// <summary>shellcheck takes about 0.5 s of CPU a script (seconds on a loaded machine): a sample of the distinct
    /// valid scripts keeps CI time sane. Host.Tests shellchecks every example × overlay mode besides.</summary>
    private const int ShellcheckSample = 6;

    private static long Cases(long fallback) =>
        long.TryParse(Environment.GetEnvironmentVariable("EGRESS_PROPERTY_CASES"), out var n) && n > 0 ? n : fallback;

    [Fact]
    public void Load_AnyDocument_ReturnsModelOrLocatedErrorsNeverThrows()
    {
        var clock = Stopwatch.StartNew();
        var valid = 0L;
        TopologyDocuments.Any.Sample(text =>
        {
            var result = TopologyLoader.Load(text, "t.yaml");
            if (result.Succeeded)
            {
                Interlocked.Increment(ref valid);
                _ = TopologyWriter.ToYaml(result.Topology!);
                _ = TunnelPairs.Of(result.Topology!);
                return;
            }

            Assert.NotEmpty(result.Errors);
            foreach (var error in result.Errors)
            {
                Assert.True(error.Line > 0, $"error without a line: {error}");
            }
        }, iter: LoaderCases, print: Show);
        output.WriteLine($"loader: {LoaderCases} documents ({valid} valid), 0 crashes, {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public void Verbs_AnyDocument_ExitZeroOrTwoWithLocationNeverSeventy()
    {
        var clock = Stopwatch.StartNew();
        var scripts = new ConcurrentDictionary<string, string>();
        var valid = 0L;
        using var runner = new CliRunner();
        var file = runner.PathOf("t.yaml");
        TopologyDocuments.Any.Sample(text =>
        {
            File.WriteAllBytes(file, System.Text.Encoding.UTF8.GetBytes(text)); // a lone surrogate becomes U+FFFD
            var validate = Run(runner, "validate", "t.yaml");
            Assert.True(validate.ExitCode is 0 or 2, Explain("validate", validate));
            if (validate.ExitCode == 2)
            {
                Assert.Matches(Located(), validate.Stderr);
            }

            var json = Run(runner, "validate", "-f", "t.yaml", "-o", "json");
            Assert.Equal(validate.ExitCode, json.ExitCode);
            using (JsonDocument.Parse(json.Stdout))
            {
            }

            foreach (var args in new[] { new[] { "show", "t.yaml" }, ["show", "t.yaml", "-o", "json"] })
            {
                var result = Run(runner, args);
                Assert.True(result.ExitCode == validate.ExitCode, Explain(string.Join(' ', args), result));
            }

            // cost also refuses (exit 2) a valid topology in a region its price table lacks.
            foreach (var args in new[] { new[] { "cost", "t.yaml" }, ["cost", "t.yaml", "-o", "json"] })
            {
                var result = Run(runner, args);
                Assert.True(result.ExitCode is 0 or 2 && (validate.ExitCode == 0 || result.ExitCode == 2), Explain(string.Join(' ', args), result));
            }

            var plan = Run(runner, "plan", "-f", "t.yaml");
            Assert.True(plan.ExitCode is 0 or 2, Explain("plan", plan));
            if (validate.ExitCode != 0)
            {
                var render = Run(runner, "render", "any", "t.yaml", "--overlay", "ipip");
                Assert.True(render.ExitCode == 2, Explain("render", render));
                return;
            }

            Interlocked.Increment(ref valid);
            var topology = TopologyLoader.Load(text).Require();
            foreach (var host in topology.Hosts)
            {
                var render = Run(runner, "render", host.Name, "t.yaml", "--overlay", "ipip");
                Assert.True(render.ExitCode is 0 or 2, Explain("render", render));
                if (render.ExitCode == 0)
                {
                    scripts.TryAdd(render.Stdout, host.Name);
                }
            }

            try
            {
                _ = LabWorldPlanner.Plan(topology, "prop1", OverlayMode.Vxlan);
            }
            catch (LabPlanException)
            {
                // A topology the lab cannot build is refused with a message (exit 2 in 'lab up'); anything else is a bug.
            }
        }, iter: CliCases, threads: 1, print: Show);
        output.WriteLine($"verbs: {CliCases} documents ({valid} valid, {scripts.Count} distinct scripts), 0 exit 70, {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(valid > CliCases / 20, $"only {valid} of {CliCases} documents were valid: the generator no longer reaches the renderers");
        ShellcheckSampled(scripts.Keys);
    }

    [Fact]
    public void Verbs_MostlyValidDocuments_RenderScriptsThatPassShellcheck()
    {
        var scripts = new ConcurrentDictionary<string, byte>();
        TopologyDocuments.MostlyValid.Sample(text =>
        {
            var result = TopologyLoader.Load(text);
            if (!result.Succeeded)
            {
                return;
            }

            var topology = result.Topology!;
            topology = topology with { Overlay = topology.Overlay with { Mode = topology.Overlay.Mode == OverlayMode.Auto ? OverlayMode.Vxlan : topology.Overlay.Mode } };
            foreach (var host in topology.Hosts)
            {
                try
                {
                    scripts.TryAdd(Egress.Host.Rendering.HostRenderer.Render(topology, host.Name, Egress.Host.Rendering.RenderFormat.Script), 0);
                }
                catch (ArgumentException)
                {
                    // A host with nothing to do (a gateway no client uses): 'egress render' says so with exit 2.
                }
            }
        }, iter: Cases(300), threads: 1);
        Assert.NotEmpty(scripts);
        ShellcheckSampled(scripts.Keys);
    }

    private void ShellcheckSampled(ICollection<string> scripts)
    {
        if (Environment.GetEnvironmentVariable("PATH")?.Split(':').Any(d => File.Exists(Path.Combine(d, "shellcheck"))) != true &&
            Environment.GetEnvironmentVariable("CI") is null)
        {
            output.WriteLine("shellcheck not installed: sample not checked (CI has it)");
            return;
        }

        var sample = scripts.OrderBy(s => s.GetHashCode(StringComparison.Ordinal)).Take(ShellcheckSample).ToList();
        foreach (var script in sample)
        {
            var result = ProcessRunner.Instance.RunAsync(new CommandSpec("shellcheck", ["--shell=sh", "--severity=style", "-"]) { StandardInput = script })
                .GetAwaiter().GetResult();
            Assert.True(result.Succeeded, $"shellcheck exited {result.ExitCode}:\n{result.StandardOutput}{result.StandardError}\n{script}");
        }

        output.WriteLine($"shellcheck: {sample.Count} of {scripts.Count} distinct scripts, 0 findings");
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(CliRunner runner, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, runner.Directory, colors: false)
        {
            AwsPorts = _ => new FakeAwsCloud(),
            Time = new InstantTimeProvider(),
        };
        var code = EgressCli.RunAsync(args, context).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Explain(string verb, (int ExitCode, string Stdout, string Stderr) result) =>
        $"{verb} exited {result.ExitCode}:\n{Shorten(result.Stderr)}\n{Shorten(result.Stdout)}";

    private static string Show(string text) => "\n--- document ---\n" + Shorten(text) + "\n---";

    private static string Shorten(string text) => text.Length > 4000 ? text[..4000] + "…" : text;

    /// <summary>An error line that names the file, line and column.</summary>
    [GeneratedRegex(@"(?m)^t\.yaml:\d+:\d+: error: ")]
    private static partial Regex Located();
}
