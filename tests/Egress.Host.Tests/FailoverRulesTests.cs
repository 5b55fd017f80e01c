using System.Globalization;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Failover;
using Egress.Host.Rendering;

namespace Egress.Host.Tests;

/// <summary>One table drives both implementations of the failover rules: <see cref="FailoverMachine"/> with a manual
/// clock, and the rendered script's <c>decide</c> (the same <c>step</c> function <c>watch</c> runs) under sh.
/// Gateways: tokyo-nat (primary), tokyo-nat-c (standby). A round is "PS" (primary, standby: 1 answered, 0 missed);
/// "01*3" repeats a round. Round k happens at k × probeIntervalMs; an expected event is "MS KIND GATEWAY REASON".</summary>
public sealed class FailoverRulesTests
{
    public static TheoryData<string, string, int, string, string[]> Cases => new()
    {
        // name, settings ("key=value,..."), active at start (1 primary, 2 standby, 0 none), rounds, expected events
        { "healthy: nothing happens", "", 1, "11*50", [] },
        { "primary dies: standby after downAfter misses", "", 1, "11*2 01*5",
            ["1000 down tokyo-nat 3 missed probes", "1000 route tokyo-nat-c tokyo-nat is down"] },
        { "failback waits for the hold-down", "", 1, "01*3 11*40",
            ["600 down tokyo-nat 3 missed probes", "600 route tokyo-nat-c tokyo-nat is down", "1600 up tokyo-nat 5 answers in a row",
             "6600 route tokyo-nat failback: up for 5000 ms (hold-down 5000 ms)"] },
        { "failback off: stays on the standby", "failback=false", 1, "01*3 11*100",
            ["600 down tokyo-nat 3 missed probes", "600 route tokyo-nat-c tokyo-nat is down", "1600 up tokyo-nat 5 answers in a row"] },
        { "hold-down 0: failback as soon as it is up", "holdDownMs=0", 1, "01*3 11*5",
            ["600 down tokyo-nat 3 missed probes", "600 route tokyo-nat-c tokyo-nat is down", "1600 up tokyo-nat 5 answers in a row",
             "1600 route tokyo-nat failback: up for 0 ms (hold-down 0 ms)"] },
        { "primary drops every other probe: no flapping", "", 1, "11 01 11 01 11 01 11 01 11 01 11 01 11 01 11 01 11 01 11 01", [] },
        { "down primary answering every other probe never comes back", "holdDownMs=0", 1, "01*3 11 01 11 01 11 01 11 01 11 01 11 01 11 01 11 01",
            ["600 down tokyo-nat 3 missed probes", "600 route tokyo-nat-c tokyo-nat is down"] },
        { "two misses are tolerated", "", 1, "01*2 11 01*2 11", [] },
        { "downAfter 1: one miss fails over", "downAfter=1", 1, "11 01",
            ["400 down tokyo-nat 1 missed probes", "400 route tokyo-nat-c tokyo-nat is down"] },
        { "every gateway down: none; the first back takes over at once", "", 1, "00*3 10*5",
            ["600 down tokyo-nat 3 missed probes", "600 down tokyo-nat-c 3 missed probes", "600 none - every gateway is down",
             "1600 up tokyo-nat 5 answers in a row", "1600 route tokyo-nat no gateway was active"] },
        { "standby dies while active: back to a live primary without hold-down", "", 1, "01*3 11*2 10*3",
            ["600 down tokyo-nat 3 missed probes", "600 route tokyo-nat-c tokyo-nat is down", "1600 up tokyo-nat 5 answers in a row",
             "1600 down tokyo-nat-c 3 missed probes", "1600 route tokyo-nat tokyo-nat-c is down"] },
        { "restarted on the standby: failback after the hold-down from the first round", "", 2, "11*26",
            ["5200 route tokyo-nat failback: up for 5000 ms (hold-down 5000 ms)"] },
        { "restarted with no halves: the primary at once", "", 0, "11",
            ["200 route tokyo-nat no gateway was active"] },
        { "other probe interval and thresholds", "probeIntervalMs=100,downAfter=2,upAfter=3,holdDownMs=250", 1, "01*2 11*6",
            ["200 down tokyo-nat 2 missed probes", "200 route tokyo-nat-c tokyo-nat is down", "500 up tokyo-nat 3 answers in a row",
             "800 route tokyo-nat failback: up for 300 ms (hold-down 250 ms)"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FailoverMachine_Rounds_GiveTheTableEvents(string name, string settings, int active, string rounds, string[] expected)
    {
        var failover = Settings(settings);
        var clock = new ManualClock();
        var machine = new FailoverMachine(failover, ["tokyo-nat", "tokyo-nat-c"], clock, active - 1);
        var events = new List<string>();

        foreach (var round in Expand(rounds))
        {
            clock.Advance(failover.ProbeIntervalMs);
            events.AddRange(machine.Step([round[0] == '1', round[1] == '1']).Select(e => Inv($"{machine.NowMs} {e}")));
        }

        Assert.True(expected.SequenceEqual(events), $"{name}: expected\n{string.Join('\n', expected)}\ngot\n{string.Join('\n', events)}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ScriptDecide_Rounds_GiveTheTableEvents(string name, string settings, int active, string rounds, string[] expected)
    {
        var failover = Settings(settings);
        var topology = Examples.Load(Examples.Failover);
        var script = HostRenderer.Render(topology with { Failover = failover }, "sg-client", RenderFormat.Script);
        var dir = Directory.CreateTempSubdirectory("ef-decide-");
        try
        {
            var path = Path.Combine(dir.FullName, "egress-host");
            await File.WriteAllTextAsync(path, script);
            var input = string.Concat(Expand(rounds).Select((round, k) => Inv($"{(k + 1) * failover.ProbeIntervalMs} {round[0]} {round[1]}\n")));

            var result = await ProcessRunner.Instance.RunAsync(new CommandSpec("sh", [path, "decide", active.ToString(CultureInfo.InvariantCulture)])
            {
                StandardInput = input,
                Environment = new Dictionary<string, string> { ["EGRESS_RUN_DIR"] = dir.FullName },
            });

            Assert.True(result.Succeeded, $"{name}: decide exited {result.ExitCode}: {result.StandardError}");
            var events = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(expected.SequenceEqual(events), $"{name}: expected\n{string.Join('\n', expected)}\ngot\n{string.Join('\n', events)}");
            if (expected.Length > 0)
            {
                // The state file names the active gateway and every gateway's state, as check and lab status read it.
                var state = await File.ReadAllLinesAsync(Path.Combine(dir.FullName, "sg-client", "failover"));
                var last = expected.Last(e => e.Split(' ')[1] is "route" or "none").Split(' ');
                Assert.StartsWith($"active {last[2]} ", state[0], StringComparison.Ordinal);
                Assert.Equal(["gateway tokyo-nat ", "gateway tokyo-nat-c "], state.Skip(1).Select(l => string.Join(' ', l.Split(' ').Take(2)) + " "));
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void FailoverMachine_WrongNumberOfResults_Throws()
    {
        var machine = new FailoverMachine(new FailoverSettings(), ["a", "b"], new ManualClock());

        Assert.Throws<ArgumentException>(() => machine.Step([true]));
    }

    private static IEnumerable<string> Expand(string rounds) =>
        rounds.Split(' ', StringSplitOptions.RemoveEmptyEntries).SelectMany(r =>
            r.Contains('*', StringComparison.Ordinal)
                ? Enumerable.Repeat(r.Split('*')[0], int.Parse(r.Split('*')[1], CultureInfo.InvariantCulture))
                : [r]);

    private static FailoverSettings Settings(string text)
    {
        var s = new FailoverSettings();
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = (pair.Split('=')[0], pair.Split('=')[1]);
            s = key switch
            {
                "failback" => s with { Failback = bool.Parse(value) },
                "holdDownMs" => s with { HoldDownMs = int.Parse(value, CultureInfo.InvariantCulture) },
                "probeIntervalMs" => s with { ProbeIntervalMs = int.Parse(value, CultureInfo.InvariantCulture) },
                "downAfter" => s with { DownAfter = int.Parse(value, CultureInfo.InvariantCulture) },
                "upAfter" => s with { UpAfter = int.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException(key),
            };
        }

        return s;
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(int ms) => _now = _now.AddMilliseconds(ms);
    }
}
