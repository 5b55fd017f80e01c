using System.Diagnostics;
using System.Text.Json;
using Egress.Core.Topology;
using Egress.Doctor;
using Egress.Processes;
using Egress.Tests.Shared;

namespace Egress.Lab.RootTests;

/// <summary>`egress doctor` on a lab (issue 17): each fault injected into a healthy seed lab is diagnosed as its own
/// finding at its own link, and nothing else is reported; the healthy lab exits 0 with every check listed.</summary>
public sealed class DoctorLabTests
{
    private const string Client = "sg-client";
    private const string Gateway = "tokyo-nat";

    private static string Dll => Path.Combine(AppContext.BaseDirectory, "egress.dll");

    [RootFact]
    public async Task Doctor_EachFaultIsItsOwnFinding_AndAHealthyLabExits0()
    {
        LabTestSupport.RequirePrerequisites();
        Prerequisites.RequireProgram("python3", "python3");
        // dns.resolveVia local: the slow resolver below replaces the client's resolv.conf, which with the default (gateway)
        // belongs to the host script's dns step (its dns.resolv-conf invariant would be the first finding).
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed) with { Dns = new DnsSettings { ResolveVia = DnsResolveVia.Local } });
        try
        {
            await HealthyThroughTheCliAsync(lab);

            var gateway = lab.RunnerFor(Gateway);
            var client = lab.RunnerFor(Client);

            // The gateway's NAT table deleted: one finding (its rules' invariants fold into it), at the gateway link.
            await gateway.RunOkAsync("nft", "delete", "table", "ip", "egress");
            await AssertOnlyAsync(lab, PathLink.Gateway, "host.nat.table", Gateway);
            await ReapplyAsync(lab, Gateway);

            // ip_forward off on the gateway.
            await gateway.RunOkAsync("sysctl", "-qw", "net.ipv4.ip_forward=0");
            await AssertOnlyAsync(lab, PathLink.Gateway, "host.sysctl.ip_forward", Gateway);
            await gateway.RunOkAsync("sysctl", "-qw", "net.ipv4.ip_forward=1");

            // Strict reverse-path filtering on the client's tunnel.
            await client.RunOkAsync("sysctl", "-qw", "net.ipv4.conf.eg1.rp_filter=1");
            await AssertOnlyAsync(lab, PathLink.Client, "host.sysctl.rp_filter", Client);
            await client.RunOkAsync("sysctl", "-qw", "net.ipv4.conf.eg1.rp_filter=0");

            // The tunnel's MTU above what the path carries: the client's uplink carries 1400 bytes (a vxlan tunnel's MTU
            // cannot be raised above its uplink's, so the path is lowered under it instead; the same finding).
            await client.RunOkAsync("ip", "link", "set", "eth0", "mtu", "1400");
            await AssertOnlyAsync(lab, PathLink.Tunnel, "path.uplink-mtu", Client);
            await client.RunOkAsync("ip", "link", "set", "eth0", "mtu", "1500");
            await client.RunOkAsync("ip", "route", "flush", "cache"); // no path MTU learnt meanwhile outlives the fault

            // A slow resolver: the client's names come from a DNS server on the lab's internet that answers after 300 ms.
            await using (await SlowResolver.StartAsync(lab, TimeSpan.FromMilliseconds(300)))
            {
                var finding = await AssertOnlyAsync(lab, PathLink.Dns, "dns.time", Client);
                Assert.Contains("api.binance.com: 192.0.2.10 in", finding.Seen, StringComparison.Ordinal);
            }

            await AssertHealthyAsync(lab);

            // The gateway cut off (an instance that died): the environment link, before any host is blamed.
            await LabController.Default.SetGatewayFailedAsync(lab, Gateway, fail: true);
            await AssertOnlyAsync(lab, PathLink.Environment, "instance.running", Gateway);
            await LabController.Default.SetGatewayFailedAsync(lab, Gateway, fail: false);
            await AssertHealthyAsync(lab, wait: TimeSpan.FromSeconds(60)); // the watcher fails back after its hold-down

            // The failover watcher killed (its supervisor first, so nothing restarts it).
            foreach (var pidFile in new[] { lab.State.WatcherSupervisorPid(Client), lab.State.WatcherPid(Client) })
            {
                Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture)).Kill();
            }

            await AssertOnlyAsync(lab, PathLink.Client, "host.failover.watcher", Client);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    [RootFact]
    public async Task Doctor_PeeringLinkCut_IsTheEnvironmentsFinding()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed));
        try
        {
            var peering = lab.Plan.Peerings[0];
            await ProcessRunner.Instance.RunOkAsync("ip", "-n", LabNames.RouterNamespace(lab.Id, peering.Requester), "link", "set", peering.Interface, "down");

            var finding = await AssertOnlyAsync(lab, PathLink.Environment, "peering.active", null);
            Assert.Contains($"{peering.Interface} is down on the {peering.Requester} side", finding.Seen, StringComparison.Ordinal);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    /// <summary>Issue 24, item 7: one fault, one finding, at the right link. The client's derived facts (its active
    /// gateway, the default halves, the kill switch's lookup, where DNS goes) follow from a broken tunnel end or missing
    /// halves and are folded into that finding; fail-closed doing its job (every gateway cut) is not the host's fault.
    /// Where the watcher would repair the fault before the doctor looks (it restores halves and tunnels), it is paused
    /// (SIGSTOP: alive, so its own invariant holds) for the fault's duration.</summary>
    [RootFact]
    public async Task Doctor_TunnelEndsHalvesFailClosedWatcher_OneFindingEach()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed));
        try
        {
            var client = lab.RunnerFor(Client);
            var gateway = lab.RunnerFor(Gateway);
            await AssertHealthyAsync(lab);

            // The gateway's tunnel end down: the client's watcher goes fail-closed (halves via the uplink with the kill
            // switch's realm, DNS refused); one finding, the gateway's tunnel.up, with the client's facts folded in.
            await gateway.RunOkAsync("ip", "link", "set", "eg1", "down");
            await WaitForCheckAsync(lab, Client, "failover.active-gateway", "egress refused");
            var finding = await AssertOnlyAsync(lab, PathLink.Tunnel, "host.tunnel.up", Gateway);
            Assert.Contains("tokyo-nat's end (the gateway)", finding.Seen, StringComparison.Ordinal);
            Assert.Contains("dns.via-gateway on sg-client", finding.Seen, StringComparison.Ordinal);
            await gateway.RunOkAsync("ip", "link", "set", "eg1", "up");
            await AssertHealthyAsync(lab, wait: TimeSpan.FromSeconds(30));

            // The client's tunnel end down (the watcher paused, or it would bring it back): the client's tunnel.up.
            await using (await PausedWatcher.StartAsync(lab))
            {
                await client.RunOkAsync("ip", "link", "set", "eg1", "down");
                finding = await AssertOnlyAsync(lab, PathLink.Tunnel, "host.tunnel.up", Client);
                Assert.Contains("sg-client's end (the client)", finding.Seen, StringComparison.Ordinal);
                await client.RunOkAsync("ip", "link", "set", "eg1", "up");
            }

            await ReapplyAsync(lab, Client); // the kernel dropped the halves with the link; apply adds them when none exist
            await AssertHealthyAsync(lab, wait: TimeSpan.FromSeconds(30));

            // The default halves deleted while the gateway answers: the route, not "names resolved locally".
            await using (await PausedWatcher.StartAsync(lab))
            {
                await client.RunOkAsync("ip", "route", "del", "0.0.0.0/1");
                await client.RunOkAsync("ip", "route", "del", "128.0.0.0/1");
                finding = await AssertOnlyAsync(lab, PathLink.Egress, "host.route.default-via-tunnel", Client);
                Assert.Contains("dns.via-gateway", finding.Seen, StringComparison.Ordinal);
                Assert.Contains("puts the halves back", finding.Fix, StringComparison.Ordinal);
            }

            await ReapplyAsync(lab, Client);
            await AssertHealthyAsync(lab, wait: TimeSpan.FromSeconds(30));

            // A plain `lab fail`: fail-closed working as designed. The gateway being down is the finding; the kill switch
            // refusing, the halves via the uplink and DNS refused are not.
            await LabController.Default.SetGatewayFailedAsync(lab, Gateway, fail: true);
            await WaitForCheckAsync(lab, Client, "failover.active-gateway", "egress refused");
            await AssertOnlyAsync(lab, PathLink.Environment, "instance.running", Gateway);
            var attributed = await DoctorWalk.RunAsync(Egress.Cli.Commands.DoctorCommand.LabEnvironment(lab) with { EnvironmentChecks = null });
            Assert.DoesNotContain(attributed.Findings, c => c.Id is "host.killswitch.uplink" or "host.dns.via-gateway" or "host.route.default-via-tunnel");
            Assert.Equal(("host.failover.gateway.tokyo-nat", PathLink.Tunnel), (Assert.Single(attributed.Findings).Id, attributed.StoppedAt!.Value));
            await LabController.Default.SetGatewayFailedAsync(lab, Gateway, fail: false);
            await AssertHealthyAsync(lab, wait: TimeSpan.FromSeconds(60));

            // The watcher dead (its supervisor first, so nothing restarts it): one finding, at the watcher.
            foreach (var pidFile in new[] { lab.State.WatcherSupervisorPid(Client), lab.State.WatcherPid(Client) })
            {
                Process.GetProcessById(WatcherPid(pidFile)).Kill();
            }

            finding = await AssertOnlyAsync(lab, PathLink.Client, "host.failover.watcher", Client);
            Assert.Contains("restart", finding.Fix, StringComparison.Ordinal);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    private static int WatcherPid(string pidFile) => int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Waits (up to 20 s) until <paramref name="host"/>'s check reports <paramref name="invariant"/> with
    /// <paramref name="detail"/> in its detail: the watcher has acted on the fault.</summary>
    private static async Task WaitForCheckAsync(RunningLab lab, string host, string invariant, string detail)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var check = await lab.RunnerFor(host).RunAsync(lab.CheckCommand(host));
            if (check.StandardOutput.Contains($"\"name\":\"{invariant}\"", StringComparison.Ordinal)
                && JsonDocument.Parse(check.StandardOutput).RootElement.GetProperty("invariants").EnumerateArray()
                    .Any(i => i.GetProperty("name").GetString() == invariant && i.GetProperty("detail").GetString()!.Contains(detail, StringComparison.Ordinal)))
            {
                return;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{host}'s {invariant} never read '{detail}':\n{check.StandardOutput}");
            await Task.Delay(300);
        }
    }

    /// <summary>The client's watcher stopped (SIGSTOP: its process lives, so failover.watcher holds) until disposed.</summary>
    private sealed class PausedWatcher : IAsyncDisposable
    {
        private readonly int _pid;

        private PausedWatcher(int pid) => _pid = pid;

        public static async Task<PausedWatcher> StartAsync(RunningLab lab)
        {
            var pid = WatcherPid(lab.State.WatcherPid(Client));
            await ProcessRunner.Instance.RunOkAsync("kill", "-STOP", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return new PausedWatcher(pid);
        }

        public async ValueTask DisposeAsync() =>
            await ProcessRunner.Instance.RunOkAsync("kill", "-CONT", _pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>`egress doctor --lab ID -o json` on the healthy lab: exit 0, and the JSON lists every check of every link.</summary>
    private static async Task HealthyThroughTheCliAsync(RunningLab lab)
    {
        var run = await ProcessRunner.Instance.RunAsync(new CommandSpec(LabTestSupport.ServicesCommand(lab.Id).Program, [Dll, "doctor", "--lab", lab.Id, "-o", "json"])
        {
            Timeout = TimeSpan.FromMinutes(2),
        });
        Assert.True(run.ExitCode == 0, $"doctor exit {run.ExitCode}\n{run.StandardOutput}\n{run.StandardError}");
        using var json = JsonDocument.Parse(run.StandardOutput);
        Assert.True(json.RootElement.GetProperty("healthy").GetBoolean());
        Assert.Equal(0, json.RootElement.GetProperty("findings").GetArrayLength());
        var checks = json.RootElement.GetProperty("checks").EnumerateArray().ToList();
        Assert.DoesNotContain(checks, c => c.GetProperty("status").GetString() == "finding");
        Assert.Equal(Links, checks.Select(c => c.GetProperty("link").GetString()!).Distinct());
        foreach (var id in new[] { "instance.running", "peering.active", "host.nat.table", "host.failover.watcher", "host.tunnel.up", "path.uplink-mtu", "path.mtu", "egress.ip", "dns.time", "gateway.conntrack" })
        {
            Assert.Contains(checks, c => c.GetProperty("id").GetString() == id);
        }
    }

    private static readonly string[] Links = ["environment", "client", "gateway", "tunnel", "egress", "dns"];

    /// <summary>Runs the doctor and asserts its only finding is <paramref name="id"/> on <paramref name="host"/> at
    /// <paramref name="link"/>, where the walk stopped; returns it.</summary>
    private static async Task<DoctorCheck> AssertOnlyAsync(RunningLab lab, PathLink link, string id, string? host)
    {
        var report = await DoctorWalk.RunAsync(Egress.Cli.Commands.DoctorCommand.LabEnvironment(lab));
        var findings = report.Findings.ToList();
        var describe = string.Join("\n", report.Checks.Where(c => c.Status != DoctorStatus.Healthy).Select(c => $"{c.Status} {c.Link} {c.Id} [{c.Host}] {c.Seen}"));
        Assert.True(findings.Count == 1, $"expected only {id} [{host}], found {findings.Count}:\n{describe}");
        Assert.Equal((link, id, host), (findings[0].Link, findings[0].Id, findings[0].Host));
        Assert.Equal(link, report.StoppedAt);
        Assert.NotNull(findings[0].Fix);
        return findings[0];
    }

    /// <summary>Asserts the doctor finds the lab healthy, retrying for up to <paramref name="wait"/> (a watcher failing back).</summary>
    private static async Task AssertHealthyAsync(RunningLab lab, TimeSpan? wait = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var report = await DoctorWalk.RunAsync(Egress.Cli.Commands.DoctorCommand.LabEnvironment(lab));
            if (report.Healthy)
            {
                return;
            }

            Assert.True(clock.Elapsed < (wait ?? TimeSpan.Zero), "not healthy:\n" + string.Join("\n", report.Findings.Select(c => $"{c.Link} {c.Id} [{c.Host}] {c.Seen}")));
            await Task.Delay(1000);
        }
    }

    /// <summary>Runs the host's script apply again (idempotent), as the fix says.</summary>
    private static async Task ReapplyAsync(RunningLab lab, string host)
    {
        var apply = new CommandSpec("sh", [lab.State.HostScript(host), "apply"]) { Environment = RunningLab.ScriptEnvironment(lab.State, host) };
        (await lab.RunnerFor(host).RunAsync(apply)).EnsureSuccess(apply);
    }

    /// <summary>A DNS server at 192.0.2.53 in the lab's internet that answers A queries for the lab's names after a delay;
    /// the client's /etc/hosts loses those names and its resolv.conf points at the server. Disposing stops the server (by
    /// its PID) and restores both files byte for byte.</summary>
    private sealed class SlowResolver : IAsyncDisposable
    {
        private const string Address = "192.0.2.53";

        private const string Server = """
            import socket, sys, threading, time
            delay = float(sys.argv[2]) / 1000
            names = dict(a.split("=") for a in sys.argv[3:])
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((sys.argv[1], 53))
            def answer(q, peer):
                time.sleep(delay)
                i, labels = 12, []
                while q[i]:
                    labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
                ip, qtype, end = names.get(".".join(labels).lower()), q[i + 1:i + 3], i + 5
                an = 1 if ip and qtype == b"\x00\x01" else 0
                r = q[:2] + (b"\x81\x80" if ip else b"\x81\x83") + b"\x00\x01" + an.to_bytes(2, "big") + b"\x00\x00\x00\x00" + q[12:end]
                if an:
                    r += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton(ip)
                s.sendto(r, peer)
            while True:
                q, peer = s.recvfrom(512)
                threading.Thread(target=answer, args=(q, peer), daemon=True).start()
            """;

        private readonly RunningLab _lab;
        private readonly Process _server;
        private readonly string _hosts;
        private readonly string _resolv;

        private SlowResolver(RunningLab lab, Process server, string hosts, string resolv)
        {
            _lab = lab;
            _server = server;
            _hosts = hosts;
            _resolv = resolv;
        }

        private string Etc(string file) => Path.Combine(LabNames.NetnsEtc, _lab.Plan.HostNamed(Client).Namespace, file);

        public static async Task<SlowResolver> StartAsync(RunningLab lab, TimeSpan delay)
        {
            var internet = lab.InternetRunner();
            await internet.RunOkAsync("ip", "addr", "add", Address + "/32", "dev", "lo");
            var info = new ProcessStartInfo("ip") { UseShellExecute = false };
            foreach (var a in new[] { "netns", "exec", lab.Plan.InternetNamespace, "python3", "-c", Server, Address, ((int)delay.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) }
                .Concat(lab.Plan.Services.Select(s => $"{s.Name}={s.Address}")))
            {
                info.ArgumentList.Add(a);
            }

            var server = Process.Start(info)!;
            var clock = Stopwatch.StartNew();
            while (!(await internet.RunAsync(CommandSpec.Of("ss", "-Hlun", "src", Address))).StandardOutput.Contains(Address, StringComparison.Ordinal))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20) && !server.HasExited, "the slow resolver did not start");
                await Task.Delay(100);
            }

            var hostsFile = Path.Combine(LabNames.NetnsEtc, lab.Plan.HostNamed(Client).Namespace, "hosts");
            var resolvFile = Path.Combine(LabNames.NetnsEtc, lab.Plan.HostNamed(Client).Namespace, "resolv.conf");
            var resolver = new SlowResolver(lab, server, File.ReadAllText(hostsFile), File.ReadAllText(resolvFile));
            File.WriteAllText(hostsFile, "127.0.0.1 localhost\n");
            File.WriteAllText(resolvFile, $"nameserver {Address}\noptions timeout:2 attempts:1\n");
            return resolver;
        }

        public async ValueTask DisposeAsync()
        {
            File.WriteAllText(Etc("hosts"), _hosts);
            File.WriteAllText(Etc("resolv.conf"), _resolv);
            _server.Kill();
            await _server.WaitForExitAsync();
            _server.Dispose();
            await _lab.InternetRunner().RunAsync(CommandSpec.Of("ip", "addr", "del", Address + "/32", "dev", "lo"));
        }
    }
}
