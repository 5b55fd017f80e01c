using Egress.Core.Topology;

namespace Egress.Host.Tests;

/// <summary>Runs the library's tunnel function under sh with a fake `ip` that prints what real iproute2 prints
/// for an existing tunnel (captured on a full kernel), to show that apply keeps a tunnel that is already right,
/// recreates one whose endpoints changed, and creates a missing one with the mode's command on the uplink.</summary>
public sealed class TunnelFunctionTests
{
    [Theory]
    [InlineData(OverlayMode.Ipip, "ipip any remote 10.1.1.10 local 10.0.1.10 dev eth0 ttl 64 pmtudisc addrgenmode eui64")]
    [InlineData(OverlayMode.Gre, "gre remote 10.1.1.10 local 10.0.1.10 dev eth0 ttl 64 ikey 0.0.0.1 okey 0.0.0.1 addrgenmode eui64")]
    [InlineData(OverlayMode.Vxlan, "vxlan id 1 remote 10.1.1.10 local 10.0.1.10 srcport 0 0 dstport 4789 nolearning ttl auto ageing 300")]
    public async Task Tunnel_ExistingWithSameEndpoints_IsKept(OverlayMode mode, string details)
    {
        var calls = await RunTunnelAsync(mode, details);

        Assert.DoesNotContain("link del", calls, StringComparison.Ordinal);
        Assert.DoesNotContain("link add", calls, StringComparison.Ordinal);
        Assert.DoesNotContain("addr flush", calls, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OverlayMode.Ipip, "ipip any remote 10.1.1.99 local 10.0.1.10 dev eth0 ttl 64")]
    [InlineData(OverlayMode.Gre, "gre remote 10.1.1.10 local 10.0.1.99 dev eth0 ttl 64")]
    [InlineData(OverlayMode.Vxlan, "vxlan id 7 remote 10.1.1.10 local 10.0.1.10 dev eth0 dstport 4789")]
    [InlineData(OverlayMode.Gre, "ipip any remote 10.1.1.10 local 10.0.1.10 dev eth0 ttl 64")]
    [InlineData(OverlayMode.Vxlan, "vxlan id 1 remote 10.1.1.10 local 10.0.1.10 srcport 0 0 dstport 4789 ttl auto ageing 300")] // learns endpoints
    public async Task Tunnel_ExistingWithOtherEndpointsOrKind_IsRecreated(OverlayMode mode, string details)
    {
        var calls = await RunTunnelAsync(mode, details);

        Assert.Contains("CALL link del dev eg1", calls, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OverlayMode.Ipip, "link add eg1 type ipip local 10.0.1.10 remote 10.1.1.10 ttl 64 dev eth0")]
    [InlineData(OverlayMode.Gre, "link add eg1 type gre local 10.0.1.10 remote 10.1.1.10 key 1 ttl 64 dev eth0")]
    [InlineData(OverlayMode.Vxlan, "link add eg1 type vxlan id 1 local 10.0.1.10 remote 10.1.1.10 dstport 4789 nolearning dev eth0")]
    public async Task Tunnel_Missing_IsCreatedWithTheModesCommandOnTheDiscoveredUplink(OverlayMode mode, string command)
    {
        var calls = await RunTunnelAsync(mode, details: null);

        Assert.Contains($"CALL {command}\n", calls, StringComparison.Ordinal);
        Assert.Contains($"CALL link set dev eg1 mtu {Mtu.Tunnel(1500, mode)}\n", calls, StringComparison.Ordinal);
        Assert.Contains("CALL addr add 192.168.250.2/30 dev eg1\n", calls, StringComparison.Ordinal);
        Assert.Contains($"LOG tunnel eg1 ({mode.ToString().ToLowerInvariant()}) to tokyo-nat 10.1.1.10, 192.168.250.2/30, mtu {Mtu.Tunnel(1500, mode)}\n", calls, StringComparison.Ordinal);
    }

    /// <summary>Runs apply's tunnel step for the seed client; <paramref name="details"/> null: eg1 does not exist.</summary>
    private static async Task<string> RunTunnelAsync(OverlayMode mode, string? details)
    {
        var exists = details is null ? "return 1" : "return 0";
        var harness = $$"""
            UPLINK=eth0
            log() { echo "LOG $*"; }
            abort() { echo "ABORT $*"; exit 1; }
            run() { "$@"; }
            ip() {
              case "$*" in
                "link show dev eg1") {{exists}} ;;
                "-d -o link show dev eg1") echo "4: eg1@eth0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1480 \    {{details}} numtxqueues 1" ;;
                "-o -4 addr show dev eg1") [ -z "{{details}}" ] || echo "4: eg1    inet 192.168.250.2/30 scope global eg1\       valid_lft forever" ;;
                *) echo "CALL $*" ;;
              esac
            }
            apply_tunnels
            """;

        var result = await ScriptHarness.RunAsync(Topologies.Seed(mode), "sg-client", harness);

        Assert.True(result.Succeeded, $"{result.StandardOutput}{result.StandardError}");
        return result.StandardOutput;
    }
}
