using System.Text.Json;

namespace Egress.Shipped.Tests;

/// <summary>A test that needs the EC2/SSM emulator: EGRESS_TEST_AWS_ENDPOINT (eng/test.sh starts moto-server and sets it).
/// Without it: skipped with that reason for a developer, FAILED when CI is set.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EmulatorFactAttribute : FactAttribute
{
    public EmulatorFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Emulator.Variable)) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
        {
            Skip = $"{Emulator.Variable} is not set: the shipped tier's AWS verbs did NOT run (./eng/test.sh starts ../shared/tools/moto-server; or start it on a port and set {Emulator.Variable}=http://127.0.0.1:PORT).";
        }
    }
}

/// <summary>The EC2/SSM emulator (moto-server, shared by every test project of a run, never reset: each test here works
/// in an emulated AWS account of its own, see <see cref="NewAccountAsync"/>), and a look at it that does not go through
/// egress (stack-probe.py, boto3).</summary>
public static class Emulator
{
    public const string Variable = "EGRESS_TEST_AWS_ENDPOINT";

    /// <summary>moto has no Canonical SSM AMI parameter: every host gets this image, which moto knows.</summary>
    public const string Ami = "ami-1e749f67";

    /// <summary>The emulator's URL; refuses anything but 127.0.0.1 so that the tier can never reach AWS.</summary>
    public static string Endpoint()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        Assert.False(string.IsNullOrEmpty(text), $"CI is set but {Variable} is not: eng/test.sh must start moto-server and pass its URL; the shipped tier's AWS verbs may not be skipped in CI.");
        var uri = new Uri(text);
        Assert.True(uri.Host == "127.0.0.1", $"{Variable} must point at 127.0.0.1, not {uri.Host}: the shipped tier never contacts AWS.");
        return text.TrimEnd('/');
    }

    /// <summary>Credentials in the environment (fake ones unless an account's), and no profile, config file or instance
    /// metadata of the machine's.</summary>
    public static Dictionary<string, string?> AwsEnvironment(string directory, Account? account = null) => new(StringComparer.Ordinal)
    {
        ["AWS_ACCESS_KEY_ID"] = account?.AccessKeyId ?? "testing",
        ["AWS_SECRET_ACCESS_KEY"] = account?.SecretAccessKey ?? "testing",
        ["AWS_SESSION_TOKEN"] = null,
        ["AWS_REGION"] = "us-east-1",
        ["AWS_PROFILE"] = null,
        ["AWS_DEFAULT_PROFILE"] = null,
        ["AWS_CONFIG_FILE"] = Path.Combine(directory, "no-aws-config"),
        ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(directory, "no-aws-credentials"),
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };

    /// <summary>An emulated AWS account and an access key for it.</summary>
    public sealed record Account(string Id, string AccessKeyId, string SecretAccessKey)
    {
        /// <summary>Everything the emulator holds for <paramref name="stack"/> in this account, in any region it lists:
        /// per-kind describe calls with the egress:stack tag and the lock parameter, read by boto3, not by egress.</summary>
        public async Task<IReadOnlyList<Resource>> RemainsAsync(string stack)
        {
            var result = await ProbeAsync(this, "remains", stack);
            using var json = JsonDocument.Parse(result);
            Assert.True(json.RootElement.GetProperty("regions").GetArrayLength() > 1, result);
            return [.. json.RootElement.GetProperty("resources").EnumerateArray().Select(r => new Resource(
                r.GetProperty("region").GetString()!, r.GetProperty("kind").GetString()!, r.GetProperty("id").GetString()!, r.GetProperty("state").GetString()!))];
        }

        /// <summary>Takes the stack's lock the way egress's StackLock does: the SSM parameter /egress/lock/STACK in the
        /// topology's first region, created with Overwrite=false, holding who took it as JSON.</summary>
        public Task TakeLockAsync(string region, string stack, string holderJson) => ProbeAsync(this, "lock", region, stack, holderJson);
    }

    /// <summary>A new, empty account on the emulator. moto serves one EC2 per account and region to all its clients and
    /// ignores DescribeVpcPeeringConnections' filters, so stacks that share an account see each other's peerings (this
    /// tier's tests run side by side, and the SDK adapter suite uses the same emulator).</summary>
    public static async Task<Account> NewAccountAsync()
    {
        using var json = JsonDocument.Parse(await ProbeAsync(null, "account"));
        var root = json.RootElement;
        return new Account(root.GetProperty("account").GetString()!, root.GetProperty("accessKeyId").GetString()!, root.GetProperty("secretAccessKey").GetString()!);
    }

    /// <summary>A stack name no other test (or earlier run against the same emulator) uses.</summary>
    public static string UniqueStack(string what) => $"egress-shp-{what}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>An example topology (as `egress init` wrote it) with another stack name and an explicit `ami:` on every host.</summary>
    public static string ForEmulator(string topologyYaml, string stack)
    {
        var lines = new List<string>();
        foreach (var line in topologyYaml.Split('\n'))
        {
            if (line.StartsWith("stack:", StringComparison.Ordinal))
            {
                lines.Add($"stack: {stack}");
                continue;
            }

            lines.Add(line);
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("instanceType:", StringComparison.Ordinal))
            {
                lines.Add($"{line[..(line.Length - trimmed.Length)]}ami: {Ami}");
            }
        }

        Assert.Contains($"stack: {stack}", lines);
        return string.Join('\n', lines);
    }

    /// <summary>One live resource (or the stack lock) that the emulator holds for a stack.</summary>
    public sealed record Resource(string Region, string Kind, string Id, string State)
    {
        public override string ToString() => $"{Region} {Kind} {Id} {State}";
    }

    private static async Task<string> ProbeAsync(Account? account, params string[] args)
    {
        // Debian's python3 (as moto-server uses): its boto3 is python3-boto3, which the emulator needs anyway.
        var result = await ShippedTier.RunProcessAsync("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "stack-probe.py"), Endpoint(), .. args],
            AppContext.BaseDirectory, AwsEnvironment(AppContext.BaseDirectory, account), null, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"stack-probe.py {string.Join(' ', args)}: exit {result.ExitCode}\n{result.Output}\n{result.Error}");
        return result.Output;
    }
}
