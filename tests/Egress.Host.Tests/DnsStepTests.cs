using Egress.Core.Topology;
using Egress.Host.Plan;
using Egress.Host.Rendering;

namespace Egress.Host.Tests;

/// <summary>The dns step's plan and its resolv.conf handling: apply points the system resolver at the stub, down restores
/// the original byte for byte (a regular file in place, a symlink as the symlink, an absent file as absent). dnsmasq
/// itself is stubbed here; the lab root tests run the real one.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DnsStepTests
{
    /// <summary>After the library: no real dnsmasq, and the halves via the primary gateway.</summary>
    private const string Fakes = """
        dns_start() { echo "START $*"; }
        dns_stop() { echo STOP; }
        find_active() { ACT=1 HALF='0.0.0.0/1 via 192.168.250.1 dev eg1'; }

        """;

    [Fact]
    public void Plan_Seed_GatewayForwardsOnTheTunnelAddressToItsVpcResolverAndClientGetsAStub()
    {
        var gateway = HostRenderer.Plan(Topologies.Seed(), "tokyo-nat");
        var client = HostRenderer.Plan(Topologies.Seed(), "sg-client");

        var forwarder = Assert.IsType<DnsForwarder>(gateway.Steps[^1]);
        Assert.Equal(("192.168.250.1", "10.1.0.2"), (string.Join(' ', forwarder.Listen), forwarder.Upstream.ToString()));
        Assert.Contains("dnsmasq", gateway.StepsOf<RequireTools>().Single().Programs);
        Assert.Contains("dnsmasq", client.StepsOf<RequireTools>().Single().Programs);
        Assert.Equal("10.0.0.2", client.StepsOf<DnsStub>().Single().VpcResolver.ToString());
    }

    [Fact]
    public void Plan_ResolveViaLocal_HasNoDnsStepAndNeedsNoDnsmasq()
    {
        var local = Topologies.Seed() with { Dns = new DnsSettings { ResolveVia = DnsResolveVia.Local } };

        foreach (var host in new[] { "sg-client", "tokyo-nat" })
        {
            var plan = HostRenderer.Plan(local, host);
            Assert.DoesNotContain(plan.Steps, s => s is DnsStub or DnsForwarder);
            Assert.DoesNotContain("dnsmasq", plan.StepsOf<RequireTools>().Single().Programs);
            Assert.DoesNotContain("dns", ScriptRenderer.DataBlock(plan).Split('\n').Single(l => l.StartsWith("STEPS=", StringComparison.Ordinal)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Plan_ClientOverridesTopLevel_OnlyThatClientResolvesViaTheGateway()
    {
        var seed = Topologies.Seed() with { Dns = new DnsSettings { ResolveVia = DnsResolveVia.Local } };
        var region = seed.Regions[0];
        var topology = seed with
        {
            Regions = [region with { Hosts = [region.Hosts[0] with { Dns = DnsResolveVia.Gateway }] }, .. seed.Regions.Skip(1)],
        };

        Assert.Single(HostRenderer.Plan(topology, "sg-client").StepsOf<DnsStub>());
        Assert.Single(HostRenderer.Plan(topology, "tokyo-nat").StepsOf<DnsForwarder>());
    }

    [Fact]
    public async Task ApplyThenDown_RegularFile_RestoresTheSameBytesInPlace()
    {
        var dir = Directory.CreateTempSubdirectory("eh-dns-");
        try
        {
            var resolv = Path.Combine(dir.FullName, "resolv.conf");
            byte[] original = [.. "# written by hand\r\nnameserver 10.0.0.2\nsearch ap-southeast-1.compute.internal\noptions rotate\n\u00e9 no newline at the end"u8];
            await File.WriteAllBytesAsync(resolv, original);
            File.SetUnixFileMode(resolv, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
            var body = $"RESOLV='{resolv}' SAVED='{dir.FullName}/saved'\n" + Fakes +
                       "ino() { ls -i \"$RESOLV\" | cut -d' ' -f1; }\n" +
                       "before=$(ino); apply_dns >/dev/null 2>&1; echo APPLIED; cat \"$RESOLV\"; apply_dns >/dev/null 2>&1; echo AGAIN; cat \"$RESOLV\";" +
                       " down_dns >/dev/null 2>&1; [ \"$(ino)\" = \"$before\" ] && echo SAME-INODE; ls \"$SAVED\" 2>&1 | head -1\n";

            var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", body);

            var applied = run.StandardOutput.Split("APPLIED\n")[1].Split("AGAIN\n");
            Assert.Equal("# egress-host sg-client: names via the dns stub on 127.0.0.1; egress-host down restores the original\n" +
                         "nameserver 127.0.0.1\noptions timeout:1 attempts:2\nsearch ap-southeast-1.compute.internal\n", applied[0]);
            Assert.StartsWith(applied[0], applied[1], StringComparison.Ordinal); // a second apply keeps the first saved original
            Assert.Equal(original, await File.ReadAllBytesAsync(resolv));
            Assert.Contains("SAME-INODE", run.StandardOutput, StringComparison.Ordinal);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(resolv));
            Assert.False(Directory.Exists(Path.Combine(dir.FullName, "saved")), run.StandardOutput + run.StandardError);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ApplyThenDown_Symlink_RestoresTheSymlinkAndLeavesItsTargetAlone()
    {
        var dir = Directory.CreateTempSubdirectory("eh-dns-");
        try
        {
            var target = Path.Combine(dir.FullName, "stub-resolv.conf");
            var resolv = Path.Combine(dir.FullName, "resolv.conf");
            const string Stub = "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch ap-southeast-1.compute.internal\n";
            await File.WriteAllTextAsync(target, Stub);
            File.CreateSymbolicLink(resolv, "stub-resolv.conf");
            var body = $"RESOLV='{resolv}' SAVED='{dir.FullName}/saved'\n" + Fakes +
                       "apply_dns >/dev/null 2>&1; [ -L \"$RESOLV\" ] || echo NOT-A-LINK; grep -c '^nameserver 127.0.0.1$' \"$RESOLV\"; down_dns >/dev/null 2>&1\n";

            var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", body);

            Assert.Equal("NOT-A-LINK\n1\n", run.StandardOutput.Replace("START --user=root --listen-address=127.0.0.1 ", string.Empty, StringComparison.Ordinal));
            Assert.Equal("stub-resolv.conf", new FileInfo(resolv).LinkTarget);
            Assert.Equal(Stub, await File.ReadAllTextAsync(target));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task DnsPoint_FollowsEgress_GatewayLocalOrRefused()
    {
        var body = Fakes + "dns_running() { return 1; }\nmkdir -p \"$RUN_DIR\"\n" +
                   "dns_point 192.168.250.5; cat \"$DNS_SERVERS\"; echo ---; dns_point none; cat \"$DNS_SERVERS\"; echo ---; dns_point local; tail -1 \"$DNS_SERVERS\"\n";

        var run = await ScriptHarness.RunAsync(Examples.Load(Examples.Failover), "sg-client", body);

        var parts = run.StandardOutput.Split("---\n");
        Assert.Equal("server=/internal/10.0.0.2\nserver=/amazonaws.com/10.0.0.2\nserver=/tokyo-nat.dns.egress.test/192.168.250.1\n" +
                     "server=/tokyo-nat-c.dns.egress.test/192.168.250.5\nserver=192.168.250.5\n", parts[0]);
        Assert.DoesNotMatch(@"(?m)^server=[0-9]", parts[1]); // fail-closed: no server for internet names, so they are refused
        Assert.Equal("server=10.0.0.2\n", parts[2]); // fail-open: egress leaves locally, so names resolve locally too
    }

    /// <summary>A process whose command line is "dnsmasq ... ARGS" (bash's exec -a), in the background with its pid in the pid
    /// file, as dnsmasq leaves it; the harness's readlink says which pids are another network namespace's.</summary>
    private const string FakeDnsmasq = """
        mkdir -p "$RUN_DIR"
        printf '%s\n' 'sleep 30 & trap "kill \$!; exit" TERM; wait' >"$RUN_DIR/fake"
        fake_dnsmasq() {
          bash -c 'exec -a dnsmasq bash "$0" "$@"' "$RUN_DIR/fake" "$@" >/dev/null 2>&1 &
          p=$! i=0
          until tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q '^dnsmasq ' || [ "$i" -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
          echo "$p" >"$DNS_PID"
        }
        dnsmasq() { fake_dnsmasq "$@"; }
        FOREIGN=
        readlink() { if [ "$1" = "/proc/$FOREIGN/ns/net" ]; then echo 'net:[4026530001]'; else command readlink "$@"; fi; }

        """;

    /// <summary>Issue 23: two namespace worlds share a run directory. The second world's apply used to take the first's
    /// dnsmasq (named by the shared pid file) for its own, start none and pass dns.stub for it. Now it starts its own,
    /// which takes the file over; the first world still finds its own by command line, and its down stops only that one
    /// and leaves the file, which names the second's.</summary>
    [Fact]
    public async Task DnsRunning_PidFileNamesAnotherNamespacesDnsmasq_NotOurs_StartsOurOwn_EachWorldStopsOnlyItsOwn()
    {
        var body = FakeDnsmasq + """
            fake_dnsmasq --listen-address=127.0.0.1 "--pid-file=$DNS_PID"; A=$(cat "$DNS_PID")
            FOREIGN=$A
            if dns_running; then echo "B-TAKES $DPID"; else echo "B-SEES-NONE other=$([ "$DOTHER" = "$A" ] && echo A)"; fi
            begin dns.stub; c_dns_running; end; echo "$ITEMS"
            dns_start --listen-address=127.0.0.1 2>"$RUN_DIR/start.log"; sed "s/ $A,/ A,/" "$RUN_DIR/start.log"
            B=$(cat "$DNS_PID")
            [ -n "$B" ] && [ "$B" != "$A" ] && echo B-STARTED-ITS-OWN
            dns_running && [ "$DPID" = "$B" ] && echo B-RUNNING-ITS-OWN
            kill -0 "$A" && echo A-UNTOUCHED
            FOREIGN=$B
            dns_running && [ "$DPID" = "$A" ] && [ "$DOTHER" = "$B" ] && echo A-FINDS-ITS-OWN
            dns_stop
            kill -0 "$A" 2>/dev/null || echo A-STOPPED
            kill -0 "$B" && [ "$(cat "$DNS_PID")" = "$B" ] && echo B-KEEPS-ITS-FILE
            FOREIGN=
            dns_stop
            kill -0 "$B" 2>/dev/null || [ -e "$DNS_PID" ] || echo B-STOPPED-FILE-GONE

            """;

        var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", body);

        var lines = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 2, run.StandardOutput + run.StandardError);
        Assert.Equal("B-SEES-NONE other=A", lines[0]);
        Assert.Matches("""^\{"name":"dns.stub","ok":false,"detail":"dnsmasq is not running in this network namespace \(/.*/sg-client/dnsmasq.pid names pid [0-9]+, another network namespace's\)"\}$""", lines[1]);
        Assert.Contains("/sg-client/dnsmasq.pid names pid A, another network namespace's (a world sharing", run.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(["B-STARTED-ITS-OWN", "B-RUNNING-ITS-OWN", "A-UNTOUCHED", "A-FINDS-ITS-OWN", "A-STOPPED", "B-KEEPS-ITS-FILE", "B-STOPPED-FILE-GONE"],
            lines.Where(l => l.StartsWith("A-", StringComparison.Ordinal) || l.StartsWith("B-", StringComparison.Ordinal)).Skip(1));
    }

    [Fact]
    public async Task DnsRunning_OwnDnsmasqInThisNamespace_IsRunning_AStalePidFileIsNot()
    {
        var body = FakeDnsmasq + """
            fake_dnsmasq "--pid-file=$DNS_PID"; A=$(cat "$DNS_PID")
            dns_running && [ "$DPID" = "$A" ] && [ -z "$DOTHER" ] && echo OWN
            kill "$A"; while kill -0 "$A" 2>/dev/null; do sleep 0.05; done
            dns_running || echo STALE-IS-NOT-RUNNING
            begin dns.stub; c_dns_running; end; echo "$ITEMS"
            dns_stop; [ -e "$DNS_PID" ] || echo STALE-FILE-REMOVED

            """;

        var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", body);

        var lines = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 4, run.StandardOutput + run.StandardError);
        Assert.Equal(["OWN", "STALE-IS-NOT-RUNNING"], lines[..2]);
        Assert.Matches("""^\{"name":"dns.stub","ok":false,"detail":"dnsmasq is not running in this network namespace \(/.*/sg-client/dnsmasq.pid\)"\}$""", lines[2]);
        Assert.Equal("STALE-FILE-REMOVED", lines[3]);
    }
}
