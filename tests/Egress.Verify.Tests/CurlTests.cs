using Egress.Verify.Probes;

namespace Egress.Verify.Tests;

public class CurlTests
{
    private static readonly Uri Api = new("https://api.binance.com/api/v3/time");

    [Fact]
    public void Parse_ColdSample_ReadsPhasesInMilliseconds()
    {
        var output = Curl.Parse(Samples.Result("curl-cold-ok.txt"), 1);

        Assert.Empty(output.Problems);
        var sample = Assert.Single(output.Samples);
        Assert.True(sample.Succeeded);
        Assert.Equal(200, sample.HttpCode);
        Assert.Equal(1, sample.NumConnects);
        Assert.Equal("192.0.2.10", sample.RemoteIp);
        var phases = sample.Phases;
        Assert.Equal(0.512, phases.Dns, 3);
        Assert.Equal(71.213 - 0.512, phases.Connect, 3);
        Assert.Equal(145.871 - 71.213, phases.Tls, 3);
        Assert.Equal(221.054, phases.Ttfb, 3);
        Assert.Equal(221.402, phases.Total, 3);
    }

    [Fact]
    public void Parse_KeepAliveRun_OneSamplePerUrlWithReuseAfterTheFirst()
    {
        var output = Curl.Parse(Samples.Result("curl-keepalive-ok.txt"), 10);

        Assert.Empty(output.Problems);
        Assert.Equal(10, output.Samples.Count);
        Assert.Equal(1, output.Samples[0].NumConnects);
        Assert.All(output.Samples.Skip(1), s => Assert.Equal(0, s.NumConnects));
        Assert.All(output.Samples.Skip(1), s => Assert.True(s.Phases.Tls < 0.01, "a reused connection has no TLS handshake"));
    }

    [Fact]
    public void Parse_Timeout_IsAFailedSampleNamingTheTimeout()
    {
        var output = Curl.Parse(Samples.Result("curl-timeout.txt", exitCode: 28, stderr: "curl: (28) Operation timed out after 10001 milliseconds with 0 bytes received"), 1);

        var sample = Assert.Single(output.Samples);
        Assert.False(sample.Succeeded);
        Assert.Equal(28, sample.ExitCode);
        Assert.StartsWith("timed out", sample.Failure, StringComparison.Ordinal);
        Assert.Contains("10001 milliseconds", sample.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PartialWriteOut_IsAProblemNotAnException()
    {
        var output = Curl.Parse(Samples.Result("curl-partial.txt", exitCode: 124, stderr: "curl: timed out after 15 s"), 1);

        Assert.Empty(output.Samples);
        Assert.Contains(output.Problems, p => p.Contains("cut short", StringComparison.Ordinal));
        Assert.Contains(output.Problems, p => p.Contains("expected 1 curl write-out(s), got 0 (exit 124: curl: timed out after 15 s)", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_WriteOutCutAfterTimeTotal_IsInvalidJsonProblem()
    {
        var line = Samples.Text("curl-cold-ok.txt").Trim();
        var cut = line[..(line.IndexOf("\"time_total\"", StringComparison.Ordinal) + 20)];

        var output = Curl.Parse(Samples.Output(cut), 1);

        Assert.Empty(output.Samples);
        Assert.Contains(output.Problems, p => p.StartsWith("a curl write-out is not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_NonJsonLines_AreSkippedAndTheWriteOutFound()
    {
        var output = Curl.Parse(Samples.Result("curl-noise.txt"), 1);

        Assert.Empty(output.Problems);
        Assert.Single(output.Samples);
        Assert.Contains("proxy says hi", output.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("curl-empty.txt", "curl printed nothing (exit 7: curl: (7) Failed to connect)")]
    [InlineData("curl-not-object.txt", "expected 1 curl write-out(s), got 0")]
    public void Parse_NoWriteOut_IsAClearProblem(string sample, string problem)
    {
        var output = Curl.Parse(Samples.Result(sample, exitCode: 7, stderr: "curl: (7) Failed to connect\n"), 1);

        Assert.Empty(output.Samples);
        Assert.Contains(output.Problems, p => p.StartsWith(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_MoreWriteOutsThanExpected_IsAProblem()
    {
        var output = Curl.Parse(Samples.Result("curl-keepalive-ok.txt"), 3);

        Assert.Contains("expected 3 curl write-out(s), got 10", output.Problems);
    }

    [Fact]
    public void Failure_Http451_NamesTheLegalReason()
    {
        var sample = Assert.Single(Curl.Parse(Samples.Result("curl-451.txt"), 1).Samples);

        Assert.False(sample.Succeeded);
        Assert.Equal("HTTP 451 Unavailable For Legal Reasons from https://api.binance.com/api/v3/time: the target refuses the egress location", sample.Failure);
    }

    [Fact]
    public void Parse_BodyThenWriteOut_SeparatesTheBody()
    {
        var output = Curl.Parse(Samples.Result("ipinfo-tokyo.txt"), 1);

        Assert.Empty(output.Problems);
        var answer = IpEcho.Parse(output.Body, out var problem);
        Assert.Null(problem);
        Assert.Equal(new IpEchoAnswer("203.0.113.10", "Tokyo", "Tokyo", "JP", "AS16509 Amazon.com, Inc."), answer);
    }

    [Theory]
    [InlineData("", "the IP echo answered with an empty body")]
    [InlineData("<html>rate limited</html>", "the IP echo's answer is not JSON: <html>rate limited</html>")]
    [InlineData("[1,2]", "the IP echo's answer is not a JSON object: [1,2]")]
    [InlineData("{\"city\":\"Tokyo\"}", "the IP echo's answer has no \"ip\": {\"city\":\"Tokyo\"}")]
    public void IpEchoParse_BadBody_IsAProblem(string body, string expected)
    {
        Assert.Null(IpEcho.Parse(body, out var problem));
        Assert.Equal(expected, problem);
    }

    [Fact]
    public void KeepAlive_OneProcessManyUrls_EachWithItsOwnOutput()
    {
        var spec = Curl.KeepAlive(Api, 4, TimeSpan.FromSeconds(10));

        Assert.Equal("curl", spec.Program);
        Assert.Equal(4, spec.Arguments.Count(a => a == Api.AbsoluteUri));
        Assert.Equal(4, spec.Arguments.Count(a => a == "--output"));
        Assert.Contains("%{json}\\n", spec.Arguments);
        Assert.Contains("--fail-early", spec.Arguments);
        Assert.Equal(TimeSpan.FromSeconds(45), spec.Timeout);
    }

    [Fact]
    public void Cold_OneUrl()
    {
        var spec = Curl.Cold(Api, TimeSpan.FromSeconds(2.5));

        Assert.Equal("curl --silent --show-error --max-time 2.5 --write-out '%{json}\\n' --output /dev/null https://api.binance.com/api/v3/time", spec.ToString());
    }
}
