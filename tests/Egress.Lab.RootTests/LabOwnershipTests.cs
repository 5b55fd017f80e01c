using System.Diagnostics;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Tests.Shared;

namespace Egress.Lab.RootTests;

/// <summary>`lab up`/`lab run` touch only the lab they made; Ctrl-C or SIGTERM while they work removes everything built
/// so far and exits 130; `lab down --all` removes only labs whose owner is gone (unless --force).</summary>
public sealed class LabOwnershipTests
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "egress.dll");

    private static string Dotnet => LabTestSupport.ServicesCommand("x").Program;

    /// <summary>What the CLI processes of a test said on stderr (for failure messages).</summary>
    private static readonly System.Text.StringBuilder Errors = new();

    [RootFact]
    public async Task Run_IdAlreadyUp_Exit2AndTheLabStaysUp()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed), naive: true);
        try
        {
            var services = lab.ServicesPid;
            var run = await ProcessRunner.Instance.RunAsync(new CommandSpec(Dotnet, [Dll, "lab", "run", "--naive", "--id", lab.Id, "--rounds", "1"])
            {
                Timeout = TimeSpan.FromMinutes(3),
            });

            Assert.Equal(2, run.ExitCode);
            Assert.Contains("already up", run.StandardError, StringComparison.Ordinal);
            Assert.Equal(5, (await LabController.Default.ExistingNamespacesAsync(lab.Id)).Count);
            Assert.True(lab.State.Exists);
            Assert.Equal(services, lab.ServicesPid);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    [RootTheory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task Up_SignalWhileBuilding_RemovesEverythingBuiltAndExits130(string signal)
    {
        LabTestSupport.RequirePrerequisites();
        var id = LabNames.RandomId('t');
        using var up = Start(["lab", "up", "--id", id]);
        try
        {
            // As soon as the world exists (the services, scripts and watchers come after it).
            await WaitUntilAsync(async () => (await LabController.Default.ExistingNamespacesAsync(id)).Count >= 5, up, TimeSpan.FromSeconds(60));
            Signal(up, signal);

            Assert.True(up.WaitForExit(60_000), "lab up did not end within 60 s of SIG" + signal);
            Assert.Equal(130, up.ExitCode);
            await AssertGoneAsync(id);
        }
        finally
        {
            Stop(up);
            await LabController.Default.DownAsync(id);
        }
    }

    [RootTheory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task Run_SignalDuringVerify_EndsPromptlyRemovesTheLabAndExits130(string signal)
    {
        LabTestSupport.RequirePrerequisites();
        var id = LabNames.RandomId('t');
        using var run = Start(["lab", "run", "--id", id, "--rounds", "20"]);
        try
        {
            var state = new LabStateDirectory(id);
            await WaitUntilAsync(() => Task.FromResult(File.Exists(state.ServicesReady) && File.Exists(state.WatcherPid("sg-client"))), run, TimeSpan.FromSeconds(90));
            await Task.Delay(1500); // well into the verify rounds (20 of them take minutes)
            var clock = Stopwatch.StartNew();
            Signal(run, signal);

            Assert.True(run.WaitForExit(60_000), "lab run did not end within 60 s of SIG" + signal);
            Assert.Equal(130, run.ExitCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"lab run took {clock.Elapsed.TotalSeconds:0.0} s to stop");
            await AssertGoneAsync(id);
        }
        finally
        {
            Stop(run);
            await LabController.Default.DownAsync(id);
        }
    }

    [RootFact]
    public async Task DownAll_RemovesLabsWhoseOwnerIsGoneAndKeepsTheOthersUnlessForced()
    {
        LabTestSupport.RequirePrerequisites();
        var topology = Examples.Load(Examples.Seed);
        var mine = await LabTestSupport.UpAsync(topology, naive: true);
        var orphan = await LabTestSupport.UpAsync(topology, naive: true);
        try
        {
            // The orphan's owner: a process that has exited since (as a crashed `lab run` has).
            using (var gone = Process.Start(new ProcessStartInfo("sleep", "0.1"))!)
            {
                var owner = new LabOwner(gone.Id, LabOwner.StartTicksOf(gone.Id) ?? 1);
                await gone.WaitForExitAsync();
                File.WriteAllText(orphan.State.OwnerFile, owner.ToString());
            }

            bool Ours(string id) => id == mine.Id || id == orphan.Id;
            var sweep = await LabController.Default.DownAllAsync(scope: Ours);

            Assert.Equal([orphan.Id], sweep.Removed.Select(r => r.Id));
            Assert.Equal([mine.Id], sweep.Kept.Select(k => k.Id));
            Assert.Equal(Environment.ProcessId, sweep.Kept[0].Owner.Pid);
            Assert.Empty(await LabController.Default.ExistingNamespacesAsync(orphan.Id));
            Assert.Equal(5, (await LabController.Default.ExistingNamespacesAsync(mine.Id)).Count);

            var forced = await LabController.Default.DownAllAsync(force: true, scope: Ours);
            Assert.Equal([mine.Id], forced.Removed.Select(r => r.Id));
            Assert.Empty(await LabController.Default.ExistingNamespacesAsync(mine.Id));
        }
        finally
        {
            await LabController.Default.DownAsync(mine.Id);
            await LabController.Default.DownAsync(orphan.Id);
        }
    }

    /// <summary>The CLI in its own process, with SIGINT at its default disposition (a job started in the background of a
    /// non-interactive shell, or by a test host, may inherit SIGINT ignored; a terminal's Ctrl-C never is).</summary>
    private static Process Start(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("python3")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])", Dotnet, Dll }.Concat(args))
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (Errors)
            {
                Errors.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Signal(Process process, string signal) =>
        ProcessRunner.Instance.RunAsync(CommandSpec.Of("kill", "-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))).GetAwaiter().GetResult().EnsureSuccess(CommandSpec.Of("kill"));

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Process process, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (process.WaitForExit(0))
            {
                Assert.Fail($"the CLI exited ({process.ExitCode}) before the moment to signal it: {Errors}");
            }

            Assert.True(clock.Elapsed < timeout, "the moment to signal never came");
            await Task.Delay(20);
        }
    }

    /// <summary>No namespace, /etc/netns entry, state directory or process of lab <paramref name="id"/> is left.</summary>
    private static async Task AssertGoneAsync(string id)
    {
        Assert.Empty(await LabController.Default.ExistingNamespacesAsync(id));
        Assert.Empty(Directory.Exists(LabNames.NetnsEtc) ? Directory.GetDirectories(LabNames.NetnsEtc, LabNames.NamespacePrefix(id) + "*") : []);
        Assert.False(Directory.Exists(LabNames.StateDirectory(id)), "the state directory is left");
        var left = Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(p => p!.All(char.IsAsciiDigit)).Where(p =>
        {
            try
            {
                var cmdline = File.ReadAllText($"/proc/{p}/cmdline").Split('\0');
                return cmdline.Contains(id) || cmdline.Any(a => a.Contains(LabNames.StateDirectory(id) + "/", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                return false;
            }
        }).ToList();
        Assert.True(left.Count == 0, "processes of the lab left: " + string.Join(", ", left));
    }
}
