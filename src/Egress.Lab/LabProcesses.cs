using System.Diagnostics;
using Egress.Processes;

namespace Egress.Lab;

/// <summary>Starts the lab's own long-running processes (`egress lab serve|metadata|resolver`) detached inside a lab
/// namespace: setsid, output to a log, a small .NET heap. `down` stops them with everything else in the lab's namespaces.</summary>
internal static class LabProcesses
{
    public static Task LaunchAsync(ICommandRunner runner, string ns, CommandSpec command, string log, CancellationToken cancellationToken) =>
        RunAsync(runner, new CommandSpec("sh",
        [
            "-c", "setsid \"$@\" >\"$0\" 2>&1 </dev/null &",
            log, "ip", "netns", "exec", ns, command.Program, .. command.Arguments,
        ])
        {
            Environment = new Dictionary<string, string>(command.Environment)
            {
                ["DOTNET_gcServer"] = "0",
                ["DOTNET_GCHeapHardLimit"] = "0x8000000", // 128 MB: the lab's processes stay small
                ["DOTNET_TieredPGO"] = "0",
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            },
        }, cancellationToken);

    /// <summary>Launches <paramref name="command"/> and waits for it to write <paramref name="ready"/> and its PID to
    /// <paramref name="pidFile"/> (the process writes both itself); returns that PID. Fails with <paramref name="what"/>
    /// and the log after <paramref name="timeout"/>, or at once when the process it named has died.</summary>
    public static async Task<int> StartAsync(ICommandRunner runner, string ns, CommandSpec command, string log, string ready, string pidFile, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await LaunchAsync(runner, ns, command, log, cancellationToken);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var pid = LabController.TryReadPid(pidFile);
            if (pid is { } started && File.Exists(ready))
            {
                return started;
            }

            if (pid is { } dead && !LabController.IsAlive(dead))
            {
                break;
            }

            await Task.Delay(25, cancellationToken);
        }

        var text = File.Exists(log) ? await File.ReadAllTextAsync(log, cancellationToken) : "(no log)";
        throw new LabUpFailedException($"{what} did not start within {timeout.TotalSeconds:0} s ({command}). Log:\n{text}");
    }

    private static async Task RunAsync(ICommandRunner runner, CommandSpec spec, CancellationToken cancellationToken) =>
        (await runner.RunAsync(spec, cancellationToken)).EnsureSuccess(spec);
}
