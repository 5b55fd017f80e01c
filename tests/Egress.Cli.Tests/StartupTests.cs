using System.Diagnostics;
using Egress.Core.Topology;

namespace Egress.Cli.Tests;

/// <summary>What 'egress validate' loads and compiles when it starts (bench/startup.sh has the times): the built egress.dll
/// runs as its own process with EGRESS_STARTUP_TRACE=2, which names every assembly as it loads, or =3, which names every
/// method the JIT compiles.</summary>
public sealed class StartupTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("egress-startup-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Task<(int ExitCode, string Stderr)> RunAsync(params string[] args) => RunTracedAsync("2", args);

    private async Task<(int ExitCode, string Stderr)> RunTracedAsync(string trace, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "egress.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["EGRESS_STARTUP_TRACE"] = trace;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await stdout;
        return (process.ExitCode, await stderr);
    }

    private static List<string> Loaded(string stderr) =>
        [.. stderr.Split('\n').Where(l => l.StartsWith("startup-trace", StringComparison.Ordinal) && l.Contains(" load ", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(" load ", StringComparison.Ordinal) + 6)..].Trim())];

    [Fact]
    public async Task Validate_Text_GeneratesNoCodeAndLoadsNeitherJsonNorTheAwsSdk()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "egress.yaml"), Examples.Text(Examples.Seed));

        var (code, stderr) = await RunAsync("validate", "egress.yaml");

        Assert.Equal(0, code);
        var loaded = Loaded(stderr);
        Assert.Contains("YamlDotNet", loaded); // the trace sees the loads that do happen
        Assert.DoesNotContain(loaded, a => a.StartsWith("System.Reflection.Emit", StringComparison.Ordinal)); // no compiled regex
        Assert.DoesNotContain("System.Text.Json", loaded);
        Assert.DoesNotContain(loaded, a => a.StartsWith("AWSSDK", StringComparison.Ordinal));
        Assert.Contains("startup-trace", stderr, StringComparison.Ordinal);
        Assert.Contains(stderr.Split('\n'), l => l.EndsWith("ms  exit", StringComparison.Ordinal));
    }

    private static List<string> Jitted(string stderr) =>
        [.. stderr.Split('\n').Where(l => l.StartsWith("startup-trace", StringComparison.Ordinal) && l.Contains(" jit ", StringComparison.Ordinal) && l.Contains("::", StringComparison.Ordinal))
            .Select(l => l[(l.LastIndexOf(" jit ", StringComparison.Ordinal) + 5)..].Trim())];

    /// <summary>ReadyToRun cannot precompile a framework generic over one of egress's value types (a Dictionary of an
    /// egress enum, System.CommandLine's Option of one), nor the framework's vectorised searches that building a Uri or
    /// running a generated regex calls: each was JIT-compiled on every start, about 40 ms of 'egress validate' on the
    /// seed. This build is plain IL (all of egress's own code is JIT-compiled), so it names every such instantiation.</summary>
    [Fact]
    public async Task Validate_Text_JitCompilesNoFrameworkGenericOverAnEgressTypeAndBuildsNoUriOrRegex()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "egress.yaml"), Examples.Text(Examples.Seed));

        var (code, stderr) = await RunTracedAsync("3", "validate", "egress.yaml");

        Assert.Equal(0, code);
        var jitted = Jitted(stderr);
        Assert.Contains("Egress.Core.Topology.TopologyLoader::Load", jitted); // the trace sees the compilations that do happen
        // Nullable<T> is the exception: the runtime lets ReadyToRun compile it into egress's own code.
        Assert.DoesNotContain(jitted, m => m.StartsWith("System.", StringComparison.Ordinal) && !m.StartsWith("System.Nullable`1[", StringComparison.Ordinal) &&
            m[..m.IndexOf("::", StringComparison.Ordinal)].Contains("Egress.", StringComparison.Ordinal));
        Assert.DoesNotContain(jitted, m => m.StartsWith("System.Buffers.IndexOfAnyAsciiSearcher", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Validate_Json_StillWorksWithoutCodeGeneration()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "egress.yaml"), Examples.Text(Examples.Seed));

        var (code, stderr) = await RunAsync("validate", "egress.yaml", "-o", "json");

        Assert.Equal(0, code);
        Assert.Contains("System.Text.Json", Loaded(stderr));
        Assert.DoesNotContain(Loaded(stderr), a => a.StartsWith("System.Reflection.Emit", StringComparison.Ordinal));
    }
}
