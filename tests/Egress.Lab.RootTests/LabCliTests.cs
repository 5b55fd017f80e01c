using System.Text.Json;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Tests.Shared;

namespace Egress.Lab.RootTests;

/// <summary>The `egress lab` verbs as a user runs them: the real CLI in its own process.</summary>
public sealed class LabCliTests
{
    private static Task<CommandResult> EgressAsync(params string[] args) =>
        ProcessRunner.Instance.RunAsync(new CommandSpec(LabTestSupport.ServicesCommand("x").Program, [Path.Combine(AppContext.BaseDirectory, "egress.dll"), .. args])
        {
            Timeout = TimeSpan.FromMinutes(2),
        });

    /// <summary>Runs the CLI as uid 65534 (nobody) from a copy of the build output in a fresh directory that user can
    /// read: the checkout itself may live where it cannot (a clone in root's mode-700 home made this exit 1, dotnet unable
    /// to open egress.dll, instead of the refusal under test).</summary>
    [RootFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Up_NotRoot_RefusesWithExit2AndSaysSudo()
    {
        Prerequisites.RequireRoot();
        Prerequisites.RequireProgram("setpriv", "util-linux");
        var dotnet = LabTestSupport.ServicesCommand("x").Program;
        var copy = CopyForEveryone(AppContext.BaseDirectory);
        try
        {
            var result = await ProcessRunner.Instance.RunAsync(new CommandSpec("setpriv",
                ["--reuid", "65534", "--regid", "65534", "--clear-groups", dotnet, Path.Combine(copy, "egress.dll"), "lab", "up", "--id", LabNames.RandomId('t')])
            {
                Environment = new Dictionary<string, string> { ["HOME"] = copy, ["DOTNET_CLI_HOME"] = copy },
            });

            Assert.True(result.ExitCode == 2, $"uid 65534 running {dotnet} {copy}/egress.dll exited {result.ExitCode}, not 2: {result.StandardError}");
            Assert.Contains("needs root", result.StandardError, StringComparison.Ordinal);
            Assert.Contains("sudo", result.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    /// <summary>A copy of <paramref name="source"/> (files and folders) in a new directory that every user can read and
    /// enter (755, files 644), under the first of the temporary directories whose every ancestor others may enter.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static string CopyForEveryone(string source)
    {
        const UnixFileMode Directories = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
                                         UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        const UnixFileMode Files = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        var parent = new[] { Path.GetTempPath(), "/tmp", "/var/tmp" }.First(EveryoneMayEnter);
        var target = Path.Combine(parent, "egress-nonroot-" + Guid.NewGuid().ToString("N")[..12]);
        foreach (var dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories).Select(d => Path.Combine(target, Path.GetRelativePath(source, d))).Prepend(target))
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, Directories); // explicitly: a umask of 077 would leave them 700
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(source, file));
            File.Copy(file, copy);
            File.SetUnixFileMode(copy, Files);
        }

        return target;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static bool EveryoneMayEnter(string path)
    {
        for (var dir = new DirectoryInfo(path); dir is not null; dir = dir.Parent)
        {
            if (!dir.Exists || !dir.UnixFileMode.HasFlag(UnixFileMode.OtherExecute))
            {
                return false;
            }
        }

        return true;
    }

    [RootFact]
    public async Task UpExecStatusDown_NaiveSeed_ExecPassesExitCodeAndStatusIsJson()
    {
        LabTestSupport.RequirePrerequisites();
        var id = LabNames.RandomId('t');
        try
        {
            var up = await EgressAsync("lab", "up", "--naive", "--id", id);
            Assert.True(up.Succeeded, up.StandardError);
            Assert.Equal(id, up.StandardOutput.Trim());

            var exec = await EgressAsync("lab", "exec", "--id", id, "tokyo-nat", "--", "sh", "-c", "curl -s https://ipinfo.io/json; exit 7");
            Assert.Equal(7, exec.ExitCode);
            Assert.Contains("\"city\":\"Tokyo\"", exec.StandardOutput, StringComparison.Ordinal);

            var status = await EgressAsync("lab", "status", "--id", id, "--output", "json");
            using var json = JsonDocument.Parse(status.StandardOutput);
            Assert.True(json.RootElement.GetProperty("naive").GetBoolean());
            Assert.Equal("latency emulation: off (kernel has no netem)", json.RootElement.GetProperty("latency").GetString());

            var verify = await EgressAsync("lab", "verify", "--id", id, "--rounds", "1", "--output", "json");
            Assert.Equal(1, verify.ExitCode);
            Assert.Contains("edge-to-edge", verify.StandardOutput, StringComparison.Ordinal);
            using var report = JsonDocument.Parse(verify.StandardOutput);
        }
        finally
        {
            var down = await EgressAsync("lab", "down", "--id", id);
            Assert.True(down.Succeeded, down.StandardError);
        }

        Assert.Empty(await LabController.Default.ExistingNamespacesAsync(id));
    }

    [RootFact]
    public async Task Up_BadResolverDelay_Exit2NamingTheValueAndTheFix_NothingBuilt()
    {
        LabTestSupport.RequirePrerequisites();
        var id = LabNames.RandomId('t');
        try
        {
            var unknown = await EgressAsync("lab", "up", "--id", id, "--resolver-delay", "eu-west-9=300");
            Assert.Equal(2, unknown.ExitCode);
            Assert.Contains("--resolver-delay eu-west-9=300: the topology has no region eu-west-9; its regions: ap-southeast-1, ap-northeast-1", unknown.StandardError, StringComparison.Ordinal);

            var bad = await EgressAsync("lab", "up", "--id", id, "--resolver-delay", "ap-southeast-1=slow");
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("--resolver-delay 'ap-southeast-1=slow': give REGION=MS", bad.StandardError, StringComparison.Ordinal);
            Assert.Empty(await LabController.Default.ExistingNamespacesAsync(id));
        }
        finally
        {
            await LabController.Default.DownAsync(id);
        }
    }

    [RootFact]
    public async Task Exec_UnknownHost_Exit2NamingTheHosts()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed), naive: true);
        try
        {
            var result = await EgressAsync("lab", "exec", "--id", lab.Id, "nope", "--", "true");

            Assert.Equal(2, result.ExitCode);
            Assert.Contains("sg-client, tokyo-nat", result.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }
}
