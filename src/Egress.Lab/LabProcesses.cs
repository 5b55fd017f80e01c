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

    /// <summary>Launches <paramref name="command"/> and waits for it to write <paramref name="ready"/>; after
    /// <paramref name="timeout"/> fails with <paramref name="what"/> and the log.</summary>
    public static async Task StartAsync(ICommandRunner runner, string ns, CommandSpec command, string log, string ready, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await LaunchAsync(runner, ns, command, log, cancellationToken);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(ready))
        {
            if (clock.Elapsed > timeout)
            {
                var text = File.Exists(log) ? await File.ReadAllTextAsync(log, cancellationToken) : "(no log)";
                throw new LabUpFailedException($"{what} did not start within {timeout.TotalSeconds:0} s ({command}). Log:\n{text}");
            }

            await Task.Delay(25, cancellationToken);
        }
    }

    private static async Task RunAsync(ICommandRunner runner, CommandSpec spec, CancellationToken cancellationToken) =>
        (await runner.RunAsync(spec, cancellationToken)).EnsureSuccess(spec);
}
