using System.Diagnostics;
using System.Text.RegularExpressions;
using Egress.Processes;
using Egress.Lab.Vm;
using Egress.Tests.Shared;
using Xunit.Abstractions;

namespace Egress.Lab.RootTests;

/// <summary>`--instances vm`: the seed's hosts boot as QEMU VMs from the project's Debian image, cloud-init takes the user
/// data `egress apply` sends from the lab's IMDSv2, and the verify suite passes over SSH (the AWS code path) — at
/// first boot with the gateway's Elastic IP associated only after cloud-init finished, and again after both hosts
/// reboot. The failover example fails over between gateway VMs. `lab down` (and Ctrl-C during `lab up`) leaves no VM, tap,
/// namespace, lock or process.</summary>
[Collection(VmLabCollection.Name)]
[Trait("Category", "VmLab")]
public sealed partial class VmLabTests(ITestOutputHelper output)
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "egress.dll");

    private static string Dotnet => LabTestSupport.ServicesCommand("x").Program;

    /// <summary>First use builds the image (minutes); software emulation boots slowly on a loaded 2-core machine.</summary>
    private static readonly TimeSpan UpTimeout = TimeSpan.FromMinutes(45);

    public static void RequireVmPrerequisites()
    {
        LabTestSupport.RequirePrerequisites();
        Prerequisites.RequireProgram("qemu-system-x86_64", "qemu-system-x86");
        Prerequisites.RequireProgram("qemu-img", "qemu-utils");
        Prerequisites.RequireProgram("dnsmasq", "dnsmasq-base");
        Prerequisites.RequireProgram("mmdebstrap", "mmdebstrap");
        Prerequisites.RequireProgram("ssh-keygen", "openssh-client");
    }

    private async Task<CommandResult> EgressAsync(TimeSpan timeout, params string[] args)
    {
        var clock = Stopwatch.StartNew();
        var result = await ProcessRunner.Instance.RunAsync(new CommandSpec(Dotnet, [Dll, .. args]) { Timeout = timeout });
        output.WriteLine($"$ egress {string.Join(' ', args)}  -> exit {result.ExitCode} in {clock.Elapsed.TotalSeconds:0} s\n{result.StandardError}\n{result.StandardOutput}");
        return result;
    }

    /// <summary>The whole first-boot journey and a reboot of both hosts in one lab (a VM lab costs minutes to boot): the
    /// seed's hosts come up from the user data alone with the gateway's Elastic IP late; the topology's round trips are
    /// emulated inside the VMs (netem by destination); verify passes over SSH, latency budget judged; both hosts reboot
    /// gracefully and verify passes again with no step of ours; Singapore's VPC resolver, slowed by `--resolver-delay`,
    /// answers the VM after the delay; `lab down` leaves nothing.</summary>
    [VmLabFact]
    public async Task Seed_BootsFromUserData_GatewayEipLate_VerifyPassesOverSsh_AgainAfterBothReboot_DownLeavesNothing()
    {
        RequireVmPrerequisites();
        var id = LabNames.RandomId('t');
        var files = new VmFiles(new LabStateDirectory(id));
        try
        {
            var launch = Stopwatch.StartNew();
            await UpAndAssertFirstBootAsync(id, files, "--resolver-delay", $"ap-southeast-1={ResolverDelayMs}");

            // seed: Singapore-Tokyo 70 ms. Each VM delays half toward the other VPC: the client's ping of the gateway's
            // tunnel address (IP-in-IP to 10.1.1.10 and back to 10.0.1.10) takes the whole round trip, plus software
            // emulation's own time. (The gateway's security group admits only IP-in-IP from the client, not ICMP.)
            var ping = await EgressAsync(TimeSpan.FromMinutes(2), "lab", "exec", "--id", id, "sg-client", "--", "ping", "-n", "-c", "5", "-i", "0.3", "192.168.250.1");
            Assert.True(ping.Succeeded, ping.StandardOutput + ping.StandardError);
            var min = double.Parse(PingMin().Match(ping.StandardOutput).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(min, 69, 200);

            var verify = await EgressAsync(TimeSpan.FromMinutes(15), "lab", "verify", "--id", id, "--rounds", "1");
            Assert.True(verify.Succeeded, verify.StandardOutput + verify.StandardError);
            Assert.Contains("latency emulation: on (tc netem inside each VM", verify.StandardError, StringComparison.Ordinal);
            output.WriteLine($"launch to verify passing: {launch.Elapsed.TotalSeconds:0} s");

            // Singapore's VPC resolver answers after the delay (--resolver-delay): asked straight from the client VM for a
            // name never asked before, it answers the Singapore edge no sooner. (The client's internet names go through the
            // gateway's forwarder to Tokyo's resolver, so verify above did not wait for it.)
            var resolver = await EgressAsync(TimeSpan.FromMinutes(2), "lab", "exec", "--id", id, "sg-client", "--", "python3", "-c", DnsQueries.Script,
                $"vm{Environment.TickCount64}.cdn.lab.example", "10.0.0.2", "udp", "1");
            Assert.True(resolver.Succeeded, resolver.StandardOutput + resolver.StandardError);
            var answer = resolver.StandardOutput.Trim().Split(' ');
            Assert.Equal("192.0.2.241", answer[1]);
            Assert.True(int.Parse(answer[0], System.Globalization.CultureInfo.InvariantCulture) >= ResolverDelayMs - 20, resolver.StandardOutput);

            // Both hosts reboot gracefully; the unit brings the tunnel and NAT back with no step of ours.
            var clock = Stopwatch.StartNew();
            foreach (var host in new[] { "sg-client", "tokyo-nat" })
            {
                Assert.True((await EgressAsync(TimeSpan.FromMinutes(1), "lab", "reboot", "--id", id, host)).Succeeded);
            }

            var back = new Dictionary<string, double>();
            while (back.Count < 2 && clock.Elapsed < TimeSpan.FromMinutes(20))
            {
                foreach (var host in new[] { "sg-client", "tokyo-nat" }.Where(h => !back.ContainsKey(h)))
                {
                    if (VmLab.BootsFinished(VmLab.ReadConsole(files, host)) >= 2)
                    {
                        back[host] = clock.Elapsed.TotalSeconds;
                    }
                }

                await Task.Delay(1000);
            }

            Assert.True(back.Count == 2, $"not every host finished its reboot within 20 min: {string.Join(", ", back.Keys)}; gateway console tail:\n{string.Join('\n', VmLab.ReadConsole(files, "tokyo-nat").Split('\n').TakeLast(30))}");
            var again = await EgressAsync(TimeSpan.FromMinutes(15), "lab", "verify", "--id", id, "--rounds", "1");
            Assert.True(again.Succeeded, again.StandardOutput + again.StandardError);
            output.WriteLine($"reboot to cloud-init finished: {string.Join(", ", back.Select(b => $"{b.Key} {b.Value:0} s"))}; to verify passing: {clock.Elapsed.TotalSeconds:0} s");
        }
        finally
        {
            var down = await EgressAsync(TimeSpan.FromMinutes(2), "lab", "down", "--id", id);
            Assert.True(down.Succeeded, down.StandardError);
        }

        await AssertGoneAsync(id);
    }

    private const int ResolverDelayMs = 300;

    [GeneratedRegex(@"rtt min/avg/max/mdev = ([0-9.]+)/")]
    private static partial Regex PingMin();

    [GeneratedRegex(@"^\[([0-9.]+)\] \d+ bytes from", RegexOptions.Multiline)]
    private static partial Regex PingReply();

    /// <summary>The address the IP echo sees for the client's request (the lab services' client header).</summary>
    private async Task<string> ClientEgressAsync(string id)
    {
        var answer = await EgressAsync(TimeSpan.FromMinutes(2), "lab", "exec", "--id", id, "sg-client", "--", "curl", "-s", "-m", "60", "-o", "/dev/null",
            "-w", $"%header{{{Egress.Lab.Services.LabServices.ClientAddressHeader}}}", "https://ipinfo.io/json");
        return answer.StandardOutput.Trim();
    }

    /// <summary>examples/failover.yaml with every host a VM: the client's watcher runs under the user data's systemd unit.
    /// The primary gateway's VM is powered off hard while the client pings the internet every 100 ms: egress moves to
    /// the standby's Elastic IP; the outage is the longest gap between replies, by the client's clock. Then the standby
    /// goes too: fail-closed, nothing answers and nothing leaves through Singapore's IGW. Then `lab heal` boots the
    /// primary from its disk and egress leaves from it again.</summary>
    [VmLabFact]
    public async Task Failover_PrimaryVmPoweredOff_EgressMovesToTheStandby_NoGatewayFailsClosed_HealedPrimaryTakesBack()
    {
        RequireVmPrerequisites();
        var id = LabNames.RandomId('t');
        var topology = Path.Combine(Path.GetTempPath(), $"egress-{id}-failover.yaml");
        await File.WriteAllTextAsync(topology, Egress.Core.Topology.Examples.Text(Egress.Core.Topology.Examples.Failover));
        try
        {
            var up = await EgressAsync(UpTimeout, "lab", "up", "--instances", "vm", "--id", id, "-f", topology);
            Assert.True(up.Succeeded, up.StandardError);
            var lab = RunningLab.Open(id);
            var (primary, standby) = (lab.PublicAddressOf("tokyo-nat")!.ToString(), lab.PublicAddressOf("tokyo-nat-c")!.ToString());

            // Egress leaves from the primary. (A request is a whole curl process with a cold TLS handshake: seconds under
            // software emulation, too coarse a probe for the outage.)
            Assert.Equal(primary, await ClientEgressAsync(id));

            // The outage, by the client's clock: a ping every 100 ms through the tunnel to the IP echo's address, its
            // replies time-stamped (-D); the primary is powered off while it runs. Outage = the longest gap between replies.
            var echo = lab.Plan.Services.First(v => v.Name == "ipinfo.io").Address.ToString();
            var pinger = EgressAsync(TimeSpan.FromMinutes(5), "lab", "exec", "--id", id, "sg-client", "--", "ping", "-D", "-n", "-i", "0.1", "-W", "1", "-w", "75", echo);
            await Task.Delay(TimeSpan.FromSeconds(35));
            var fail = await EgressAsync(TimeSpan.FromMinutes(1), "lab", "fail", "--id", id, "tokyo-nat");
            Assert.True(fail.Succeeded, fail.StandardError);
            var replies = PingReply().Matches((await pinger).StandardOutput).Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.True(replies.Count > 20, "too few ping replies: " + replies.Count);
            var gaps = replies.Zip(replies.Skip(1), (a, b) => (At: a, Gap: b - a)).ToList();
            var outage = gaps.MaxBy(g => g.Gap);
            Assert.True(replies[^1] > outage.At + outage.Gap, "no reply after the outage: egress never resumed");
            output.WriteLine($"VM failover outage (longest gap between ping replies, every 100 ms): {outage.Gap * 1000:0} ms; {replies.Count} replies");
            Assert.InRange(outage.Gap, 0.15, 20);

            // Egress now leaves from the standby's Elastic IP (never Singapore's own address).
            Assert.Equal(standby, await ClientEgressAsync(id));

            // No gateway left: fail-closed. Nothing answers, and nothing leaves through Singapore's own IGW.
            var before = (await LabStatusCollector.CountersAsync(lab)).IgwNatOut["sg-client"];
            Assert.True((await EgressAsync(TimeSpan.FromMinutes(1), "lab", "fail", "--id", id, "tokyo-nat-c")).Succeeded);
            await Task.Delay(TimeSpan.FromSeconds(10));
            // DNS fails closed too (the stub refuses internet names), so the request names the echo's address itself: the
            // packets must find no way out, not just the name no answer.
            var names = await EgressAsync(TimeSpan.FromMinutes(2), "lab", "exec", "--id", id, "sg-client", "--", "curl", "-s", "-m", "30", "https://ipinfo.io/json");
            Assert.Equal(6, names.ExitCode); // curl: could not resolve host
            var closed = await EgressAsync(TimeSpan.FromMinutes(2), "lab", "exec", "--id", id, "sg-client", "--", "curl", "-s", "-m", "20", "--resolve", $"ipinfo.io:443:{echo}", "https://ipinfo.io/json");
            Assert.False(closed.Succeeded, "a request left with no gateway up: " + closed.StandardOutput);
            Assert.NotEqual(6, closed.ExitCode);
            Assert.Equal(before, (await LabStatusCollector.CountersAsync(lab)).IgwNatOut["sg-client"]);

            // `lab heal`: the primary boots again from its disk after the hard power-off (cloud-init's second boot, the
            // unit brings the tunnel and NAT up) and the client's watcher moves back to it with no other step.
            var heal = await EgressAsync(TimeSpan.FromMinutes(2), "lab", "heal", "--id", id, "tokyo-nat");
            Assert.True(heal.Succeeded, heal.StandardError);
            var healed = Stopwatch.StartNew();
            var seen = await ClientEgressAsync(id);
            while (seen != primary && healed.Elapsed < TimeSpan.FromMinutes(12))
            {
                await Task.Delay(TimeSpan.FromSeconds(10));
                seen = await ClientEgressAsync(id);
            }

            output.WriteLine($"VM heal: egress from the primary again {healed.Elapsed.TotalSeconds:0} s after 'lab heal' (a boot from disk under {VmLab.Accelerator(new VmFiles(lab.State))})");
            Assert.Equal(primary, seen);
            // It was a boot: cloud-init finishes a second time. Its final stage may end after the unit has the tunnel and
            // NAT up (in one CI run egress was back 106 s after heal, before "finished"), so wait for it.
            var console = new VmFiles(lab.State);
            while (VmLab.BootsFinished(VmLab.ReadConsole(console, "tokyo-nat")) < 2 && healed.Elapsed < TimeSpan.FromMinutes(15))
            {
                await Task.Delay(TimeSpan.FromSeconds(5));
            }

            Assert.Equal(2, VmLab.BootsFinished(VmLab.ReadConsole(console, "tokyo-nat")));
        }
        finally
        {
            File.Delete(topology);
            var down = await EgressAsync(TimeSpan.FromMinutes(2), "lab", "down", "--id", id);
            Assert.True(down.Succeeded, down.StandardError);
        }

        await AssertGoneAsync(id);
    }

    /// <summary>`lab up --instances vm` with the default `--eip-delay boot`: the gateway's Elastic IP comes once its
    /// cloud-init finished, so its first boot (packages included) runs without internet however slowly this machine
    /// boots; both hosts boot once, publish their host keys, and took the user data from IMDSv2 only.</summary>
    private async Task UpAndAssertFirstBootAsync(string id, VmFiles files, params string[] options)
    {
        var up = await EgressAsync(UpTimeout, ["lab", "up", "--instances", "vm", "--id", id, .. options]);
        Assert.True(up.Succeeded, up.StandardError);
        var gatewayBoot = await File.ReadAllTextAsync(Path.Combine(files.Directory, "tokyo-nat.first-boot"));
        Assert.EndsWith("before-eip", gatewayBoot.Trim(), StringComparison.Ordinal);
        foreach (var host in new[] { "sg-client", "tokyo-nat" })
        {
            var console = VmLab.ReadConsole(files, host);
            Assert.Contains("-----BEGIN SSH HOST KEY FINGERPRINTS-----", console, StringComparison.Ordinal);
            Assert.Equal(1, VmLab.BootsFinished(console));
        }

        // IMDSv2 only: cloud-init asked for a token before anything else, and every request it made was answered.
        var requests = await File.ReadAllTextAsync(files.MetadataRequests("ap-northeast-1"));
        Assert.Contains("PUT /latest/api/token 200", requests, StringComparison.Ordinal);
        Assert.Contains("GET /latest/user-data 200", requests.Replace("/2021-03-23/", "/latest/", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain(" 401", requests, StringComparison.Ordinal);
    }

    [VmLabFact]
    public async Task Up_CtrlCWhileVmsBoot_RemovesEverythingAndExits130()
    {
        RequireVmPrerequisites();
        var id = LabNames.RandomId('t');
        var files = new VmFiles(new LabStateDirectory(id));
        var info = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])", Dotnet, Dll, "lab", "up", "--instances", "vm", "--id", id })
        {
            info.ArgumentList.Add(a);
        }

        using var up = Process.Start(info)!;
        var errors = new System.Text.StringBuilder();
        up.OutputDataReceived += (_, _) => { };
        up.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } };
        up.BeginOutputReadLine();
        up.BeginErrorReadLine();
        try
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(files.Console("tokyo-nat")) || new FileInfo(files.Console("tokyo-nat")).Length == 0)
            {
                Assert.False(up.HasExited, "lab up ended before the VMs booted: " + errors);
                Assert.True(clock.Elapsed < UpTimeout, "no VM booted within the time allowed: " + errors);
                await Task.Delay(500);
            }

            await ProcessRunner.Instance.RunAsync(CommandSpec.Of("kill", "-INT", up.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.True(up.WaitForExit(120_000), "lab up did not end within 120 s of SIGINT");
            Assert.Equal(130, up.ExitCode);
        }
        finally
        {
            if (!up.HasExited)
            {
                up.Kill(entireProcessTree: true);
                up.WaitForExit();
            }

            output.WriteLine(errors.ToString());
            await LabController.Default.DownAsync(id);
        }

        await AssertGoneAsync(id);
    }

    /// <summary>No namespace (and so no tap), state, QEMU, dnsmasq or metadata process of the lab, no image build lock.</summary>
    private static async Task AssertGoneAsync(string id)
    {
        Assert.Empty(await LabController.Default.ExistingNamespacesAsync(id));
        Assert.False(Directory.Exists(LabNames.StateDirectory(id)));
        var state = LabNames.StateDirectory(id) + "/";
        var leftovers = Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(p => p!.All(char.IsAsciiDigit))
            .Select(p => (Pid: p, Cmd: ReadCmdline(p!)))
            .Where(p => p.Cmd.Contains(state, StringComparison.Ordinal) || (p.Cmd.Contains(" metadata ", StringComparison.Ordinal) && p.Cmd.Contains(" " + id + " ", StringComparison.Ordinal)))
            .ToList();
        Assert.True(leftovers.Count == 0, "left running: " + string.Join("; ", leftovers.Select(l => $"{l.Pid} {l.Cmd}")));
        var images = Path.Combine(VmImage.CacheRoot, "images");
        Assert.Empty(Directory.Exists(images) ? Directory.GetFiles(images, "*.lock") : []);
    }

    private static string ReadCmdline(string pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ') + " ";
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}

/// <summary>The VM tests run alone: two software-emulated VMs take both cores, which would stretch other tests' timings.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class VmLabCollection
{
    public const string Name = "VM lab";
}

/// <summary>A VM-lab test: root, and EGRESS_VM_LAB=1. eng/test.sh runs these in their own tier (always in CI), alone and
/// after every other test: two VMs under software emulation take both cores and would stretch other tests' timings.
/// Skipped, with this reason, when run otherwise.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class VmLabFactAttribute : FactAttribute
{
    public VmLabFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("EGRESS_VM_LAB") != "1")
        {
            Skip = "the VM lab tier runs with EGRESS_VM_LAB=1 (and root), as eng/test.sh does in CI: VMs under software emulation take minutes and both cores";
        }
        else if (!Prerequisites.IsRoot && !Prerequisites.InCi)
        {
            Skip = "needs root (network namespaces, QEMU taps)";
        }
    }
}
