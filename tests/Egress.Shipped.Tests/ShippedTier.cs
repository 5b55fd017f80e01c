using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Egress.Shipped.Tests;

/// <summary>The exit codes of the README's table, written out here rather than read from src/ (this tier tests the
/// artifact, not the code).</summary>
public static class Exit
{
    public const int Ok = 0;
    public const int CheckFailed = 1;
    public const int BadInput = 2;
    public const int Bug = 70;
    public const int Cancelled = 130;
}

/// <summary>One run of the shipped egress: which artifact, the arguments, what it printed and how it ended.</summary>
public sealed record Invocation(string Artifact, IReadOnlyList<string> Arguments, int ExitCode, string Output, string Error, TimeSpan Elapsed)
{
    public string CommandLine => "egress " + string.Join(' ', Arguments.Select(Quote));

    /// <summary>stdout and stderr together: apply and destroy print the plan and progress on stderr (stdout is for -o json).</summary>
    public string Text => Output + "\n" + Error;

    public string Describe() =>
        $"{Artifact}: {CommandLine}\n  exit {ExitCode} after {Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";

    internal static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@+,".Contains(c, StringComparison.Ordinal)) ? word : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>How to run one invocation.</summary>
public sealed record RunOptions
{
    public required string WorkingDirectory { get; init; }

    /// <summary>Added to (or, when null, removed from) the inherited environment.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>Run on a pseudo-terminal (util-linux `script`) and type this; null: stdin is a closed pipe, not a terminal.</summary>
    public string? TerminalInput { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(3);
}

/// <summary>A built artifact: `./egress` (the README's build) or the packed .NET tool installed into a folder.</summary>
public sealed class Artifact(string name, string program)
{
    /// <summary>"publish" (the wrapper's ReadyToRun publish) or "tool" (dotnet pack + dotnet tool install --tool-path).</summary>
    public string Name => name;

    public string Program => program;

    public EgressCommand In(string workingDirectory, IReadOnlyDictionary<string, string?>? environment = null) =>
        new(this, new RunOptions { WorkingDirectory = workingDirectory, Environment = environment ?? new Dictionary<string, string?>() });

    public override string ToString() => name;
}

/// <summary>Egress through one artifact, in one working directory: every invocation names the exit code the README
/// documents for it, and goes through <see cref="ShippedTier.InvokeAsync"/>.</summary>
public sealed class EgressCommand(Artifact artifact, RunOptions options)
{
    public Artifact Artifact => artifact;

    public string WorkingDirectory => options.WorkingDirectory;

    public Task<Invocation> RunAsync(int expected, params string[] args) => ShippedTier.InvokeAsync(artifact, args, options, [expected]);

    /// <summary>For a state in passing (a client failing back): any of <paramref name="expected"/> is right.</summary>
    public Task<Invocation> RunAsync(IReadOnlyCollection<int> expected, params string[] args) => ShippedTier.InvokeAsync(artifact, args, options, expected);

    /// <summary>On a pseudo-terminal, typing <paramref name="input"/>.</summary>
    public Task<Invocation> OnTerminalAsync(string input, int expected, params string[] args) =>
        ShippedTier.InvokeAsync(artifact, args, options with { TerminalInput = input }, [expected]);

    public EgressCommand WithTimeout(TimeSpan timeout) => new(artifact, options with { Timeout = timeout });
}

/// <summary>The tier's one way to run egress, the builds of the two artifacts (once per test run, shared by every test)
/// and the count of invocations. Every invocation anywhere fails its test when it exits 70 (a bug, by the README's
/// table) or prints a .NET stack trace, whatever exit code the test expected; the count and those failures are written
/// after every invocation to artifacts/shipped-tier/summary.txt, whose line eng/test.sh prints.</summary>
public static partial class ShippedTier
{
    public const string Publish = "publish";
    public const string Tool = "tool";

    public static readonly string[] ArtifactNames = [Publish, Tool];

    public static TheoryData<string> Artifacts => [.. ArtifactNames];

    /// <summary>The repository: the folder above the tests that holds Egress.slnx and the `egress` wrapper.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>This run's scratch folder (tool install, test directories), removed when the test host exits.</summary>
    public static string ScratchRoot { get; } = CreateScratchRoot();

    public static string SummaryFile => Path.Combine(RepositoryRoot, "artifacts", "shipped-tier", "summary.txt");

    public static string LogFile => Path.Combine(RepositoryRoot, "artifacts", "shipped-tier", "invocations.log");

    private static readonly Lock Gate = new();
    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    private static readonly Dictionary<string, int> CountByArtifact = new(StringComparer.Ordinal);
    private static int _exits70;
    private static int _stackTraces;
    private static int _unexpected;

    private static readonly Lazy<Task<Artifact>> PublishBuild = new(() => Task.Run(BuildPublishAsync));
    private static readonly Lazy<Task<Artifact>> ToolBuild = new(() => Task.Run(BuildToolAsync));

    [GeneratedRegex(@"^\s+at \S+\(|--- End of stack trace|hit a bug|Unhandled exception", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex StackTrace();

    static ShippedTier()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(SummaryFile)!);
        File.Delete(LogFile);
        WriteSummary();
    }

    /// <summary>The artifact, built on first use: the publish first, then the tool (they share src/'s obj folders, so never
    /// at once). The tool's build starts with the first use of either, so that it runs while the publish's tests do.</summary>
    public static Task<Artifact> ArtifactAsync(string name)
    {
        var tool = ToolBuild.Value;
        return name switch
        {
            Publish => PublishBuild.Value,
            Tool => tool,
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "publish or tool"),
        };
    }

    /// <summary>A new empty folder under this run's scratch root.</summary>
    public static string NewDirectory(string prefix) =>
        Directory.CreateDirectory(Path.Combine(ScratchRoot, $"{prefix}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}")).FullName;

    /// <summary>Runs egress once and checks it: not exit 70, no stack trace, and one of the exit codes the test expects.</summary>
    internal static async Task<Invocation> InvokeAsync(Artifact artifact, IReadOnlyList<string> args, RunOptions options, IReadOnlyCollection<int> expected)
    {
        string program;
        List<string> arguments;
        if (options.TerminalInput is null)
        {
            (program, arguments) = (artifact.Program, [.. args]);
        }
        else
        {
            // util-linux script: egress's stdin and stdout are a terminal; script forwards what we type to it and exits with its code.
            var line = string.Join(' ', new[] { artifact.Program }.Concat(args).Select(Invocation.Quote));
            (program, arguments) = ("script", ["-qec", line, "/dev/null"]);
        }

        var result = await RunProcessAsync(program, arguments, options.WorkingDirectory, options.Environment, options.TerminalInput, options.Timeout);
        var invocation = new Invocation(artifact.Name, args, result.ExitCode, result.Output, result.Error, result.Elapsed);
        var trace = StackTrace().Match(result.Output + "\n" + result.Error);
        var unexpected = !expected.Contains(result.ExitCode);
        Record(invocation, trace.Success, unexpected);

        Assert.False(result.ExitCode == Exit.Bug, $"exit 70 (a bug in egress, by the README's table):\n{invocation.Describe()}");
        Assert.False(trace.Success, $"a .NET stack trace or bug report ('{trace.Value.Trim()}') in the output:\n{invocation.Describe()}");
        Assert.False(result.TimedOut, $"still running after {options.Timeout.TotalSeconds} s (killed):\n{invocation.Describe()}");
        Assert.False(result.OutputLeftOpen, $"exited, but its stdout/stderr stayed open 30 s (a child it left behind holds them: `x=$(egress ...)` would hang):\n{invocation.Describe()}");
        Assert.True(!unexpected, $"exit {result.ExitCode}, expected {string.Join(" or ", expected)}:\n{invocation.Describe()}");
        return invocation;
    }

    private static void Record(Invocation invocation, bool stackTrace, bool unexpected)
    {
        lock (Gate)
        {
            CountByArtifact[invocation.Artifact] = CountByArtifact.GetValueOrDefault(invocation.Artifact) + 1;
            _exits70 += invocation.ExitCode == Exit.Bug ? 1 : 0;
            _stackTraces += stackTrace ? 1 : 0;
            _unexpected += unexpected ? 1 : 0;
            File.AppendAllText(LogFile, string.Create(CultureInfo.InvariantCulture,
                $"t+{(Clock.Elapsed - invocation.Elapsed).TotalSeconds:0.0} s\t{invocation.Artifact}\texit {invocation.ExitCode}\t{invocation.Elapsed.TotalSeconds:0.00} s\t{invocation.CommandLine}{(stackTrace ? "\tSTACK TRACE" : string.Empty)}{(unexpected ? "\tUNEXPECTED EXIT" : string.Empty)}\n"));
            WriteSummary();
        }
    }

    private static void WriteSummary()
    {
        var total = CountByArtifact.Values.Sum();
        var line = string.Create(CultureInfo.InvariantCulture,
            $"shipped tier: {total} invocations ({CountByArtifact.GetValueOrDefault(Publish)} through ./egress, {CountByArtifact.GetValueOrDefault(Tool)} through the .NET tool), {_exits70} exits 70, {_stackTraces} stack traces, {_unexpected} unexpected exit codes");
        File.WriteAllText(SummaryFile, line + "\n");
    }

    /// <summary>The README's build: `./egress --version` once (the wrapper publishes ReadyToRun into artifacts/egress when
    /// a source is newer than the build), then `./egress ARGS` for every invocation.</summary>
    private static async Task<Artifact> BuildPublishAsync()
    {
        var artifact = new Artifact(Publish, Path.Combine(RepositoryRoot, "egress"));
        var version = await artifact.In(RepositoryRoot).WithTimeout(TimeSpan.FromMinutes(15)).RunAsync(Exit.Ok, "--version");
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Output);
        return artifact;
    }

    /// <summary>The .NET tool: `dotnet pack src/Egress.Cli -c Release` into a scratch feed, then `dotnet tool install
    /// --tool-path` from it (with the package's own version, so no other feed's Egress can be picked).</summary>
    private static async Task<Artifact> BuildToolAsync()
    {
        await PublishBuild.Value; // both build src/ into its obj folders: one at a time
        var feed = NewDirectory("feed");
        var tools = Path.Combine(ScratchRoot, "tools");
        var pack = await RunProcessAsync("dotnet", ["pack", Path.Combine(RepositoryRoot, "src", "Egress.Cli"), "-c", "Release", "-o", feed, "-nologo"],
            RepositoryRoot, BuildEnvironment, null, TimeSpan.FromMinutes(10));
        Assert.True(pack.ExitCode == 0, $"dotnet pack failed (exit {pack.ExitCode}):\n{pack.Output}\n{pack.Error}");
        var package = Assert.Single(Directory.GetFiles(feed, "Egress.*.nupkg"));
        var packageVersion = Path.GetFileNameWithoutExtension(package)["Egress.".Length..];
        var install = await RunProcessAsync("dotnet", ["tool", "install", "--tool-path", tools, "--add-source", feed, "--version", packageVersion, "Egress"],
            ScratchRoot, BuildEnvironment, null, TimeSpan.FromMinutes(5));
        Assert.True(install.ExitCode == 0, $"dotnet tool install failed (exit {install.ExitCode}):\n{install.Output}\n{install.Error}");
        var artifact = new Artifact(Tool, Path.Combine(tools, "egress"));
        var version = await artifact.In(ScratchRoot).RunAsync(Exit.Ok, "--version");
        Assert.StartsWith(packageVersion, version.Output.Trim(), StringComparison.Ordinal);
        return artifact;
    }

    /// <summary>The test host's environment carries MSBuild's and the test platform's variables; a build started from
    /// inside it must not inherit them.</summary>
    private static readonly Dictionary<string, string?> BuildEnvironment = System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
        .Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
        .ToDictionary(k => k, _ => (string?)null, StringComparer.Ordinal);

    internal sealed record ProcessResult(int ExitCode, string Output, string Error, TimeSpan Elapsed, bool TimedOut, bool OutputLeftOpen);

    /// <summary>Runs a program with stdout and stderr captured (never a terminal), stdin a pipe that is written
    /// <paramref name="input"/> (or nothing) and closed.</summary>
    internal static async Task<ProcessResult> RunProcessAsync(string program, IEnumerable<string> args, string workingDirectory,
        IReadOnlyDictionary<string, string?> environment, string? input, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var key in BuildEnvironment.Keys)
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It exited without reading its input.
        }

        var timedOut = false;
        using (var cts = new CancellationTokenSource(timeout))
        {
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        var elapsed = clock.Elapsed;
        var drained = Task.WhenAll(stdout, stderr);
        var leftOpen = await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(30))) != drained;
        return new ProcessResult(process.ExitCode, leftOpen ? Partial(stdout) : await stdout, leftOpen ? Partial(stderr) : await stderr, elapsed, timedOut, leftOpen);
    }

    private static string Partial(Task<string> read) => read.IsCompletedSuccessfully ? read.Result : "(still open)";

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Egress.slnx")) && File.Exists(Path.Combine(dir.FullName, "egress")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Egress.slnx with the egress wrapper above {AppContext.BaseDirectory}");
    }

    /// <summary>A new scratch folder /tmp/egress-shipped-XXXXXX holding the test host's PID in `owner`. The test
    /// platform may end the test host without running its exit handlers, so each run first removes the scratch folders
    /// of test hosts that are gone (a tool install is about 30 MB); a folder of a run still going is left alone.</summary>
    private static string CreateScratchRoot()
    {
        foreach (var old in Directory.EnumerateDirectories(Path.GetTempPath(), "egress-shipped-*"))
        {
            var owner = Path.Combine(old, "owner");
            var pid = File.Exists(owner) && int.TryParse(File.ReadAllText(owner).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0;
            if (pid > 0 && !Directory.Exists($"/proc/{pid}"))
            {
                TryDelete(old);
            }
        }

        var root = Directory.CreateTempSubdirectory("egress-shipped-").FullName;
        File.WriteAllText(Path.Combine(root, "owner"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the next run removes it.
        }
    }
}
