using System.CommandLine;
using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Verify;

namespace Egress.Cli.Tests;

public class VerifyCliOptionsTests
{
    private static (VerifyCliOptions Options, ParseResult Parse) Parse(params string[] args)
    {
        var options = new VerifyCliOptions();
        var command = new RootCommand();
        options.AddTo(command);
        var parse = command.Parse(args);
        Assert.Empty(parse.Errors);
        return (options, parse);
    }

    [Fact]
    public void OptionsFrom_NoArguments_SuiteDefaultsAndTopologyRounds()
    {
        var (options, parse) = Parse();

        Assert.Equal(new VerifyOptions(), options.OptionsFrom(parse));
    }

    [Fact]
    public void OptionsFrom_Everything_Mapped()
    {
        var (options, parse) = Parse("--rounds", "3", "--cold", "7", "--keepalive", "20", "--timeout", "2.5");

        var result = options.OptionsFrom(parse);

        Assert.Equal((3, 7, 20, TimeSpan.FromSeconds(2.5)), (result.Rounds, result.ColdSamples, result.KeepAliveRequests, result.RequestTimeout));
    }

    [Theory]
    [InlineData("--rounds", "0", "rounds must be at least 1 (got 0).")]
    [InlineData("--keepalive", "1", "keep-alive requests at least 2")]
    [InlineData("--timeout", "0", "--timeout 0: give the seconds one request may take")]
    public void OptionsFrom_BadValue_UsageExceptionNamingIt(string option, string value, string message)
    {
        var (options, parse) = Parse(option, value);

        var ex = Assert.Throws<UsageException>(() => options.OptionsFrom(parse));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OutputFrom_JsonAndHtml_ResolvedAgainstTheWorkingDirectory()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, Path.GetTempPath(), colors: false);
        var (options, parse) = Parse("--output", "json", "--html", "report.html");

        var output = options.OutputFrom(context, parse);

        Assert.Equal(VerifyOutputFormat.Json, output.Format);
        Assert.Equal(Path.Combine(Path.GetTempPath(), "report.html"), output.HtmlPath);
        Assert.Same(stdout, output.Data);
    }

    [Fact]
    public async Task RunAsync_HtmlIntoMissingDirectory_UsageErrorAndNothingRuns()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, "/", colors: false);
        var (options, parse) = Parse("--html", "/nonexistent-egv-dir/report.html");
        var environment = new VerifyEnvironment("lab", Examples.Load("seed"), _ => new NeverRunner(), new Dictionary<string, Ipv4Address>(), false, _ => CommandSpec.Of("true"));

        var ex = await Assert.ThrowsAsync<UsageException>(() => options.RunAsync(context, parse, environment, CancellationToken.None));

        Assert.Equal("--html /nonexistent-egv-dir/report.html: the directory /nonexistent-egv-dir does not exist. Fix: pick a file in a directory you can write to.", ex.Message);
    }

    private sealed class NeverRunner : ICommandRunner
    {
        public Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException($"nothing should run, but '{command}' did");
    }
}
