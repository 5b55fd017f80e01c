using System.Text.Json;
using Egress.Core.Topology;

namespace Egress.Cli.Tests;

public sealed class TopologyCommandsTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Init_ThenValidate_BothExitZero()
    {
        var init = await _cli.RunAsync("init");
        var validate = await _cli.RunAsync("validate");

        Assert.Equal(0, init.ExitCode);
        Assert.Equal(Examples.Text(Examples.Seed), await File.ReadAllTextAsync(_cli.PathOf("egress.yaml")));
        Assert.Equal(0, validate.ExitCode);
        Assert.Contains("egress.yaml: valid", validate.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_ExistingFile_RefusesWithoutForce()
    {
        await _cli.RunAsync("init");

        var again = await _cli.RunAsync("init", "--example", "three-region");
        var forced = await _cli.RunAsync("init", "--example", "three-region", "--force");

        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already exists; pass --force", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, forced.ExitCode);
        Assert.Contains("syd-client", await File.ReadAllTextAsync(_cli.PathOf("egress.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_MissingFile_ExitsTwoWithAClearMessage()
    {
        var (code, _, stderr) = await _cli.RunAsync("validate", "-f", "nope.yaml");

        Assert.Equal(2, code);
        Assert.Contains("nope.yaml: no such file. Run 'egress init'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_Directory_ExitsTwo()
    {
        System.IO.Directory.CreateDirectory(_cli.PathOf("adir"));

        var (code, _, stderr) = await _cli.RunAsync("validate", "-f", "adir");

        Assert.Equal(2, code);
        Assert.Contains("adir: cannot be read", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_InvalidFile_ListsEveryErrorAndExitsTwo()
    {
        var yaml = Examples.Text(Examples.Seed)
            .Replace("privateIp: 10.0.1.10", "privateIp: 10.0.1.0", StringComparison.Ordinal)
            .Replace("mode: ipip", "mode: ipop", StringComparison.Ordinal);
        await File.WriteAllTextAsync(_cli.PathOf("bad.yaml"), yaml);

        var (code, stdout, stderr) = await _cli.RunAsync("validate", "-f", "bad.yaml");

        Assert.Equal(2, code);
        Assert.Matches(@"bad\.yaml:\d+:\d+: error: regions\[0\]\.hosts\[0\]\.privateIp: 10\.0\.1\.0 is reserved", stderr);
        Assert.Matches(@"bad\.yaml:\d+:\d+: error: overlay\.mode: 'ipop' is not a valid mode; did you mean 'ipip'\?", stderr);
        Assert.Contains("bad.yaml: 2 errors.", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_Json_WritesDiagnosticsToStdout()
    {
        await File.WriteAllTextAsync(_cli.PathOf("bad.yaml"), Examples.Text(Examples.Seed).Replace("rounds: 5", "rounds: 0", StringComparison.Ordinal));

        var (code, stdout, stderr) = await _cli.RunAsync("validate", "-f", "bad.yaml", "--output", "json");

        Assert.Equal(2, code);
        Assert.Contains("bad.yaml: 1 error.", stderr, StringComparison.Ordinal); // stdout holds only the document
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(1, json.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.False(json.RootElement.GetProperty("valid").GetBoolean());
        var diagnostic = json.RootElement.GetProperty("diagnostics")[0];
        Assert.Equal("verify.criteria.rounds", diagnostic.GetProperty("path").GetString());
        Assert.True(diagnostic.GetProperty("line").GetInt32() > 0);
    }

    [Fact]
    public async Task Show_Yaml_ReloadsToTheSameTopology()
    {
        await _cli.RunAsync("init", "--example", "three-region");

        var (code, stdout, _) = await _cli.RunAsync("show");
        await File.WriteAllTextAsync(_cli.PathOf("shown.yaml"), stdout);
        var again = await _cli.RunAsync("show", "-f", "shown.yaml");

        Assert.Equal(0, code);
        Assert.Equal(stdout, again.Stdout);
        Assert.Contains("#   tunnelMtu: 1480", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_Json_HasDefaultsAndDerivedValues()
    {
        await _cli.RunAsync("init");

        var (code, stdout, _) = await _cli.RunAsync("show", "-o", "json");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("t3.micro", json.RootElement.GetProperty("regions")[1].GetProperty("hosts")[0].GetProperty("instanceType").GetString());
        Assert.Equal(1440, json.RootElement.GetProperty("derived").GetProperty("tcpMss").GetInt32());
    }

    [Fact]
    public async Task Show_InvalidFile_ExitsTwoAndPrintsNothingOnStdout()
    {
        await File.WriteAllTextAsync(_cli.PathOf("egress.yaml"), "stack: x\n");

        var (code, stdout, stderr) = await _cli.RunAsync("show");

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Contains("'regions' is required", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("show", "--output", "xml")]
    [InlineData("init", "--example", "moon")]
    public async Task UnknownVerbOrValue_ExitsTwoWithUsageHint(params string[] args)
    {
        var (code, _, stderr) = await _cli.RunAsync(args);

        Assert.Equal(2, code);
        Assert.Contains("--help' for usage", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("init")]
    [InlineData("validate")]
    [InlineData("show")]
    public async Task Help_OnEveryVerb_DescribesIt(string verb)
    {
        var (code, stdout, _) = await _cli.RunAsync(verb, "--help");

        Assert.Equal(0, code);
        Assert.Matches($@" {verb} (\[<FILE>\] )?\[options\]", stdout);
        Assert.Contains("--file", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_PrintsTheToolVersion()
    {
        var (code, stdout, _) = await _cli.RunAsync("--version");

        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", stdout);
    }
}
