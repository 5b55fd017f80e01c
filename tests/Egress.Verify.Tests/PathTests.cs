using Egress.Verify.Probes;

namespace Egress.Verify.Tests;

public class PathTests
{
    [Fact]
    public void ParseMtr_Report_ReadsEveryHopWithLossAndLatency()
    {
        var trace = PathProbe.ParseMtr("api.binance.com", Samples.Result("mtr-ok.json"));

        Assert.Null(trace.Problem);
        Assert.Equal(["192.168.250.1", "10.1.1.1", "192.0.2.10"], trace.Hops.Select(h => h.Address));
        var first = trace.Hops[0];
        Assert.Equal(new Hop(1, "192.168.250.1", 0, 3, 70.422, 70.412, 70.392, 70.462), first);
    }

    [Fact]
    public void ParseMtr_SilentHop_IsNotAnswered()
    {
        var trace = PathProbe.ParseMtr("api.binance.com", Samples.Result("mtr-lossy.json"));

        Assert.False(trace.Hops[1].Answered);
        Assert.Equal("???", trace.Hops[1].Address);
        Assert.Null(trace.Hops[1].AvgMs); // mtr prints 0.0 for it, which is no round trip
        Assert.Equal(33.3, trace.Hops[2].LossPercent);
        Assert.True(trace.Hops[2].Answered);
    }

    [Fact]
    public void ParseMtr_CountAsString_StillReadsHops()
    {
        var trace = PathProbe.ParseMtr("api.binance.com", Samples.Result("mtr-count-as-string.json"));

        Assert.Equal([1, 2], trace.Hops.Select(h => h.Number));
    }

    [Fact]
    public void ParseMtr_NoHops_IsAClearProblem()
    {
        var trace = PathProbe.ParseMtr("api.binance.com", Samples.Result("mtr-no-hops.json"));

        Assert.Empty(trace.Hops);
        Assert.Equal("mtr reported no hops to api.binance.com (exit 0)", trace.Problem);
    }

    [Theory]
    [InlineData("mtr-truncated.json", "mtr's output is not JSON")]
    [InlineData("curl-cold-ok.txt", "mtr's JSON has no report.hubs list")]
    public void ParseMtr_BrokenOutput_IsAProblem(string sample, string problem)
    {
        var trace = PathProbe.ParseMtr("api.binance.com", Samples.Result(sample));

        Assert.Empty(trace.Hops);
        Assert.StartsWith(problem, trace.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseMtr_NothingPrinted_NamesStderr()
    {
        var trace = PathProbe.ParseMtr("api.binance.com", Samples.Output("", 1, "mtr: Failed to resolve host: api.binance.com: Name or service not known\n"));

        Assert.Equal("mtr printed nothing (exit 1: mtr: Failed to resolve host: api.binance.com: Name or service not known)", trace.Problem);
    }

    [Fact]
    public void ParseTraceroute_HopsAndStars()
    {
        var trace = PathProbe.ParseTraceroute("api.binance.com", Samples.Result("traceroute-ok.txt"));

        Assert.Null(trace.Problem);
        Assert.Equal(["192.168.250.1", "???", "192.0.2.10"], trace.Hops.Select(h => h.Address));
        Assert.Equal(70.412, trace.Hops[0].AvgMs);
        Assert.Equal(100, trace.Hops[1].LossPercent);
    }

    [Fact]
    public void ParseTraceroute_NoHops_IsAProblem()
    {
        var trace = PathProbe.ParseTraceroute("api.binance.com", Samples.Output("api.binance.com: Name or service not known\n", 2));

        Assert.Equal("traceroute reported no hops to api.binance.com (exit 2)", trace.Problem);
    }

    [Theory]
    [InlineData(127, "")]
    [InlineData(-1, "could not run 'mtr': No such file or directory")]
    [InlineData(1, "exec: mtr: not found")]
    public void NotInstalled_RecognisesAMissingProgram(int exit, string stderr) =>
        Assert.True(PathProbe.NotInstalled(Samples.Output("", exit, stderr)));

    [Fact]
    public void NotInstalled_AFailedRun_IsNotAMissingProgram() =>
        Assert.False(PathProbe.NotInstalled(Samples.Output("", 1, "mtr: Failed to resolve host")));

    [Fact]
    public void Mtr_JsonNumericWithCycles() =>
        Assert.Equal("mtr --json -n -G 1 -c 5 api.binance.com", PathProbe.Mtr("api.binance.com", 5).ToString());
}
