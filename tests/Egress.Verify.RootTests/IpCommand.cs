using Egress.Processes;

namespace Egress.Verify.RootTests;

/// <summary>iproute2's <c>ip</c>, run synchronously, for the scratch namespaces' setup and teardown.</summary>
internal static class IpCommand
{
    /// <summary>Runs <c>ip ARGUMENTS</c>; a failure throws with ip's error.</summary>
    public static void Run(params string[] arguments)
    {
        var result = TryRun(arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed: {result.StandardError}");
        }
    }

    /// <summary>Runs <c>ip ARGUMENTS</c> and returns its result whatever it is (teardown).</summary>
    public static CommandResult TryRun(params string[] arguments) =>
        ProcessRunner.Instance.RunAsync(new CommandSpec("ip", arguments)).GetAwaiter().GetResult();
}
