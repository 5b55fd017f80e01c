using System.Diagnostics;
using System.Diagnostics.Tracing;

namespace Egress.Cli;

/// <summary>EGRESS_STARTUP_TRACE=1 prints to stderr, at each mark, the milliseconds since Main began and how many
/// methods the JIT has compiled so far (and in how long): where a start's time goes inside the process (the host's
/// and runtime's share is the whole process's wall time less the last mark; bench/startup.sh). =2 also names each
/// assembly as it loads, with the stack that loaded it; =3 names each method the JIT compiles (code that ReadyToRun
/// could not precompile). Unset, a mark costs one static field read.</summary>
internal static class StartupTrace
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("EGRESS_STARTUP_TRACE") is "1" or "2" or "3";

    private static readonly JitListener? Jit;

    static StartupTrace()
    {
        if (Environment.GetEnvironmentVariable("EGRESS_STARTUP_TRACE") is "2")
        {
            // Which code loads each assembly: a library a verb never uses should not appear.
            AppDomain.CurrentDomain.AssemblyLoad += (_, e) => Mark($"load {e.LoadedAssembly.GetName().Name}\n{Environment.StackTrace}");
        }

        if (Environment.GetEnvironmentVariable("EGRESS_STARTUP_TRACE") is "3")
        {
            Jit = new JitListener();
        }
    }

    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static void Mark(string what)
    {
        if (!Enabled)
        {
            return;
        }

        Console.Error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"startup-trace {Clock.Elapsed.TotalMilliseconds,6:0.0} ms  jit {System.Runtime.JitInfo.GetCompiledMethodCount(),4} methods {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds,5:0.0} ms  {what}"));
    }

    /// <summary>The last mark. With EGRESS_STARTUP_TRACE=3 it first stops the JIT listener, which delivers the
    /// compilations it has not printed yet (the runtime hands them over on a thread of its own).</summary>
    public static void End()
    {
        Jit?.Dispose();
        Mark("exit");
    }

    /// <summary>The runtime's own events (the JIT keyword, 0x10) for each method it compiles.</summary>
    private sealed class JitListener : EventListener
    {
        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x10);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName == "MethodJittingStarted_V1" && eventData.Payload is [_, _, _, _, var type, var name, ..])
            {
                Mark($"jit {type}::{name}");
            }
        }
    }
}
