using System.Diagnostics;
using Egress.Core.Topology;

namespace Egress.Cli.Tests;

/// <summary>What 'egress validate' loads when it starts (bench/startup.sh has the times): the built egress.dll runs as
/// its own process with EGRESS_STARTUP_TRACE=2, which names every assembly as it loads.</summary>
public sealed class StartupTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("egress-startup-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int ExitCode, string Stderr)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "egress.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["EGRESS_STARTUP_TRACE"] = "2";
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
