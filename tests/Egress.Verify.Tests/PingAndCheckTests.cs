using Egress.Host.Rendering;
using Egress.Verify.Probes;

namespace Egress.Verify.Tests;

public class PingAndCheckTests
{
    [Fact]
    public void PingParse_AllReplies_Reachable()
    {
        var ping = Ping.Parse(Samples.Result("ping-ok.txt"), 3);

        Assert.True(ping.Reachable);
        Assert.Equal(3, ping.Received);
        Assert.Equal(70.2, ping.AvgMs);
    }

    /// <summary>The VM lab's reboot case: the third reply came after two round trips, so ping (waiting to the deadline)
    /// sent on; echoes 1-3 are all answered, the duplicate and echoes 4-5 aside.</summary>
    [Fact]
    public void PingParse_LateReplyBeforeTheDeadline_Reachable()
    {
        var ping = Ping.Parse(Samples.Result("ping-late-reply.txt"), 3);

        Assert.True(ping.Reachable);
        Assert.Equal((3, 3), (ping.Transmitted, ping.Received));
        Assert.Equal(250.8, ping.AvgMs);
    }

    [Fact]
    public void PingParse_OneOfTheEchoesLost_UnreachableEvenThoughPingGotCountReplies()
    {
        var ping = Ping.Parse(Samples.Result("ping-one-lost.txt"), 3);

        Assert.False(ping.Reachable);
        Assert.Equal((3, 2), (ping.Transmitted, ping.Received));
        Assert.Equal(70.25, ping.AvgMs);
    }

    [Fact]
    public void PingTo_WaitsForEachEchoUntilTheDeadline_OptionsBeforeTheCount()
    {
        var command = Ping.To("192.168.250.1", 2, "-M", "do");

        Assert.Equal(["-n", "-M", "do", "-c", "2", "-i", "0.2", "-w", "4", "192.168.250.1"], command.Arguments);
    }

    [Fact]
    public void PingParse_NoReplies_Unreachable()
    {
        var ping = Ping.Parse(Samples.Result("ping-unreachable.txt", exitCode: 1), 3);

        Assert.False(ping.Reachable);
        Assert.Null(ping.Problem);
        Assert.Equal((3, 0), (ping.Transmitted, ping.Received));
    }

    [Fact]
    public void PingParse_NoSummary_IsAProblem()
    {
        var ping = Ping.Parse(Samples.Output("", 2, "ping: connect: Network is unreachable\n"), 3);

        Assert.False(ping.Reachable);
        Assert.Equal("ping printed no summary (exit 2: ping: connect: Network is unreachable)", ping.Problem);
    }

    [Fact]
    public void HostCheckParse_AllInvariantsOk_Passes()
    {
        var check = HostCheck.Parse("tokyo-nat", Samples.Result("check-ok.json"));

        Assert.True(check.Passed);
        Assert.Equal(3, check.Report!.Invariants.Count);
        Assert.Single(check.Warnings);
    }

    [Fact]
    public void HostCheckParse_FailedInvariant_NamesIt()
    {
        var check = HostCheck.Parse("tokyo-nat", Samples.Result("check-nat-missing.json", exitCode: 1));

        Assert.False(check.Passed);
        var failed = Assert.Single(check.Failed);
        Assert.Equal("nat.table", failed.Name);
    }

    [Fact]
    public void HostCheckParse_OkJsonButNonZeroExit_Fails()
    {
        var check = HostCheck.Parse("tokyo-nat", Samples.Result("check-ok.json", exitCode: 3));

        Assert.False(check.Passed);
        Assert.Equal("check exited 3 although its JSON says ok", check.Problem);
    }

    [Theory]
    [InlineData("", "check printed no JSON (exit 1: sh: 1: /usr/local/sbin/egress-host: not found)")]
    [InlineData("{\"host\": \"tokyo-nat\", \"ok\": tr", "egress-host check output is not valid JSON")]
    [InlineData("{\"host\":\"tokyo-nat\",\"ok\":\"yes\",\"invariants\":[]}", "the report.ok must be true or false")]
    [InlineData("{\"host\":\"tokyo-nat\",\"ok\":true,\"invariants\":[]}", "check reported no invariants")]
    public void HostCheckParse_BrokenOutput_FailsWithReason(string stdout, string problem)
    {
        var check = HostCheck.Parse("tokyo-nat", Samples.Output(stdout, stdout.Length == 0 ? 1 : 0, "sh: 1: /usr/local/sbin/egress-host: not found\n"));

        Assert.False(check.Passed);
        Assert.StartsWith(problem, check.Problem, StringComparison.Ordinal);
    }
}
