using System.Diagnostics;
using System.Text;
using CsCheck;
using Egress.Aws.Testing;
using Egress.Core.Cost;
using Egress.Core.Topology;
using Xunit.Abstractions;

namespace Egress.Cli.Tests.Properties;

/// <summary>Every file-taking option (the topology's -f aside: TopologyPropertyTests) given hostile contents (binary,
/// over the bound, empty, invalid UTF-8, deep JSON nesting, numbers at the edges) and hostile paths (a directory,
/// /dev/full, /dev/zero, a missing parent, a file as parent): the exit is 0 or 2 (1 for the verbs whose checks can
/// fail), stderr says why, never 70. Case count from EGRESS_PROPERTY_CASES.</summary>
public sealed class FileArgumentPropertyTests(ITestOutputHelper output)
{
    private static readonly long Cases =
        long.TryParse(Environment.GetEnvironmentVariable("EGRESS_PROPERTY_CASES"), out var n) && n > 0 ? Math.Max(n / 10, 100) : 400;

    /// <summary>verb, option, extra arguments, whether the option is an output, the exits a run may end in.</summary>
    private static readonly (string Verb, string Option, string[] Extra, bool Output, int[] Exits)[] Options =
    [
        ("cost", "--prices", [], false, [0, 2]),
        ("plan", "--ssh-public-key", [], false, [0, 2]),
        ("apply", "--ssh-public-key", ["--yes"], false, [0, 2]),
        ("status", "--ssh-private-key", ["--check"], false, [0, 1, 2]),
        ("status", "--known-hosts", ["--check"], false, [0, 1, 2]),
        ("verify", "--known-hosts", ["--rounds", "1", "--cold", "1", "--keepalive", "2"], false, [0, 1, 2]),
        ("verify", "--html", ["--rounds", "1", "--cold", "1", "--keepalive", "2"], true, [0, 1, 2]),
        ("init", "-f", ["--force"], true, [0, 2]),
    ];

    private static Gen<string> Pick(string[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static readonly string[] EdgeNumbers =
        ["7.9e28", "79228162514264337593543950335", "-79228162514264337593543950335", "1e400", "-1e-400", "1e-28", "0", "-0", "1000000", "1000000.0000001",
         "0.0000000000000000000000000001", "NaN", "Infinity", "-Infinity", "1" + new string('0', 400)];

    private static readonly Gen<byte[]> Contents = Gen.OneOf(
        Gen.Const(Array.Empty<byte>()),
        Gen.Byte.Array[1, 4096],
        Gen.Const(new byte[] { 0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe }),
        Gen.Int[1, 2_200_000].Select(size => Encoding.ASCII.GetBytes(new string('a', size))),
        Gen.Int[1, 200_000].Select(depth => Encoding.ASCII.GetBytes(new string('[', depth) + new string(']', depth))),
        Gen.Int[1, 5000].Select(depth => Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth))),
        Pick(EdgeNumbers).Select(number => Encoding.UTF8.GetBytes(
            PriceTable.BuiltInText().Replace("\"usd\": 0.0264,", $"\"usd\": {number},", StringComparison.Ordinal))),
        Gen.String.Select(text => Encoding.UTF8.GetBytes("ssh-ed25519 " + text)),
        Gen.Const(Encoding.UTF8.GetBytes(PriceTable.BuiltInText())));

    /// <summary>A regular file with generated contents, or one of the hostile paths.</summary>
    private static readonly Gen<(string Kind, byte[] Bytes)> Paths = Gen.Frequency(
        (6, Contents.Select(bytes => ("file", bytes))),
        (1, Pick(["directory", "/dev/full", "/dev/zero", "/dev/null", "missing-parent", "file-as-parent", "missing"]).Select(kind => (kind, Array.Empty<byte>()))));

    [Fact]
    public async Task EveryFileOption_HostileContentsAndPaths_ExitZeroOrTwoWithAMessageNeverSeventy()
    {
        var clock = Stopwatch.StartNew();
        var exits = new Dictionary<int, int>();
        // One generated list of cases, run in order: each run is async, CsCheck's Sample is not.
        var plan = Gen.Select(Gen.Int[0, Options.Length - 1], Paths).Array[(int)Cases].Single();
        var count = 0;
        foreach (var (index, (kind, bytes)) in plan)
        {
            var (verb, option, extra, isOutput, allowed) = Options[index];
            var directory = Directory.CreateTempSubdirectory("egress-file-prop-").FullName;
            try
            {
                var yaml = Examples.Text(Examples.Seed).Replace("        architecture: amd64\n", "        architecture: amd64\n        instanceProfile: egress-ssm\n", StringComparison.Ordinal);
                await File.WriteAllTextAsync(Path.Combine(directory, "egress.yaml"), yaml);
                var path = kind switch
                {
                    "file" => "input",
                    "directory" => "adir",
                    "missing-parent" => "no/such/x",
                    "file-as-parent" => "plain/x",
                    "missing" => "absent",
                    _ => kind,
                };
                if (kind == "file" && !(isOutput && verb == "init" && bytes.Length % 2 == 0))
                {
                    await File.WriteAllBytesAsync(Path.Combine(directory, "input"), bytes);
                }

                Directory.CreateDirectory(Path.Combine(directory, "adir"));
                await File.WriteAllTextAsync(Path.Combine(directory, "plain"), "x");
                if (verb == "init" && path == "/dev/zero")
                {
                    path = "/dev/null"; // writing to /dev/zero succeeds like /dev/null; keep the run fast and alike
                }

                var (code, stderr) = await RunAsync(directory, [verb, option, path, .. extra]);
                exits[code] = exits.GetValueOrDefault(code) + 1;
                Assert.True(allowed.Contains(code), $"{verb} {option} {path} ({kind}, {bytes.Length} bytes): exit {code}\n{stderr}");
                Assert.DoesNotContain("hit a bug", stderr, StringComparison.Ordinal);
                if (code != 0)
                {
                    Assert.False(string.IsNullOrWhiteSpace(stderr), $"{verb} {option} {path}: exit {code} without a message");
                }

                Assert.Empty(Directory.GetFiles(directory, ".*.tmp", SearchOption.AllDirectories));
                count++;
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        output.WriteLine($"file options: {count} cases over {Options.Length} options, exits {string.Join(", ", exits.OrderBy(e => e.Key).Select(e => $"{e.Key}: {e.Value}"))}, 0 exits 70, {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private static async Task<(int Code, string Stderr)> RunAsync(string directory, string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, directory, colors: false)
        {
            AwsPorts = _ => new FakeAwsCloud(),
            Time = new InstantTimeProvider(),
            UserData = (topology, host) => $"#cloud-config\n# {topology.Stack} {host}\n",
        };
        var code = await EgressCli.RunAsync(args, context);
        return (code, stderr.ToString());
    }
}
