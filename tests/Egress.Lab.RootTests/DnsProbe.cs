using System.Diagnostics;

namespace Egress.Lab.RootTests;

/// <summary>Asks a host's DNS stub (127.0.0.1:53) for a name never asked before (p&lt;pid&gt;x&lt;n&gt;.cdn.lab.example, which
/// every lab resolver answers: so no cache anywhere hides an outage) every 20 ms, giving each query 100 ms; a python3
/// process (eng/lab/dns-probe.py) in the host's namespace, killed by PID at dispose. Each answer's line is stamped when it arrives.</summary>
internal sealed class DnsProbe : IAsyncDisposable
{
    /// <summary>eng/lab/dns-probe.py (bench/lab-dns.sh runs it too), copied next to the tests.</summary>
    private static string Script => Path.Combine(AppContext.BaseDirectory, "dns-probe.py");

    private readonly Process _process;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(TimeSpan At, string Result)> _samples = [];
    private TimeSpan? _cutAt;

    private DnsProbe(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lock (_samples)
                {
                    _samples.Add((_clock.Elapsed, line.Trim().Split(' ')[^1])); // "WALL_MS RESULT": stamped here on arrival
                }
            }
        };
        _process.BeginOutputReadLine();
    }

    public static DnsProbe Start(RunningLab lab, string host)
    {
        var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var a in new[] { "netns", "exec", lab.Plan.HostNamed(host).Namespace, "python3", "-u", Script, World.LabWorldPlan.GeoName })
        {
            info.ArgumentList.Add(a);
        }

        return new DnsProbe(Process.Start(info)!);
    }

    /// <summary>Marks the cut and runs it.</summary>
    public Task CutAsync(Func<Task> cut)
    {
        _cutAt = _clock.Elapsed;
        return cut();
    }

    /// <summary>From the cut to the first answer that follows a query left unanswered after the cut (an answer to a query
    /// sent just before the cut does not count as DNS working again); waits up to <paramref name="timeout"/>.</summary>
    public async Task<TimeSpan> OutageAfterCutAsync(TimeSpan timeout)
    {
        var cutAt = _cutAt ?? throw new InvalidOperationException("no cut yet");
        while (_clock.Elapsed - cutAt < timeout)
        {
            lock (_samples)
            {
                var after = _samples.Where(s => s.At > cutAt).ToList();
                var failed = after.FindIndex(s => s.Result != "ok");
                if (failed >= 0 && after.Skip(failed).FirstOrDefault(s => s.Result == "ok") is { Result: "ok" } back)
                {
                    return back.At - cutAt;
                }
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"DNS did not answer again within {timeout.TotalSeconds:0} s of the cut\n{Describe()}");
    }

    public string Describe()
    {
        lock (_samples)
        {
            return $"cut at {_cutAt?.TotalMilliseconds:0} ms\n" + string.Join('\n', _samples.Select(s => $"{s.At.TotalMilliseconds:0} {s.Result}"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
