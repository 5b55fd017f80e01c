using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Egress.Shipped.Tests;

/// <summary>The verbs that talk to AWS, against the EC2/SSM emulator, through the shipped artifacts; what the stack
/// holds is read with boto3 (<see cref="Emulator.Account.RemainsAsync"/>), never with egress itself. Exit codes: docs/aws.md.
/// Each scenario is a class of its own, so that xunit runs them side by side (they mostly wait for the emulator).</summary>
internal static partial class AwsStacks
{
    private const string PublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOPh0aK7aTEZVdwWgOq2pXx5bm8GZlUHpAhdW7nHlVwq egress-shipped-tier";

    /// <summary>Egress wraps long lines to the width (80 when piped); assertions read the words, not the line breaks.</summary>
    public static string Flat(string text) => Spaces().Replace(text, " ");

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    public sealed record TestStack(EgressCommand Egress, string File, string Stack, string Endpoint, Emulator.Account Account) : IAsyncDisposable
    {
        public Task<IReadOnlyList<Emulator.Resource>> RemainsAsync() => Account.RemainsAsync(Stack);

        public string[] Args(params string[] more) => ["-f", File, "--endpoint-url", Endpoint, .. more];

        public Task<Invocation> RunAsync(int expected, string verb, params string[] more) => Egress.RunAsync(expected, [verb, .. Args(more)]);

        /// <summary>Destroys what a failed test left (best effort: the test's own failure is the one to report; a bug
        /// here is still counted in the tier's summary).</summary>
        public async ValueTask DisposeAsync()
        {
            try
            {
                if ((await RemainsAsync()).Count > 0)
                {
                    await RunAsync(Exit.Ok, "destroy", "--yes", "--force-unlock");
                }
            }
            catch (Exception ex) when (ex is Xunit.Sdk.XunitException or InvalidOperationException or IOException)
            {
                // Reported by the test that failed first.
            }
        }
    }

    /// <summary>An example as `egress init` writes it, with a stack of its own and an `ami:` moto knows on every host.</summary>
    public static async Task<TestStack> StackAsync(string artifact, string example)
    {
        var endpoint = Emulator.Endpoint();
        var account = await Emulator.NewAccountAsync();
        var directory = ShippedTier.NewDirectory("aws-" + example);
        var egress = (await ShippedTier.ArtifactAsync(artifact)).In(directory, Emulator.AwsEnvironment(directory, account));
        await egress.RunAsync(Exit.Ok, "init", "--example", example, "-f", "example.yaml");
        var stack = Emulator.UniqueStack(example.Replace("-", string.Empty, StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(directory, "egress.yaml"), Emulator.ForEmulator(await File.ReadAllTextAsync(Path.Combine(directory, "example.yaml")), stack));
        await File.WriteAllTextAsync(Path.Combine(directory, "key.pub"), PublicKey + "\n");
        await egress.RunAsync(Exit.Ok, "validate", "egress.yaml");
        Assert.Empty(await account.RemainsAsync(stack));
        return new TestStack(egress, "egress.yaml", stack, endpoint, account);
    }

    public static (int Add, int Change, int Destroy) Totals(JsonElement plan) =>
        (plan.GetProperty("toAdd").GetInt32(), plan.GetProperty("toChange").GetInt32(), plan.GetProperty("toDestroy").GetInt32());

    public static string Describe(IEnumerable<Emulator.Resource> resources) => string.Join("\n", resources);
}

public sealed class AwsLifecycleTests
{

    [EmulatorFact]
    public async Task Lifecycle_SeedThroughPublish_PlanApplyEmptyReplanStatusDoctorDestroyLeavesNothing()
    {
        await using var s = await AwsStacks.StackAsync(ShippedTier.Publish, "seed");
        var plan = await s.RunAsync(Exit.Ok, "plan");
        Assert.Matches(@"Plan: [1-9]\d* to add, 0 to change, 0 to destroy\.", plan.Output);
        Assert.Contains("0 mutating calls", plan.Error, StringComparison.Ordinal);
        using (var json = JsonDocument.Parse((await s.RunAsync(Exit.Ok, "plan", "-o", "json")).Output))
        {
            Assert.All(json.RootElement.GetProperty("changes").EnumerateArray(), c => Assert.Equal("create", c.GetProperty("action").GetString()));
        }

        var apply = await s.RunAsync(Exit.Ok, "apply", "--ssh-public-key", "key.pub", "--yes");
        Assert.Contains("A fresh plan is empty: AWS matches the topology.", AwsStacks.Flat(apply.Text), StringComparison.Ordinal);

        var built = await s.RemainsAsync();
        var running = built.Where(r => r is { Kind: "instance", State: "running" }).ToList();
        Assert.Equal(["ap-northeast-1", "ap-southeast-1"], running.Select(r => r.Region).Order(StringComparer.Ordinal));
        foreach (var kind in (string[])["vpc", "subnet", "internet-gateway", "route-table", "security-group", "key-pair"])
        {
            Assert.True(built.Count(r => r.Kind == kind) == 2, $"{kind}: expected one in each region\n{AwsStacks.Describe(built)}");
        }

        Assert.Single(built, r => r.Kind == "elastic-ip" && r.Region == "ap-northeast-1");
        Assert.Contains(built, r => r is { Kind: "peering", State: "active" });
        Assert.DoesNotContain(built, r => r.Kind == "lock");

        var replan = await s.RunAsync(Exit.Ok, "plan");
        Assert.Contains("Plan: 0 to add, 0 to change, 0 to destroy.", replan.Output, StringComparison.Ordinal);
        Assert.Contains("0 mutating calls", replan.Error, StringComparison.Ordinal);
        using (var json = JsonDocument.Parse((await s.RunAsync(Exit.Ok, "plan", "-o", "json")).Output))
        {
            Assert.Equal((0, 0, 0), AwsStacks.Totals(json.RootElement));
        }

        var status = await s.RunAsync(Exit.Ok, "status");
        Assert.All(running, r => Assert.Contains(r.Id, status.Output, StringComparison.Ordinal));
        Assert.Contains("Cost while running: $0.0500/hour", AwsStacks.Flat(status.Text), StringComparison.Ordinal);
        using (var json = JsonDocument.Parse((await s.RunAsync(Exit.Ok, "status", "-o", "json")).Output))
        {
            Assert.Equal(s.Stack, json.RootElement.GetProperty("stack").GetString());
            Assert.True(json.RootElement.GetProperty("resources").GetArrayLength() > 0);
        }

        // The hosts cannot be reached (access.ssh: none, no instanceProfile): doctor reaches the hosts only when
        // AWS's resources are right, so this message means its environment link passed; a topology problem is exit 2.
        var doctor = await s.RunAsync(Exit.BadInput, "doctor");
        Assert.Contains("cannot reach host", AwsStacks.Flat(doctor.Error), StringComparison.Ordinal);
        var verify = await s.RunAsync(Exit.BadInput, "verify", "--rounds", "1");
        Assert.Contains("SSH is closed (access.ssh: none)", AwsStacks.Flat(verify.Error), StringComparison.Ordinal);
        var check = await s.RunAsync(Exit.CheckFailed, "status", "--check");
        Assert.Contains("NOT RUN", check.Text, StringComparison.Ordinal);

        var refused = await s.RunAsync(Exit.BadInput, "destroy");
        Assert.Contains("stdin is not a terminal; nothing was changed", AwsStacks.Flat(refused.Error), StringComparison.Ordinal);
        var cancelled = await s.Egress.OnTerminalAsync("no\n", Exit.Cancelled, ["destroy", .. s.Args()]);
        Assert.Contains("nothing was changed", cancelled.Output, StringComparison.Ordinal);
        Assert.Equal(built, await s.RemainsAsync());

        var destroy = await s.RunAsync(Exit.Ok, "destroy", "--yes");
        Assert.Contains($"Nothing tagged egress:stack={s.Stack} remains", AwsStacks.Flat(destroy.Text), StringComparison.Ordinal);
        var left = await s.RemainsAsync();
        Assert.True(left.Count == 0, $"left after destroy:\n{AwsStacks.Describe(left)}");

        var fresh = await s.RunAsync(Exit.Ok, "plan");
        Assert.Contains(" to add, 0 to change, 0 to destroy.", fresh.Output, StringComparison.Ordinal);
    }

}

public sealed class AwsConfirmationTests
{
    [EmulatorFact]
    public async Task Apply_WithoutYesOnNonTerminalOrAnsweredNo_Exit2Or130AndNothingChanged()
    {
        await using var s = await AwsStacks.StackAsync(ShippedTier.Publish, "seed");
        var refused = await s.RunAsync(Exit.BadInput, "apply");
        Assert.Contains(" to add, 0 to change, 0 to destroy.", refused.Text, StringComparison.Ordinal);
        Assert.Contains("apply asks for confirmation and stdin is not a terminal; nothing was changed. Pass --yes", AwsStacks.Flat(refused.Error), StringComparison.Ordinal);
        Assert.Empty(await s.RemainsAsync()); // nothing built, and the lock it took is released

        var cancelled = await s.Egress.OnTerminalAsync("no\n", Exit.Cancelled, ["apply", .. s.Args()]);
        Assert.Contains("Type 'yes' to confirm", cancelled.Output, StringComparison.Ordinal);
        Assert.Contains("Apply cancelled; nothing was changed.", cancelled.Output, StringComparison.Ordinal);
        Assert.Empty(await s.RemainsAsync());
    }

}

public sealed class AwsLockTests
{
    [EmulatorFact]
    public async Task Apply_WhileTheLockIsHeld_Exit1NamingTheHolderAndForceUnlockTakesIt()
    {
        await using var s = await AwsStacks.StackAsync(ShippedTier.Publish, "failover");
        // Held by a live process on this host (a sleep this test starts, and kills before --force-unlock may work), so
        // egress must not call it stale, and --force-unlock must refuse it (issue 24).
        using var sleeper = new Sleeper(); // killed before the stack's cleanup runs, whatever happens
        var run = sleeper.Process;
        var started = DateTimeOffset.UtcNow;
        var holder = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["command"] = "apply",
            ["user"] = "shipped-tier",
            ["host"] = Environment.MachineName,
            ["pid"] = run.Id,
            ["started"] = started.ToString("O", CultureInfo.InvariantCulture),
        });
        await s.Account.TakeLockAsync("ap-southeast-1", s.Stack, holder);
        var who = $"stack {s.Stack} is locked by 'egress apply' run by shipped-tier on {Environment.MachineName} (pid {run.Id})";

        var apply = await s.RunAsync(Exit.CheckFailed, "apply", "--yes");
        var destroy = await s.RunAsync(Exit.CheckFailed, "destroy", "--yes");

        foreach (var refused in (Invocation[])[apply, destroy])
        {
            Assert.Contains(who, AwsStacks.Flat(refused.Error), StringComparison.Ordinal);
            Assert.Contains($"(SSM parameter /egress/lock/{s.Stack})", AwsStacks.Flat(refused.Error), StringComparison.Ordinal);
            Assert.Contains("wait until that run ends and try again; if you know it was killed, run again with --force-unlock", AwsStacks.Flat(refused.Error), StringComparison.Ordinal);
            Assert.DoesNotContain("looks stale", refused.Error, StringComparison.Ordinal);
        }

        var held = Assert.Single(await s.RemainsAsync()); // nothing built; the lock as it was
        Assert.Equal(("ap-southeast-1", "lock", holder), (held.Region, held.Kind, held.State));

        var alive = await s.RunAsync(Exit.BadInput, "apply", "--yes", "--force-unlock");
        Assert.Contains(who, AwsStacks.Flat(alive.Error), StringComparison.Ordinal);
        Assert.Contains($"process {run.Id} still runs on this host", AwsStacks.Flat(alive.Error), StringComparison.Ordinal);
        var stillHeld = Assert.Single(await s.RemainsAsync()); // --force-unlock removed nothing
        Assert.Equal(("ap-southeast-1", "lock", holder), (stillHeld.Region, stillHeld.Kind, stillHeld.State));

        run.Kill();
        await run.WaitForExitAsync();
        var forced = await s.RunAsync(Exit.Ok, "apply", "--yes", "--force-unlock");
        Assert.Contains($"--force-unlock: removed the lock /egress/lock/{s.Stack} in ap-southeast-1 held by 'egress apply' run by shipped-tier", AwsStacks.Flat(forced.Text), StringComparison.Ordinal);
        var built = await s.RemainsAsync();
        Assert.Equal(3, built.Count(r => r is { Kind: "instance", State: "running" }));
        Assert.DoesNotContain(built, r => r.Kind == "lock");

        await s.RunAsync(Exit.Ok, "destroy", "--yes");
        var left = await s.RemainsAsync();
        Assert.True(left.Count == 0, $"left after destroy:\n{AwsStacks.Describe(left)}");
    }

}

/// <summary>A `sleep 600` that stands for a run still holding the lock on this host; killed on dispose.</summary>
internal sealed class Sleeper : IDisposable
{
    public System.Diagnostics.Process Process { get; } =
        System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill();
                Process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        Process.Dispose();
    }
}

public sealed class AwsToolLifecycleTests
{
    [EmulatorFact]
    public async Task Lifecycle_ThreeRegionThroughTool_JsonPlanApplyReplanDestroyLeavesNothing()
    {
        await using var s = await AwsStacks.StackAsync(ShippedTier.Tool, "three-region");
        using var plan = JsonDocument.Parse((await s.RunAsync(Exit.Ok, "plan", "-o", "json")).Output);
        var (add, _, _) = AwsStacks.Totals(plan.RootElement);
        Assert.True(add > 0);
        Assert.Equal(["ap-northeast-1", "ap-southeast-1", "ap-southeast-2"],
            plan.RootElement.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("region").GetString()!).Distinct().Order(StringComparer.Ordinal));

        using (var apply = JsonDocument.Parse((await s.RunAsync(Exit.Ok, "apply", "--yes", "-o", "json")).Output))
        {
            Assert.Equal((add, 0, 0), AwsStacks.Totals(apply.RootElement.GetProperty("applied")));
            Assert.Equal((0, 0, 0), AwsStacks.Totals(apply.RootElement.GetProperty("remaining")));
        }

        var built = await s.RemainsAsync();
        Assert.Equal(["ap-northeast-1", "ap-southeast-1", "ap-southeast-2"],
            built.Where(r => r is { Kind: "instance", State: "running" }).Select(r => r.Region).Order(StringComparer.Ordinal));

        using (var replan = JsonDocument.Parse((await s.RunAsync(Exit.Ok, "plan", "-o", "json")).Output))
        {
            Assert.Equal((0, 0, 0), AwsStacks.Totals(replan.RootElement));
        }

        await s.RunAsync(Exit.Ok, "status");
        using (var destroy = JsonDocument.Parse((await s.RunAsync(Exit.Ok, "destroy", "--yes", "-o", "json")).Output))
        {
            Assert.Equal(0, destroy.RootElement.GetProperty("remaining").GetArrayLength());
            Assert.True(destroy.RootElement.GetProperty("destroyed").GetProperty("toDestroy").GetInt32() >= add);
        }

        var left = await s.RemainsAsync();
        Assert.True(left.Count == 0, $"left after destroy:\n{AwsStacks.Describe(left)}");
    }

}

public sealed class AwsDoctorTests
{
    /// <summary>Doctor on a stack that was never applied: every instance is missing, which is a finding of the
    /// environment link (docs/doctor.md: exit 1 findings), not a reason to stop.</summary>
    [EmulatorFact]
    public async Task Doctor_StackNotApplied_Exit1WithEnvironmentFindings()
    {
        await using var s = await AwsStacks.StackAsync(ShippedTier.Publish, "seed");
        var doctor = await s.RunAsync(Exit.CheckFailed, "doctor");
        Assert.Contains("instance.running", doctor.Output, StringComparison.Ordinal);
        using var json = JsonDocument.Parse((await s.RunAsync(Exit.CheckFailed, "doctor", "-o", "json")).Output);
        Assert.False(json.RootElement.GetProperty("healthy").GetBoolean());
        Assert.Equal("environment", json.RootElement.GetProperty("stoppedAt").GetString());
    }

}

public sealed class AwsInputTests
{
    public static TheoryData<string> Artifacts => ShippedTier.Artifacts;

    /// <summary>No emulator needed: an endpoint nothing listens on, a malformed endpoint, an unreadable or wrong key.</summary>
    [Theory]
    [MemberData(nameof(Artifacts))]
    public async Task AwsVerbs_BadEndpointOrKey_Exit1Or2NamingTheCause(string artifact)
    {
        var directory = ShippedTier.NewDirectory("aws-input");
        var egress = (await ShippedTier.ArtifactAsync(artifact)).In(directory, Emulator.AwsEnvironment(directory));
        await egress.RunAsync(Exit.Ok, "init", "-f", "egress.yaml");
        await File.WriteAllTextAsync(Path.Combine(directory, "private.pub"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var closed = await egress.RunAsync(Exit.CheckFailed, "plan", "--endpoint-url", $"http://127.0.0.1:{port}");
        var malformed = await egress.RunAsync(Exit.BadInput, "status", "--endpoint-url", "notaurl");
        var missing = await egress.RunAsync(Exit.BadInput, "apply", "--endpoint-url", $"http://127.0.0.1:{port}", "--ssh-public-key", "missing.pub", "--yes");
        var wrong = await egress.RunAsync(Exit.BadInput, "plan", "--endpoint-url", $"http://127.0.0.1:{port}", "--ssh-public-key", "private.pub");
        var destroy = await egress.RunAsync(Exit.CheckFailed, "destroy", "--endpoint-url", $"http://127.0.0.1:{port}", "--yes");

        Assert.Contains($"cannot connect to http://127.0.0.1:{port}/", AwsStacks.Flat(closed.Error), StringComparison.Ordinal);
        Assert.Contains("is not an http(s) URL", malformed.Error, StringComparison.Ordinal);
        Assert.Contains("--ssh-public-key missing.pub: no such file", AwsStacks.Flat(missing.Error), StringComparison.Ordinal);
        Assert.Contains("not an OpenSSH public key", AwsStacks.Flat(wrong.Error), StringComparison.Ordinal);
        Assert.Contains("cannot connect", destroy.Error, StringComparison.Ordinal);
    }
}
