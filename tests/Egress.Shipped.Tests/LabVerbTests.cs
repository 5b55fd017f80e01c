using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Egress.Tests.Shared;

namespace Egress.Shipped.Tests;

/// <summary>The lab verbs through the shipped artifacts, as root (the lab makes network namespaces of its own and
/// touches nothing else). The failover example through ./egress: up, status, exec, verify, doctor --lab, fail and heal
/// a gateway, down; the seed through the .NET tool: up, exec, status, down. Every lab is taken down in finally.</summary>
public sealed class LabVerbTests
{
    /// <summary>"s" (shipped) and 6 hex digits: unique per run, like the lab root tests' "t" ids.</summary>
    internal static string NewLabId() => "s" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    internal static async Task<List<string>> NamespacesAsync(string id)
    {
        var result = await ShippedTier.RunProcessAsync("ip", ["netns", "list"], "/", new Dictionary<string, string?>(), null, TimeSpan.FromSeconds(30));
        Assert.Equal(0, result.ExitCode);
        return [.. result.Output.Split('\n').Where(l => l.StartsWith($"egl-{id}-", StringComparison.Ordinal))];
    }

    /// <summary>`lab status -o json` until the watcher says the client egresses through <paramref name="gateway"/>.</summary>
    private static async Task<JsonDocument> WaitForActiveAsync(EgressCommand egress, string id, string gateway, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = await egress.RunAsync(Exit.Ok, "lab", "status", "--id", id, "-o", "json");
            var json = JsonDocument.Parse(status.Output);
            var active = json.RootElement.GetProperty("failover")[0].GetProperty("activeGateway").GetString();
            if (active == gateway)
            {
                return json;
            }

            json.Dispose();
            Assert.True(clock.Elapsed < within, $"sg-client still egresses via {active}, not {gateway}, {within.TotalSeconds} s on:\n{status.Output}");
            await Task.Delay(500);
        }
    }

    /// <summary>The IP echo from sg-client (`lab exec ... curl`, about a second; `lab status` runs every host's check and
    /// takes several) until it answers <paramref name="ip"/>. curl's own exit passes through `lab exec`: 0, or while
    /// egress moves a timeout (28) or a refused or unreachable connection (7).</summary>
    private static async Task WaitForEgressIpAsync(EgressCommand egress, string id, string ip, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var echo = await egress.RunAsync([Exit.Ok, 7, 28], "lab", "exec", "--id", id, "sg-client", "--", "curl", "-sS", "--max-time", "3", "https://ipinfo.io/json");
            if (echo.ExitCode == 0 && echo.Output.Contains($"\"ip\":\"{ip}\"", StringComparison.Ordinal))
            {
                return;
            }

            Assert.True(clock.Elapsed < within, $"sg-client's egress IP is still not {ip}, {within.TotalSeconds} s on:\n{echo.Describe()}");
            await Task.Delay(300);
        }
    }

    [RootFact]
    public async Task LabVerbs_FailoverThroughPublish_UpStatusExecVerifyFailHealDown()
    {
        var id = NewLabId();
        var egress = (await ShippedTier.ArtifactAsync(ShippedTier.Publish)).In(ShippedTier.NewDirectory("lab-failover"));
        var down = false;
        try
        {
            await egress.RunAsync(Exit.Ok, "init", "--example", "failover", "-f", "failover.yaml");

            var up = await egress.WithTimeout(TimeSpan.FromMinutes(5)).RunAsync(Exit.Ok, "lab", "up", "-f", "failover.yaml", "--id", id);
            Assert.Equal(id, up.Output.Trim());
            Assert.Contains($"lab {id} is up", up.Error, StringComparison.Ordinal);

            using var healthy = await WaitForActiveAsync(egress, id, "tokyo-nat", TimeSpan.FromSeconds(20));
            var status = await egress.RunAsync(Exit.Ok, "lab", "status", "--id", id);
            Assert.Contains("egress of sg-client: via tokyo-nat;", status.Output, StringComparison.Ordinal);
            Assert.True(healthy.RootElement.GetProperty("healthy").GetBoolean());
            var addresses = healthy.RootElement.GetProperty("publicAddresses");
            var primary = addresses.GetProperty("tokyo-nat").GetString()!;
            var standby = addresses.GetProperty("tokyo-nat-c").GetString()!;

            var echo = await egress.RunAsync(Exit.Ok, "lab", "exec", "--id", id, "sg-client", "--", "curl", "-sS", "--max-time", "10", "https://ipinfo.io/json");
            Assert.Contains($"\"ip\":\"{primary}\"", echo.Output, StringComparison.Ordinal);
            Assert.Contains("\"city\":\"Tokyo\"", echo.Output, StringComparison.Ordinal);
            await egress.RunAsync(7, "lab", "exec", "--id", id, "tokyo-nat", "--", "sh", "-c", "exit 7"); // passed through, as documented
            await egress.RunAsync(Exit.BadInput, "lab", "exec", "--id", id, "no-such-host", "--", "true");

            await egress.WithTimeout(TimeSpan.FromMinutes(4)).RunAsync(Exit.Ok, "lab", "verify", "--id", id, "--rounds", "1");
            var doctor = await egress.RunAsync(Exit.Ok, "doctor", "--lab", id);
            Assert.Contains("healthy: every link of the path holds", doctor.Output, StringComparison.Ordinal);

            var fail = await egress.RunAsync(Exit.Ok, "lab", "fail", "tokyo-nat", "--id", id);
            Assert.Contains("tokyo-nat is cut off", fail.Text, StringComparison.Ordinal);
            await WaitForEgressIpAsync(egress, id, standby, TimeSpan.FromSeconds(30));
            var cut = await egress.RunAsync(Exit.CheckFailed, "lab", "status", "--id", id); // a gateway cut off is unhealthy
            Assert.Contains("egress of sg-client: via tokyo-nat-c;", cut.Output, StringComparison.Ordinal);
            var finding = await egress.RunAsync(Exit.CheckFailed, "doctor", "--lab", id);
            Assert.Contains("FAIL instance.running [tokyo-nat]", finding.Output, StringComparison.Ordinal);

            var heal = await egress.RunAsync(Exit.Ok, "lab", "heal", "tokyo-nat", "--id", id);
            Assert.Contains("tokyo-nat is back", heal.Text, StringComparison.Ordinal);
            await WaitForEgressIpAsync(egress, id, primary, TimeSpan.FromSeconds(40)); // upAfter 1 s + hold-down 5 s
            var back = await egress.RunAsync(Exit.Ok, "lab", "status", "--id", id);
            Assert.Contains("egress of sg-client: via tokyo-nat;", back.Output, StringComparison.Ordinal);

            var removed = await egress.RunAsync(Exit.Ok, "lab", "down", "--id", id);
            down = true;
            Assert.Contains($"lab {id}: removed", removed.Text, StringComparison.Ordinal);
            Assert.Empty(await NamespacesAsync(id));
            Assert.False(Directory.Exists($"/run/egress-lab/{id}"));
            var again = await egress.RunAsync(Exit.Ok, "lab", "down", "--id", id);
            Assert.Contains("nothing to remove", again.Text, StringComparison.Ordinal);
            await egress.RunAsync(Exit.BadInput, "lab", "status", "--id", id);
        }
        finally
        {
            if (!down)
            {
                await egress.RunAsync([Exit.Ok, Exit.CheckFailed, Exit.BadInput], "lab", "down", "--id", id);
            }
        }

        Assert.Empty(await NamespacesAsync(id));
    }
}

/// <summary>The lab through the .NET tool: its services and watchers are started by re-launching the tool itself.</summary>
public sealed class LabToolTests
{
    [RootFact]
    public async Task LabVerbs_EmbeddedSeedThroughTool_UpExecStatusDown()
    {
        var id = LabVerbTests.NewLabId();
        var egress = (await ShippedTier.ArtifactAsync(ShippedTier.Tool)).In(ShippedTier.NewDirectory("lab-seed"));
        try
        {
            var up = await egress.WithTimeout(TimeSpan.FromMinutes(5)).RunAsync(Exit.Ok, "lab", "up", "--id", id);
            Assert.Equal(id, up.Output.Trim());
            Assert.Contains("embedded seed topology", up.Error, StringComparison.Ordinal);

            var echo = await egress.RunAsync(Exit.Ok, "lab", "exec", "--id", id, "sg-client", "--", "curl", "-sS", "--max-time", "10", "https://ipinfo.io/json");
            Assert.Contains("\"city\":\"Tokyo\"", echo.Output, StringComparison.Ordinal);
            using var status = JsonDocument.Parse((await egress.RunAsync(Exit.Ok, "lab", "status", "--id", id, "-o", "json")).Output);
            Assert.Equal("egress-seed", status.RootElement.GetProperty("stack").GetString());
        }
        finally
        {
            await egress.RunAsync([Exit.Ok], "lab", "down", "--id", id);
        }

        Assert.Empty(await LabVerbTests.NamespacesAsync(id));
    }
}
