using System.Globalization;
using Egress.Core.Topology;
using Egress.Host.Plan;
using Egress.Host.Rendering;
using Egress.Tests.Shared;

namespace Egress.Host.RootTests;

/// <summary>Overlay source verification on the gateway (issue 24, item 3), in the three-region example: tokyo-nat serves
/// sg-client (built here) and syd-client (configured, not built). Packets are forged byte by byte from the client's
/// namespace (<see cref="ForgedOverlay"/>): outer source the client's own private address, as a compromised or
/// misbehaving client could send, with another client's tunnel address or tunnel id inside.</summary>
public sealed class OverlaySourceTests
{
    private const int InternetPort = 47999;
    private const int GatewayPort = 47998;
    private const int ControlPort = 47997;

    public static TheoryData<OverlayMode> Modes() => HostScriptBehaviourTests.Modes();

    private static async Task<NetnsWorld> WorldAsync(OverlayMode mode)
    {
        var three = Examples.Load(Examples.ThreeRegion);
        var world = await NetnsWorld.CreateAsync(three with { Overlay = three.Overlay with { Mode = mode } }, "eo");
        if (!world.OverlaySupported)
        {
            await world.DisposeAsync();
            Assert.Fail($"this kernel cannot create {mode} tunnels; run the {mode} cases in the full-kernel VM (eng/vm/vm.sh) or set EGRESS_HOST_OVERLAYS=vxlan");
        }

        Assert.Equal("sg-client", world.ClientHost.Name);
        foreach (var host in new[] { world.GatewayHost.Name, world.ClientHost.Name })
        {
            var apply = await world.ScriptAsync(host, "apply");
            Assert.True(apply.Succeeded, $"{host} apply exited {apply.ExitCode}:\n{apply.StandardError}");
        }

        return world;
    }

    /// <summary>The gateway's view of one client: its tunnel (name, key, the gateway's end), private address and tunnel
    /// source address.</summary>
    private sealed record Peer(string Tunnel, int Key, string GatewayAddress, string PrivateIp, string Source);

    private static Peer PeerOf(NetnsWorld world, string client)
    {
        var plan = HostPlanner.Build(world.Topology, world.GatewayHost.Name);
        var tunnel = plan.StepsOf<CreateTunnel>().Single(t => t.PeerHost == client);
        var forward = plan.StepsOf<GatewayFirewall>().Single().Clients.Single(c => c.Client == client);
        return new Peer(tunnel.Name, tunnel.Key, tunnel.Address.ToString(), tunnel.Remote.ToString(), forward.Source.ToString());
    }

    private static string ModeName(OverlayMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>Counts packets to UDP ports in <paramref name="ns"/>'s input hook (after the gateway's raw prerouting), in a
    /// table of the test's own; one counter rule per port, read back by <see cref="SeenAsync"/>.</summary>
    private static async Task WatchInputAsync(NetnsWorld world, string ns, string hook, params int[] ports)
    {
        var rules = string.Join("\n", ports.Select(p => $"    udp dport {p} counter comment \"port {p}\""));
        var result = await NetnsWorld.Runner.RunAsync(new Processes.CommandSpec("ip", ["netns", "exec", ns, "nft", "-f", "-"])
        {
            StandardInput = $"table ip eoseen {{\n  chain seen {{\n    type filter hook {hook} priority 100; policy accept;\n{rules}\n  }}\n}}\n",
        });
        Assert.True(result.Succeeded, result.StandardError);
    }

    private static async Task<long> SeenAsync(NetnsWorld world, string ns, int port) =>
        Counted((await world.ExecOk(ns, "nft", "list", "table", "ip", "eoseen")).StandardOutput, $"comment \"port {port}\"");

    private static long Counted(string ruleset, string marker)
    {
        var line = ruleset.Split('\n').Single(l => l.Contains(marker, StringComparison.Ordinal));
        var at = line.IndexOf("packets ", StringComparison.Ordinal);
        return long.Parse(line[(at + 8)..].Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static async Task SendAsync(NetnsWorld world, string[] command)
    {
        var sent = await world.Exec(world.Client, command);
        Assert.True(sent.Succeeded, $"the forged packets were not sent: {sent.StandardError}");
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Apply_ClientSendingAnotherClientsTunnelAddressThroughItsOwnTunnel_IsDroppedBeforeTheGatewayOrTheInternetSeesIt(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        var me = PeerOf(world, "sg-client");
        var other = PeerOf(world, "syd-client");
        var gatewayTunnel = me.GatewayAddress;
        var mac = (await world.ExecOk(world.Gateway, "cat", $"/sys/class/net/{me.Tunnel}/address")).StandardOutput.Trim();
        var gateway = world.GatewayHost.PrivateIp.ToString();
        await WatchInputAsync(world, world.Gateway, "input", GatewayPort, ControlPort);
        await WatchInputAsync(world, world.Internet, "prerouting", InternetPort, ControlPort);

        // Control: the same forged packets with the client's own tunnel address reach the gateway and the internet.
        await SendAsync(world, ForgedOverlay.Command(ModeName(mode), me.PrivateIp, gateway, me.Key, me.Source, gatewayTunnel, ControlPort, mac));
        await SendAsync(world, ForgedOverlay.Command(ModeName(mode), me.PrivateIp, gateway, me.Key, me.Source, NetnsWorld.InternetAddress, ControlPort, mac));
        // The attack: syd-client's tunnel address as inner source, through sg-client's own tunnel.
        await SendAsync(world, ForgedOverlay.Command(ModeName(mode), me.PrivateIp, gateway, me.Key, other.Source, gatewayTunnel, GatewayPort, mac));
        await SendAsync(world, ForgedOverlay.Command(ModeName(mode), me.PrivateIp, gateway, me.Key, other.Source, NetnsWorld.InternetAddress, InternetPort, mac));
        await Task.Delay(300);

        var egress = (await world.ExecOk(world.Gateway, "nft", "list", "table", "ip", "egress")).StandardOutput;
        Assert.True(await SeenAsync(world, world.Gateway, ControlPort) >= 3, $"control: the forged packets with {me.Source} never reached the gateway, so the test proves nothing\n{egress}");
        Assert.True(await SeenAsync(world, world.Internet, ControlPort) >= 3, $"control: the forged packets with {me.Source} never reached the internet\n{egress}");
        Assert.Equal(0, await SeenAsync(world, world.Gateway, GatewayPort));
        Assert.Equal(0, await SeenAsync(world, world.Internet, InternetPort));
        Assert.True(Counted(egress, $"inner source: only {me.Source} from the tunnel of sg-client") >= 6, $"the gateway's inner-source rule did not count the forged packets:\n{egress}");
        var check = CheckReport.Parse((await world.ScriptAsync(world.GatewayHost.Name, "check")).StandardOutput);
        var inner = check.Invariants.Single(i => i.Name == "overlay.inner-source");
        Assert.True(inner.Ok, inner.Detail);
        Assert.Contains(other.Source, inner.Detail, StringComparison.Ordinal); // syd-client's own rule is checked too
    }

    [RootTheory]
    [MemberData(nameof(Modes))]
    public async Task Apply_ClientUsingAnotherClientsTunnelId_IsDroppedAndNothingLeavesNated(OverlayMode mode)
    {
        await using var world = await WorldAsync(mode);
        var me = PeerOf(world, "sg-client");
        var other = PeerOf(world, "syd-client");
        var gateway = world.GatewayHost.PrivateIp.ToString();
        var myMac = (await world.ExecOk(world.Gateway, "cat", $"/sys/class/net/{me.Tunnel}/address")).StandardOutput.Trim();
        var otherMac = (await world.ExecOk(world.Gateway, "cat", $"/sys/class/net/{other.Tunnel}/address")).StandardOutput.Trim();
        await WatchInputAsync(world, world.Internet, "prerouting", InternetPort, ControlPort);

        // Control: sg-client's own id and tunnel address get through.
        await SendAsync(world, ForgedOverlay.Command(ModeName(mode), me.PrivateIp, gateway, me.Key, me.Source, NetnsWorld.InternetAddress, ControlPort, myMac));
        // The attack: from sg-client's private address, syd-client's tunnel id (VXLAN id, GRE key) and tunnel address, so
        // it would leave as syd-client. (ipip has no id: it lands in sg-client's tunnel and the inner-source rule drops it.)
        await SendAsync(world, ForgedOverlay.Command(ModeName(mode), me.PrivateIp, gateway, other.Key, other.Source, NetnsWorld.InternetAddress, InternetPort, otherMac));
        await Task.Delay(300);

        var egress = (await world.ExecOk(world.Gateway, "nft", "list", "table", "ip", "egress")).StandardOutput;
        Assert.True(await SeenAsync(world, world.Internet, ControlPort) >= 3, $"control: sg-client's own forged packets never reached the internet\n{egress}");
        Assert.Equal(0, await SeenAsync(world, world.Internet, InternetPort));
        if (mode == OverlayMode.Vxlan)
        {
            Assert.True(Counted(egress, $"overlay id {other.Key} only from syd-client") >= 3, $"the gateway's tunnel-id rule did not count the forged packets:\n{egress}");
            var check = CheckReport.Parse((await world.ScriptAsync(world.GatewayHost.Name, "check")).StandardOutput);
            var only = check.Invariants.Single(i => i.Name == "overlay.only-clients");
            Assert.True(only.Ok, only.Detail);
            Assert.Contains($"ip saddr != {other.PrivateIp}", only.Detail, StringComparison.Ordinal);
        }
    }
}
