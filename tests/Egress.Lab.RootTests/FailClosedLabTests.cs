using System.Diagnostics;
using System.Text.RegularExpressions;
using Egress.Processes;
using Egress.Tests.Shared;

namespace Egress.Lab.RootTests;

/// <summary>Issue 24, item 1, end to end in the seed lab (fail-closed, its watcher supervised by the lab): with the client's
/// tunnel deleted, or with sockets that carry the management mark, nothing leaves from the client's own (Singapore)
/// address: the Singapore IGW's NAT counter for the client does not move and the IP echo never sees that address.</summary>
[Collection(FailoverTiming.Name)]
public sealed partial class FailClosedLabTests(SeedLabFixture fixture) : IClassFixture<SeedLabFixture>
{
    [RootFact]
    public async Task DeleteTheClientsTunnel_NothingLeavesFromSingaporeAndTheWatcherRepairsIt()
    {
        var lab = fixture.Lab;
        var gateway = lab.PublicAddressOf("tokyo-nat");
        var own = lab.PublicAddressOf("sg-client");
        Assert.Equal(gateway, await WaitForEchoAsync(lab, TimeSpan.FromSeconds(10)));
        var before = (await LabStatusCollector.CountersAsync(lab)).IgwNatOut["sg-client"];

        await lab.RunnerFor("sg-client").RunOkAsync("ip", "link", "del", "eg1");
        var seen = new List<string?>();
        for (var i = 0; i < 5; i++)
        {
            seen.Add(await EchoAsync(lab));
        }

        var after = await WaitForEchoAsync(lab, TimeSpan.FromSeconds(10));
        // Egress works again as soon as the halves are back; the watcher writes "repaired" only after it has looked once
        // more, so the line can follow the first good echo by a few milliseconds.
        var log = await WaitForLogAsync(lab.State.WatcherLog("sg-client"), "repaired", TimeSpan.FromSeconds(10));

        Assert.DoesNotContain(own, seen);
        Assert.Equal(before, (await LabStatusCollector.CountersAsync(lab)).IgwNatOut["sg-client"]);
        Assert.True(after == gateway, $"after the repair egress leaves from {gateway} again, got {after ?? "nothing"}\n{log}");
        Assert.Contains("repaired", log, StringComparison.Ordinal);
        var check = await LabStatusCollector.CheckAsync(lab, "sg-client");
        Assert.True(check.Passed, check.Problem + string.Join("; ", check.Failed.Select(f => $"{f.Name}: {f.Detail}")));
    }

    [RootFact]
    public async Task MarkedSocketsOnTheClient_DoNotLeaveFromSingapore()
    {
        var lab = fixture.Lab;
        Assert.Equal(lab.PublicAddressOf("tokyo-nat"), await WaitForEchoAsync(lab, TimeSpan.FromSeconds(10)));
        var before = (await LabStatusCollector.CountersAsync(lab)).IgwNatOut["sg-client"];
        var client = lab.RunnerFor("sg-client");

        var ping = await client.RunAsync(CommandSpec.Of("ping", "-n", "-m", "1", "-c", "2", "-W", "1", LabTestSupport.InternetAddress));
        var tcp = await client.RunAsync(CommandSpec.Of("python3", "-c",
            "import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 1)\ns.settimeout(3)\ns.connect(('ipinfo.io', 443))\nprint('connected')\n"));
        await client.RunAsync(CommandSpec.Of("python3", "-c",
            $"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 1)\ns.sendto(b'x', ('{LabTestSupport.InternetAddress}', 53))\n"));

        Assert.False(ping.Succeeded, $"ping -m 1 left by the uplink: {ping.StandardOutput}");
        Assert.False(tcp.Succeeded, $"a TCP socket with SO_MARK 1 connected to the internet: {tcp.StandardOutput}");
        Assert.Equal(before, (await LabStatusCollector.CountersAsync(lab)).IgwNatOut["sg-client"]);
        Assert.Equal(lab.PublicAddressOf("tokyo-nat"), await EchoAsync(lab)); // unmarked egress still leaves via the gateway
    }

    private static async Task<string?> EchoAsync(RunningLab lab)
    {
        var result = await lab.RunnerFor("sg-client").RunAsync(new CommandSpec("curl", ["-sS", "--max-time", "1", "https://ipinfo.io/json"]));
        return result.Succeeded && IpField().Match(result.StandardOutput) is { Success: true } m ? m.Groups[1].Value : null;
    }

    private static Task<string> WaitForLogAsync(string path, string text, TimeSpan timeout) =>
        PollAsync(() => File.ReadAllTextAsync(path), log => log.Contains(text, StringComparison.Ordinal), timeout);

    private static Task<string?> WaitForEchoAsync(RunningLab lab, TimeSpan timeout) =>
        PollAsync(() => EchoAsync(lab), ip => ip is not null, timeout);

    /// <summary>Reads every 100 ms until <paramref name="done"/> holds or the timeout passes; returns the last read.</summary>
    private static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var value = await read();
        while (!done(value) && clock.Elapsed < timeout)
        {
            await Task.Delay(100);
            value = await read();
        }

        return value;
    }

    [GeneratedRegex("\"ip\":\\s*\"([0-9.]+)\"")]
    private static partial Regex IpField();
}
