using System.Text.RegularExpressions;
using Egress.Core.Topology;
using Egress.Host.Execution;
using Egress.Host.Rendering;

namespace Egress.Host.Tests;

/// <summary>Runs the rendered tunnel() function under sh with a fake `ip` that prints what real iproute2 prints
/// for an existing tunnel (captured on a full kernel), to show that apply keeps a tunnel that is already right
/// and recreates one whose endpoints changed.</summary>
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

    private static async Task<string> RunTunnelAsync(OverlayMode mode, string details)
    {
        var script = HostRenderer.Render(Topologies.Seed(mode), "sg-client", RenderFormat.Script);
        var tunnel = Regex.Match(script, @"^tunnel_is\(\) .*?\n", RegexOptions.Multiline).Value +
            Regex.Match(script, @"^tunnel\(\) \{\n.*?^\}\n", RegexOptions.Multiline | RegexOptions.Singleline).Value;
        Assert.NotEmpty(tunnel);
        var harness = $$"""
            UPLINK=eth0
            log() { echo "LOG $*"; }
            abort() { echo "ABORT $*"; exit 1; }
            run() { "$@"; }
            ip() {
              case "$*" in
                "link show dev eg1") return 0 ;;
                "-d -o link show dev eg1") echo "4: eg1@eth0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1480 \    {{details}} numtxqueues 1" ;;
                "-o -4 addr show dev eg1") echo "4: eg1    inet 192.168.250.2/30 scope global eg1\       valid_lft forever" ;;
                *) echo "CALL $*" ;;
              esac
            }
            {{tunnel}}
            tunnel eg1 10.0.1.10 10.1.1.10 1 192.168.250.2/30 {{Mtu.Tunnel(1500, mode)}}
            """;

        var result = await ProcessRunner.Instance.RunAsync(new CommandSpec("sh", ["-c", harness]));

        Assert.True(result.Succeeded, $"{result.StandardOutput}{result.StandardError}");
        return result.StandardOutput;
    }
}
