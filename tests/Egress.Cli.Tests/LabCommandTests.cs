namespace Egress.Cli.Tests;

/// <summary>`egress lab` argument handling (the lab itself is tested as root in Egress.Lab.RootTests).</summary>
public sealed class LabCommandTests
{
    [Fact]
    public async Task Lab_Help_ListsTheVerbsButNotTheHiddenServe()
    {
        using var cli = new CliRunner();

        var (code, stdout, _) = await cli.RunAsync("lab", "--help");

        Assert.Equal(0, code);
        foreach (var verb in new[] { "up", "status", "exec", "verify", "down", "run", "reboot" })
        {
            Assert.Contains($"  {verb} ", stdout, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("serve", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("metadata", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("  resolver ", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--naive", "--instances", "vm")]
    [InlineData("--eip-delay", "30")]
    [InlineData("--eip-delay", "boot")]
    [InlineData("--instances", "vm", "--eip-delay", "-1")]
    [InlineData("--instances", "vm", "--eip-delay", "3601")]
    [InlineData("--instances", "vm", "--eip-delay", "later")]
    public async Task LabUp_VmOptionsThatDoNotGo_Exit2BeforeAnythingIsBuilt(params string[] options)
    {
        using var cli = new CliRunner();

        var (code, _, stderr) = await cli.RunAsync(["lab", "up", "--id", "tvmopt", .. options]);

        Assert.Equal(2, code);
        Assert.True(stderr.Contains("--naive and --instances vm", StringComparison.Ordinal) || stderr.Contains("--eip-delay", StringComparison.Ordinal) || stderr.Contains("needs root", StringComparison.Ordinal), stderr);
        Assert.False(Directory.Exists("/run/egress-lab/tvmopt"));
    }

    [Fact]
    public async Task LabUp_InvalidId_Exit2()
    {
        using var cli = new CliRunner();

        var (code, _, stderr) = await cli.RunAsync("lab", "up", "--id", "Not-Valid");

        Assert.Equal(2, code);
        Assert.True(stderr.Contains("lower-case letters or digits", StringComparison.Ordinal) || stderr.Contains("needs root", StringComparison.Ordinal), stderr);
    }

    [Fact]
    public async Task LabExec_NoCommand_Exit2()
    {
        using var cli = new CliRunner();

        var (code, _, _) = await cli.RunAsync("lab", "exec", "sg-client");

        Assert.Equal(2, code);
    }

    [Fact]
    public async Task LabUp_MissingFile_Exit2NamingTheFile()
    {
        using var cli = new CliRunner();

        var (code, _, stderr) = await cli.RunAsync("lab", "up", "-f", "nope.yaml");

        Assert.Equal(2, code);
        Assert.True(stderr.Contains("nope.yaml", StringComparison.Ordinal) || stderr.Contains("needs root", StringComparison.Ordinal), stderr);
    }

    [Theory]
    [InlineData(1, false, "egress lab exec sg-client -- curl -s https://ipinfo.io/json")]
    [InlineData(2, false, "egress lab exec --id seed2 sg-client -- curl -s https://ipinfo.io/json")]
    [InlineData(3, true, "sudo egress lab exec --id seed2 sg-client -- curl -s https://ipinfo.io/json")]
    public void ExecHint_SeveralLabsUp_NamesTheId(int labsUp, bool viaSudo, string expected) =>
        Assert.Equal(expected, Commands.LabCli.ExecHint("seed2", "sg-client", labsUp, viaSudo));
}
