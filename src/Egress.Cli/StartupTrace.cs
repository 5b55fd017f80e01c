using System.Diagnostics;

namespace Egress.Cli;

/// <summary>EGRESS_STARTUP_TRACE=1 prints to stderr, at each mark, the milliseconds since Main began: where a start's
/// time goes inside the process (the host's and runtime's share is the whole process's wall time less the last mark;
/// bench/startup.sh). Unset, a mark costs one static field read.</summary>
internal static class StartupTrace
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("EGRESS_STARTUP_TRACE") is "1" or "2";

    static StartupTrace()
    {
        if (Environment.GetEnvironmentVariable("EGRESS_STARTUP_TRACE") is "2")
        {
            // Which code loads each assembly: a library a verb never uses should not appear.
            AppDomain.CurrentDomain.AssemblyLoad += (_, e) => Mark($"load {e.LoadedAssembly.GetName().Name}\n{Environment.StackTrace}");
        }
    }

    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static void Mark(string what)
    {
        if (!Enabled)
        {
            return;
        }

        Console.Error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"startup-trace {Clock.Elapsed.TotalMilliseconds,6:0.0} ms  {what}"));
    }
}
