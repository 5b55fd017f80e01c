using Egress.Core.Topology;

namespace Egress.Cli.Tests;

/// <summary>A new user's first commands: FILE as an argument, the seed when there is no file, "did you mean",
/// help for bare 'egress', numbers in plain words, no crash and no memory blow-up on a file that is not a topology.</summary>
public sealed class CliUsabilityTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("validate", "3 regions")]
    [InlineData("show", "syd-client")]
    [InlineData("cost", "ap-southeast-2")]
    public async Task ReadOnlyVerb_FileAsPositionalArgument_ReadsIt(string verb, string expected)
    {
        await File.WriteAllTextAsync(_cli.PathOf("three.yaml"), Examples.Text(Examples.ThreeRegion));

        var (code, stdout, stderr) = await _cli.RunAsync(verb, "three.yaml");

        Assert.Equal(0, code);
        Assert.Contains(expected, stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("embedded seed", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_HostThenFile_ReadsTheFile()
    {
        await File.WriteAllTextAsync(_cli.PathOf("three.yaml"), Examples.Text(Examples.ThreeRegion));

        var (code, stdout, _) = await _cli.RunAsync("render", "syd-client", "three.yaml");

        Assert.Equal(0, code);
        Assert.StartsWith("#!/bin/sh", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_PositionalAndDifferentOption_RefusesBoth()
    {
        var (code, _, stderr) = await _cli.RunAsync("validate", "a.yaml", "-f", "b.yaml");

        Assert.Equal(2, code);
        Assert.Contains("two topology files given", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("show")]
    [InlineData("cost")]
    public async Task ReadOnlyVerb_NoFileAndNoEgressYaml_UsesTheEmbeddedSeedAndSaysSo(string verb)
    {
        var (code, _, stderr) = await _cli.RunAsync(verb);

        Assert.Equal(0, code);
        Assert.Contains("No FILE and no ./egress.yaml: using the embedded seed topology", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_NoFileButEgressYaml_ReadsEgressYaml()
    {
        await _cli.RunAsync("init", "--example", "three-region");

        var (code, stdout, stderr) = await _cli.RunAsync("validate");

        Assert.Equal(0, code);
        Assert.Contains("egress.yaml: valid", stdout, StringComparison.Ordinal); // the verdict is output, not a diagnostic
        Assert.Contains("3 regions", stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stderr);
    }

    [Theory]
    [InlineData(new[] { "validte" }, "unknown command 'validte'; did you mean 'validate'?")]
    [InlineData(new[] { "lab", "stauts" }, "unknown command 'stauts'; did you mean 'status'?")]
    [InlineData(new[] { "validate", "--fiel", "x.yaml" }, "unknown option '--fiel'; did you mean '--file'?")]
    [InlineData(new[] { "cost", "--gb-ot", "3" }, "unknown option '--gb-ot'; did you mean '--gb-out'?")]
    public async Task Typo_SuggestsTheNearestVerbOrOption(string[] args, string expected)
    {
        var (code, _, stderr) = await _cli.RunAsync(args);

        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command was not provided", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BareEgress_PrintsHelpOnStdoutAndExitsZero()
    {
        var (code, stdout, stderr) = await _cli.RunAsync();

        Assert.Equal(0, code);
        Assert.Contains("validate", stdout, StringComparison.Ordinal);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stderr);
    }

    [Theory]
    [InlineData("--gb-out", "abc", "--gb-out: 'abc' is not a number; write it like --gb-out 1.5.")]
    [InlineData("--hours", "1,5", "--hours: '1,5' is not a number; write it like --hours 1.5.")]
    public async Task Cost_NumberThatIsNot_SaysSoInPlainWords(string option, string value, string expected)
    {
        var (code, _, stderr) = await _cli.RunAsync("cost", option, value);

        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_RoundsNotAWholeNumber_SaysSoInPlainWords()
    {
        var (code, _, stderr) = await _cli.RunAsync("verify", "--rounds", "five");

        Assert.Equal(2, code);
        Assert.Contains("--rounds: 'five' is not a whole number", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("show")]
    [InlineData("cost")]
    public async Task ReadOnlyVerb_DevZero_RefusedAtTheSizeCapWithExitTwo(string verb)
    {
        var (code, _, stderr) = await _cli.RunAsync(verb, "-f", "/dev/zero");

        Assert.Equal(2, code);
        Assert.Contains("/dev/zero:1:1: error: the file is larger than 1024 KiB", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_BinaryGarbage_ExitsTwoWithALocation()
    {
        var bytes = new byte[4096];
        new Random(15).NextBytes(bytes);
        await File.WriteAllBytesAsync(_cli.PathOf("garbage.yaml"), bytes);

        var (code, _, stderr) = await _cli.RunAsync("validate", "garbage.yaml");

        Assert.Equal(2, code);
        Assert.Matches(@"garbage\.yaml:\d+:\d+: error:", stderr);
    }

    [Fact]
    public void Verbs_TableNamesMatchTheCommands()
    {
        var context = new CliContext(TextWriter.Null, TextWriter.Null, _cli.Directory, colors: false);

        Assert.All(EgressCli.Verbs, verb => Assert.Equal(verb.Name, verb.Create(context).Name));
    }
}
