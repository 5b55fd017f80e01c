using System.Diagnostics;
using System.Text;
using Egress.Aws.Testing;
using Egress.Core.Cost;
using Egress.Core.Topology;

namespace Egress.Cli.Tests;

/// <summary>Issue 24, item 6: every file an option names is read with a size bound and every output path error is exit
/// 2 with the path and the operating system's reason; money arithmetic refuses out-of-range input with exit 2.</summary>
public sealed class FileArgumentTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("egress-file-args-").FullName;
    private readonly FakeAwsCloud _cloud = new();

    public FileArgumentTests()
    {
        var yaml = Examples.Text(Examples.Seed).Replace("        architecture: amd64\n", "        architecture: amd64\n        instanceProfile: egress-ssm\n", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_directory, "egress.yaml"), yaml);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, _directory, colors: false)
        {
            AwsPorts = _ => _cloud,
            Time = new InstantTimeProvider(),
            UserData = (topology, host) => $"#cloud-config\n# {topology.Stack} {host}\n",
        };
        var code = await EgressCli.RunAsync(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static void AssertNoTemporaryFiles(string directory) =>
        Assert.Empty(Directory.GetFiles(directory, ".*.tmp"));

    [Theory]
    [InlineData("cost", "--prices", "1 MiB")]
    [InlineData("plan", "--ssh-public-key", "16 KiB")]
    [InlineData("apply", "--ssh-public-key", "16 KiB")]
    public async Task EndlessInput_DevZero_ExitsTwoAtOnceNamingPathAndBound(string verb, string option, string bound)
    {
        var clock = Stopwatch.StartNew();

        var (code, stdout, stderr) = verb == "apply"
            ? await RunAsync(verb, option, "/dev/zero", "--yes")
            : await RunAsync(verb, option, "/dev/zero");

        Assert.True(code == 2, stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(string.Empty, stdout);
        Assert.Contains($"{option} /dev/zero: larger than the {bound} allowed for this file. Fix:", stderr, StringComparison.Ordinal);
        Assert.Equal(0, _cloud.MutatingCalls);
    }

    [Fact]
    public async Task SshPublicKey_OverTheBound_ExitsTwoBeforeAnyAwsCall()
    {
        await File.WriteAllTextAsync(PathOf("big.pub"), "ssh-ed25519 " + new string('A', 17 * 1024) + " me@host\n");

        var (code, _, stderr) = await RunAsync("plan", "--ssh-public-key", "big.pub");

        Assert.Equal(2, code);
        Assert.Contains("--ssh-public-key big.pub: larger than the 16 KiB allowed for this file", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("AWS calls", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--ssh-public-key")]
    [InlineData("--prices")]
    public async Task InputFile_Directory_Binary_Missing_ExitTwoWithTheReason(string option)
    {
        var verb = option == "--prices" ? "cost" : "plan";
        Directory.CreateDirectory(PathOf("adir"));
        await File.WriteAllBytesAsync(PathOf("binary"), [0x73, 0x73, 0x68, 0x2d, 0xff, 0xfe, 0xc3, 0x28, 0x00]);

        var dir = await RunAsync(verb, option, "adir");
        var binary = await RunAsync(verb, option, "binary");
        var missing = await RunAsync(verb, option, "nowhere/x");

        Assert.Equal((2, 2, 2), (dir.ExitCode, binary.ExitCode, missing.ExitCode));
        Assert.Contains($"{option} adir: is a directory, not a file", dir.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{option} binary: not UTF-8 text (an invalid byte at byte 4)", binary.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{option} nowhere/x: its directory does not exist", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prices_DeepNesting_ExitsTwoAsInvalidJson()
    {
        await File.WriteAllTextAsync(PathOf("deep.json"), new string('[', 100_000));

        var (code, _, stderr) = await RunAsync("cost", "--prices", "deep.json");

        Assert.True(code == 2, stderr);
        Assert.Contains("not valid JSON", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("7.9e28")]
    [InlineData("79228162514264337593543950335")]
    [InlineData("1e400")]
    [InlineData("1000000.01")]
    [InlineData("-0.01")]
    public async Task Prices_OutOfRange_ExitsTwoNamingThePriceInTheFile(string usd)
    {
        var table = PriceTable.BuiltInText().Replace("\"usd\": 0.0264,", $"\"usd\": {usd},", StringComparison.Ordinal);
        Assert.Contains(usd, table, StringComparison.Ordinal);
        await File.WriteAllTextAsync(PathOf("prices.json"), table);

        var (code, stdout, stderr) = await RunAsync("cost", "--prices", "prices.json");

        Assert.True(code == 2, stderr);
        Assert.Equal(string.Empty, stdout);
        Assert.Matches(@"prices\.json.*prices\[\d+\]\.usd.*from 0 to 1000000 per unit", stderr);
    }

    [Theory]
    [InlineData("--gb-out", "79000000000000000000000000000", "--gb-out: must be from 0 to 1000000000000 (1e12 GB)")]
    [InlineData("--gb-out", "9000000000000000000000000000", "--gb-out: must be from 0 to 1000000000000 (1e12 GB)")]
    [InlineData("--gb-in", "1000000000000.5", "--gb-in: must be from 0 to 1000000000000 (1e12 GB)")]
    [InlineData("--hours", "79000000000000000000000000000", "--hours: must be from 0.01 to 1000000")]
    [InlineData("--hours", "0.0000000000000000000001", "--hours: must be from 0.01 to 1000000")]
    [InlineData("--gb-out", "1e28", "--gb-out: '1e28' is not a number")]
    [InlineData("--hours", "NaN", "--hours: 'NaN' is not a number")]
    [InlineData("--gb-in", "Infinity", "--gb-in: 'Infinity' is not a number")]
    public async Task Cost_TrafficOutOfRange_ExitsTwoNamingTheOption(string option, string value, string expected)
    {
        var (code, stdout, stderr) = await RunAsync("cost", option, value);

        Assert.True(code == 2, stderr);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_EveryInputAtItsMaximum_ExitsZeroOrTwoNeverSeventy()
    {
        var table = System.Text.RegularExpressions.Regex.Replace(PriceTable.BuiltInText(), "\"usd\": [0-9.]+", "\"usd\": 1000000");
        await File.WriteAllTextAsync(PathOf("max.json"), table);

        foreach (var hours in new[] { "0.01", "1000000" })
        {
            var (code, _, stderr) = await RunAsync("cost", "--prices", "max.json", "--hours", hours, "--gb-out", "1000000000000", "--gb-in", "1000000000000", "-o", "json");
            Assert.True(code is 0 or 2, $"exit {code}: {stderr}");
            Assert.DoesNotContain("hit a bug", stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task VerifyHtml_Directory_ExitsTwoBeforeTheSuiteRuns()
    {
        Directory.CreateDirectory(PathOf("reports"));

        var (code, _, stderr) = await RunAsync("verify", "--html", "reports");

        Assert.True(code == 2, stderr);
        Assert.Contains("--html reports: is a directory; give a file name inside it. Fix:", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("AWS calls", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyHtml_MissingParentOrParentIsAFile_ExitsTwo()
    {
        await File.WriteAllTextAsync(PathOf("plain"), "x");

        var missing = await RunAsync("verify", "--html", "no/such/report.html");
        var underFile = await RunAsync("verify", "--html", "plain/report.html");

        Assert.Equal((2, 2), (missing.ExitCode, underFile.ExitCode));
        Assert.Contains("--html no/such/report.html: the directory", missing.Stderr, StringComparison.Ordinal);
        Assert.Contains("is a file, not a directory", underFile.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_ToDevFullOrADirectory_ExitsTwoWithTheReason()
    {
        Directory.CreateDirectory(PathOf("adir"));

        var full = await RunAsync("init", "-f", "/dev/full", "--force");
        var dir = await RunAsync("init", "-f", "adir", "--force");
        var ok = await RunAsync("init", "-f", "new.yaml");

        Assert.True(full.ExitCode == 2, full.Stderr);
        Assert.Contains("/dev/full: cannot be written: No space left on device", full.Stderr, StringComparison.Ordinal);
        Assert.True(dir.ExitCode == 2, dir.Stderr);
        Assert.Contains("adir: is a directory", dir.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(Examples.Text(Examples.Seed), await File.ReadAllTextAsync(PathOf("new.yaml")));
        AssertNoTemporaryFiles(_directory);
    }

    [Fact]
    public async Task StatusCheck_SshFilesBoundedAndChecked_ExitTwoBeforeAnyAwsCall()
    {
        Directory.CreateDirectory(PathOf("kh"));

        var key = await RunAsync("status", "--check", "--ssh-private-key", "/dev/zero");
        var known = await RunAsync("status", "--check", "--known-hosts", "kh");
        var knownZero = await RunAsync("verify", "--known-hosts", "/dev/zero");

        Assert.True(key.ExitCode == 2, key.Stderr);
        Assert.Contains("--ssh-private-key /dev/zero: larger than the 64 KiB allowed", key.Stderr, StringComparison.Ordinal);
        Assert.True(known.ExitCode == 2, known.Stderr);
        Assert.Contains("--known-hosts kh: is a directory", known.Stderr, StringComparison.Ordinal);
        Assert.True(knownZero.ExitCode == 2, knownZero.Stderr);
        Assert.Contains("--known-hosts /dev/zero: larger than the 1 MiB allowed", knownZero.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void OutputFile_RegularTarget_ReplacedWholeAndNoTemporaryLeft()
    {
        var target = PathOf("report.html");
        File.WriteAllText(target, "old");

        Egress.Core.IO.OutputFile.WriteAllText(target, "new");

        Assert.Equal("new", File.ReadAllText(target));
        AssertNoTemporaryFiles(_directory);
    }

    [Fact]
    public void OutputFile_DevFull_ThrowsWithTheOsReasonAndLeavesTheDeviceAlone()
    {
        var problem = Assert.Throws<Egress.Core.IO.FileAccessProblem>(() => Egress.Core.IO.OutputFile.WriteAllText("/dev/full", "x"));

        Assert.Contains("No space left on device", problem.Problem, StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo("/dev/full").Length); // still the device: a renamed-over regular file would hold "x"
    }

    [Fact]
    public void BoundedFile_ExactlyAtTheBound_IsReadAndOneByteMoreIsNot()
    {
        File.WriteAllBytes(PathOf("at"), Encoding.UTF8.GetBytes(new string('x', 100)));
        File.WriteAllBytes(PathOf("over"), Encoding.UTF8.GetBytes(new string('x', 101)));

        Assert.Equal(100, Egress.Core.IO.BoundedFile.ReadAllText(PathOf("at"), 100).Length);
        var problem = Assert.Throws<Egress.Core.IO.FileAccessProblem>(() => Egress.Core.IO.BoundedFile.ReadAllText(PathOf("over"), 100));
        Assert.Contains("larger than the 100 bytes allowed", problem.Problem, StringComparison.Ordinal);
    }
}
