using Egress.Tests.Shared;
using Egress.Verify.Probes;

namespace Egress.Verify.RootTests;

/// <summary>The probes' command lines run with the real curl, mtr and ping inside a scratch namespace, and their real
/// output goes through the parsers: proves the invocations and the parsers agree with the tools installed here.</summary>
public sealed class RealToolTests : IClassFixture<RealToolTests.Fixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);
    private readonly ScratchNamespace _ns;

    public RealToolTests(Fixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        _ns = fixture.Namespace;
    }

    [RootFact]
    public async Task CurlKeepAlive_Http11Server_ReusesOneConnection()
    {
        var run = await _ns.RunAsync(Curl.KeepAlive(new Uri("http://127.0.0.1:8080/time"), 5, Timeout));
        var output = Curl.Parse(run, 5);

        Assert.Empty(output.Problems);
        Assert.Equal([1, 0, 0, 0, 0], output.Samples.Select(s => s.NumConnects));
        Assert.All(output.Samples, s => Assert.True(s.Succeeded, s.Failure));
        Assert.Equal(CheckStatus.Pass, VerifySuite.JudgeReuse("c", "u", output.Samples, 5).Status);
    }

    [RootFact]
    public async Task CurlKeepAlive_ServerClosesEachConnection_ReuseFails()
    {
        var output = Curl.Parse(await _ns.RunAsync(Curl.KeepAlive(new Uri("http://127.0.0.1:8081/time"), 3, Timeout)), 3);

        Assert.All(output.Samples, s => Assert.Equal(1, s.NumConnects));
        var check = VerifySuite.JudgeReuse("c", "u", output.Samples, 3);
        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.StartsWith("connection not reused: request(s) 2, 3 of 3", check.Detail, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task CurlCold_ServerNeverAnswers_Exit28WithAWriteOut()
    {
        var output = Curl.Parse(await _ns.RunAsync(Curl.Cold(new Uri("http://127.0.0.1:8082/time"), TimeSpan.FromSeconds(1))), 1);

        var sample = Assert.Single(output.Samples);
        Assert.Equal(28, sample.ExitCode);
        Assert.StartsWith("timed out: http://127.0.0.1:8082/time", sample.Failure, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task CurlKeepAlive_ServerNeverAnswers_StopsAfterTheFirstTimeout()
    {
        var run = await _ns.RunAsync(Curl.KeepAlive(new Uri("http://127.0.0.1:8082/time"), 5, TimeSpan.FromSeconds(1)));
        var output = Curl.Parse(run, 5);

        Assert.True(run.Elapsed < TimeSpan.FromSeconds(4), $"took {run.Elapsed}");
        Assert.Equal(28, Assert.Single(output.Samples).ExitCode);
        Assert.Contains(output.Problems, p => p.StartsWith("expected 5 curl write-out(s), got 1 (exit 28", StringComparison.Ordinal));
    }

    [RootFact]
    public async Task CurlCold_NoRoute_FailsWithCurlsReason()
    {
        var output = Curl.Parse(await _ns.RunAsync(Curl.Cold(new Uri("http://192.0.2.1/"), TimeSpan.FromSeconds(1))), 1);

        var sample = Assert.Single(output.Samples);
        Assert.False(sample.Succeeded);
        Assert.StartsWith("curl exit 7", sample.Failure, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Mtr_Loopback_OneHop()
    {
        Prerequisites.RequireProgram("mtr", "mtr-tiny");

        var trace = PathProbe.ParseMtr("127.0.0.1", await _ns.RunAsync(PathProbe.Mtr("127.0.0.1", 1)));

        Assert.Null(trace.Problem);
        var hop = Assert.Single(trace.Hops);
        Assert.Equal("127.0.0.1", hop.Address);
        Assert.True(hop.Answered);
    }

    [RootFact]
    public async Task Mtr_NoRoute_IsAProblemNotACrash()
    {
        Prerequisites.RequireProgram("mtr", "mtr-tiny");

        var trace = PathProbe.ParseMtr("192.0.2.1", await _ns.RunAsync(PathProbe.Mtr("192.0.2.1", 1)));

        Assert.Empty(trace.Hops);
        Assert.StartsWith("mtr printed nothing (exit 1: mtr: ", trace.Problem, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Ping_LoopbackAndNoRoute()
    {
        Prerequisites.RequireProgram("ping", "iputils-ping");

        Assert.True(Ping.Parse(await _ns.RunAsync(Ping.To("127.0.0.1", 2)), 2).Reachable);
        Assert.False(Ping.Parse(await _ns.RunAsync(Ping.To("192.0.2.1", 1)), 1).Reachable);
    }

    /// <summary>The reboot case of the VM lab, with the real ping: a responder stalls 600 ms on the third echo (well past
    /// two round trips; the echoes after it wait behind it), then, asked again, never answers the second. The late reply
    /// counts; the lost one fails.</summary>
    [RootFact]
    public async Task Ping_LateReplyCounts_LostEchoFails()
    {
        Prerequisites.RequireProgram("ping", "iputils-ping");
        using (var late = new SlowEchoNamespace("0.05,0.05,0.6,0.05"))
        {
            var ping = Ping.Parse(await late.RunAsync(Ping.To("127.0.0.1", 3)), 3);
            Assert.True(ping.Reachable, $"{ping}");
            Assert.InRange(ping.AvgMs!.Value, 200, 1000);
        }

        using var lost = new SlowEchoNamespace("0.05,drop,0.05");
        var result = await lost.RunAsync(Ping.To("127.0.0.1", 3));
        var parsed = Ping.Parse(result, 3);
        Assert.False(parsed.Reachable, result.StandardOutput);
        Assert.Equal((3, 2), (parsed.Transmitted, parsed.Received));
    }

    public sealed class Fixture : IDisposable
    {
        private readonly Lazy<ScratchNamespace> _namespace = new(() => new ScratchNamespace());

        public ScratchNamespace Namespace => _namespace.Value;

        public void Dispose()
        {
            if (_namespace.IsValueCreated)
            {
                _namespace.Value.Dispose();
            }
        }
    }
}
