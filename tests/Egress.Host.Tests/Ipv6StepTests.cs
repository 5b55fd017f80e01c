using Egress.Core.Topology;
using Egress.Host.Plan;
using Egress.Host.Rendering;

namespace Egress.Host.Tests;

/// <summary>The client's IPv6 kill switch (issue 24, item 2): the plan step, its data, and the shell step under sh with a
/// fake <c>ip</c>/<c>nft</c> (the kernel behaviour: tests/Egress.Lab.RootTests/Ipv6LabTests.cs).</summary>
public sealed class Ipv6StepTests
{
    /// <summary>A dual-stack uplink as EC2 gives it: the subnet's /64 on the link, a default via the link-local router;
    /// an nft that has no table ip6 egress and prints what it is fed. <c>v6_has</c> says the kernel has IPv6 whatever
    /// the machine running the test has.</summary>
    private const string DualStack = """
        ip() {
          case "$*" in
            "-o -4 addr show") echo "2: eth0    inet $PRIVATE_IP/24 scope global eth0" ;;
            "-6 -o route show dev eth0") printf '%s\n' '2001:db8:1:1::/64 proto kernel metric 256 pref medium' 'fe80::/64 proto kernel metric 256 pref medium' 'default via fe80::1 proto ra metric 1024 pref medium' ;;
            "-6 -o route get 2001:db8::1") echo '2001:db8::1 from :: via fe80::1 dev eth0 src 2001:db8:1:1::a metric 1024 pref medium' ;;
            *) echo "CALL ip $*" ;;
          esac
        }
        nft() { case "$*" in "-f -") echo "NFT-FILE"; cat ;; list*) return 1 ;; *) echo "CALL nft $*" ;; esac; }
        v6_has() { return 0; }
        v6_off() { return 1; }
        UPLINK=eth0

        """;

    [Fact]
    public void Plan_Client_BlocksIpv6RightAfterTheIpv4KillSwitch()
    {
        var plan = HostRenderer.Plan(Topologies.Seed(OverlayMode.Vxlan), "sg-client");

        var index = plan.Steps.ToList().FindIndex(s => s is BlockIpv6);
        Assert.True(index > 0, "the client's plan has no BlockIpv6 step");
        Assert.IsType<KillSwitch>(plan.Steps[index - 1]);
        var block = (BlockIpv6)plan.Steps[index];
        Assert.Equal(["fe80::/10", "ff02::/16", "fd00:ec2::254", "fd00:ec2::253", "fd00:ec2::123"], block.Allowed.Select(a => a.Prefix));
    }

    [Fact]
    public void Plan_Gateway_HasNoIpv6Step()
    {
        var plan = HostRenderer.Plan(Topologies.Seed(OverlayMode.Vxlan), "tokyo-nat");

        Assert.Empty(plan.StepsOf<BlockIpv6>());
    }

    [Fact]
    public void DataBlock_Client_NamesTheStepAndTheAllowedDestinations()
    {
        var data = ScriptRenderer.DataBlock(HostRenderer.Plan(Topologies.Seed(OverlayMode.Vxlan), "sg-client"));

        Assert.Contains(" killswitch ipv6 pins ", data, StringComparison.Ordinal);
        Assert.Contains("V6_ALLOW='fe80::/10, ff02::/16, fd00:ec2::254, fd00:ec2::253, fd00:ec2::123'\n", data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyIpv6_DualStackUplink_ReplacesTableIp6EgressAtomicallyWithTheSubnetAllowedAndTheRestRejected()
    {
        var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", DualStack + "apply_ipv6");

        Assert.True(run.Succeeded, run.StandardError);
        var table = run.StandardOutput;
        Assert.StartsWith("NFT-FILE\ntable ip6 egress {}\ndelete table ip6 egress\ntable ip6 egress {\n  comment \"egress-host sg-client ", table, StringComparison.Ordinal);
        Assert.Contains("type filter hook output priority filter; policy accept;", table, StringComparison.Ordinal);
        Assert.Contains("type filter hook forward priority filter; policy accept;", table, StringComparison.Ordinal);
        Assert.Contains("oifname \"eth0\" ip6 daddr { fe80::/10, ff02::/16, fd00:ec2::254, fd00:ec2::253, fd00:ec2::123, 2001:db8:1:1::/64 } accept", table, StringComparison.Ordinal);
        Assert.Contains("oifname \"eth0\" ct mark 0x00000001 accept comment \"replies on connections that arrived on the uplink\"", table, StringComparison.Ordinal);
        Assert.Contains("oifname \"eth0\" counter reject with icmpv6 type admin-prohibited comment \"IPv6 kill switch", table, StringComparison.Ordinal);
        Assert.Contains("iifname \"eth0\" ct state new ct mark set 0x00000001", table, StringComparison.Ordinal);
        // The default route's next hop and fe80::/64 are not "the subnet": only the on-link global prefix is added.
        Assert.DoesNotContain("fe80::/64", table, StringComparison.Ordinal);
        Assert.DoesNotContain("default", table, StringComparison.Ordinal);
        Assert.Contains("table ip6 egress replaced", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyIpv6_KernelWithoutIpv6_WarnsAndChangesNothing()
    {
        var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", DualStack + "v6_has() { return 1; }; apply_ipv6; echo \"WARNS=$WARNS\"");

        Assert.True(run.Succeeded, run.StandardError);
        Assert.DoesNotContain("NFT-FILE", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("WARNS=\"this kernel has no IPv6: nothing to block\"", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckIpv6_DefaultRouteAndNoBlock_FailsNamingTheRouteAndTheFix()
    {
        var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", DualStack + "check_ipv6; echo \"$OK $ITEMS\"");

        Assert.True(run.Succeeded, run.StandardError);
        Assert.StartsWith("false {\"name\":\"killswitch.ipv6\",\"ok\":false,", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("IPv6 bypasses egress: 'route get 2001:db8::1' is '2001:db8::1 from :: via fe80::1 dev eth0", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("run egress-host apply", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckIpv6_BlockInPlace_Holds()
    {
        // nft lists the table as apply wrote it (the fake prints the definition apply would feed it).
        var body = DualStack + """
            V6_ONLINK=$(v6_onlink)
            NFT_LISTING=$(printf 'table ip6 egress {\n  comment "%s"\n%s\n}\n' "$(v6_id)" "$(v6_body)")
            nft() { case "$*" in "list table ip6 egress") printf '%s\n' "$NFT_LISTING" ;; *) echo "CALL nft $*" ;; esac; }
            check_ipv6; echo "$OK $ITEMS WARNS=$WARNS"
            """;

        var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", body);

        Assert.True(run.Succeeded, run.StandardError);
        Assert.StartsWith("true {\"name\":\"killswitch.ipv6\",\"ok\":true,\"detail\":\"table ip6 egress refuses new IPv6 out of eth0 except fe80::/10, ff02::/16, fd00:ec2::254, fd00:ec2::253, fd00:ec2::123, 2001:db8:1:1::/64; IPv6 is not carried through the gateway\"}", run.StandardOutput, StringComparison.Ordinal);
        Assert.EndsWith("WARNS=\n", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckIpv6_Ipv6DisabledOnTheUplink_Holds()
    {
        var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", DualStack + "v6_off() { return 0; }; check_ipv6; echo \"$OK $ITEMS\"");

        Assert.True(run.Succeeded, run.StandardError);
        Assert.Equal("true {\"name\":\"killswitch.ipv6\",\"ok\":true,\"detail\":\"IPv6 is disabled on eth0: nothing leaves it by IPv6\"}\n", run.StandardOutput);
    }

    [Fact]
    public async Task CheckIpv6_KernelWithoutIpv6_Holds()
    {
        var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", DualStack + "v6_has() { return 1; }; check_ipv6; echo \"$OK $ITEMS\"");

        Assert.True(run.Succeeded, run.StandardError);
        Assert.Equal("true {\"name\":\"killswitch.ipv6\",\"ok\":true,\"detail\":\"this kernel has no IPv6: nothing leaves by IPv6\"}\n", run.StandardOutput);
    }

    [Fact]
    public async Task DownIpv6_DeletesOnlyTableIp6Egress()
    {
        var body = DualStack + """
            nft() { case "$*" in "list table ip6 egress") echo 'table ip6 egress {' ;; *) echo "CALL nft $*" ;; esac; }
            down_ipv6
            """;

        var run = await ScriptHarness.RunAsync(Topologies.Seed(), "sg-client", body);

        Assert.True(run.Succeeded, run.StandardError);
        Assert.Equal("CALL nft delete table ip6 egress\n", run.StandardOutput);
    }
}
