using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Host.Plan;
using Egress.Host.Rendering;

namespace Egress.Host.Tests;

public sealed class HostPlanTests
{
    [Fact]
    public void Plan_SeedClient_PinsUnderlayVpcsAndLinkLocalServicesBeforeTheDefaultHalves()
    {
        var plan = HostRenderer.Plan(Topologies.Seed(OverlayMode.Vxlan), "sg-client");

        Assert.Equal((HostRole.Client, "10.0.1.10", "10.0.1.1", 1450, 1410),
            (plan.Role, plan.PrivateIp.ToString(), plan.VpcRouter.ToString(), plan.TunnelMtu, plan.TcpMss));
        Assert.IsType<RequireTools>(plan.Steps[0]);
        Assert.IsType<FindUplink>(plan.Steps[1]);
        var tunnel = Assert.Single(plan.StepsOf<CreateTunnel>());
        Assert.Equal(("eg1", "10.0.1.10", "10.1.1.10", 1, "192.168.250.2", "192.168.250.1", 1450),
            (tunnel.Name, tunnel.Local.ToString(), tunnel.Remote.ToString(), tunnel.Key, tunnel.Address.ToString(), tunnel.PeerAddress.ToString(), tunnel.Mtu));
        Assert.Equal(
            ["10.1.1.10/32", "10.0.0.0/16", "10.1.0.0/16", "169.254.169.254/32", "169.254.169.253/32", "169.254.169.123/32"],
            plan.StepsOf<PinRoute>().Select(p => p.Destination.ToString()));
        var last = Assert.IsType<DefaultViaTunnel>(plan.Steps[^3]);
        Assert.Equal(("eg1", "192.168.250.1"), (last.Tunnel, last.Via.ToString()));
        Assert.True(plan.Steps.ToList().FindLastIndex(s => s is PinRoute) < plan.Steps.Count - 3, "pins come before the default halves");
        var dns = Assert.IsType<DnsStub>(plan.Steps[^1]);
        Assert.Equal(("10.0.0.2", "internal amazonaws.com", "192.168.250.1"), (dns.VpcResolver.ToString(), string.Join(' ', dns.LocalDomains), dns.Gateways[0].Via.ToString()));
        var watch = Assert.IsType<FailoverWatch>(plan.Steps[^2]);
        Assert.Equal([new WatchedGateway("tokyo-nat", "eg1", Ipv4Address.Parse("192.168.250.1"))], watch.Gateways);
        var reply = Assert.Single(plan.StepsOf<ReplyViaUplink>());
        Assert.Equal((0x1u, Ipv4Address.Parse("10.0.1.1")), (reply.Mark, reply.Router));
        Assert.Empty(plan.StepsOf<GatewayFirewall>());
        Assert.DoesNotContain(plan.StepsOf<SetSysctl>(), s => s.Key == "net.ipv4.ip_forward");
    }

    [Fact]
    public void Plan_FailoverClient_OneTunnelAndPinPerGatewayDefaultViaPrimaryWatcherInOrder()
    {
        var plan = HostRenderer.Plan(Examples.Load(Examples.Failover), "sg-client");

        Assert.Equal([("eg1", "tokyo-nat", "10.1.1.10", "192.168.250.2"), ("eg2", "tokyo-nat-c", "10.1.3.10", "192.168.250.6")],
            plan.StepsOf<CreateTunnel>().Select(t => (t.Name, t.PeerHost, t.Remote.ToString(), t.Address.ToString())));
        Assert.Equal(["10.1.1.10/32", "10.1.3.10/32"], plan.StepsOf<PinRoute>().Where(p => p.Invariant == "route.pin.gateway-underlay").Select(p => p.Destination.ToString()));
        var primary = Assert.Single(plan.StepsOf<DefaultViaTunnel>());
        Assert.Equal(("eg1", "tokyo-nat"), (primary.Tunnel, primary.Gateway));
        var watch = Assert.Single(plan.StepsOf<FailoverWatch>());
        Assert.Equal(["tokyo-nat", "tokyo-nat-c"], watch.Gateways.Select(g => g.Name));
        Assert.Equal(["192.168.250.1", "192.168.250.5"], watch.Gateways.Select(g => g.Via.ToString()));
        Assert.Equal(new FailoverSettings(), watch.Settings);
    }

    [Fact]
    public void Plan_FailoverGateways_EachServesTheClientThroughItsOwnTunnel()
    {
        var topology = Examples.Load(Examples.Failover);

        var primary = Assert.Single(HostRenderer.Plan(topology, "tokyo-nat").StepsOf<GatewayFirewall>()).Clients;
        var standby = Assert.Single(HostRenderer.Plan(topology, "tokyo-nat-c").StepsOf<GatewayFirewall>()).Clients;

        Assert.Equal([new ForwardClient("eg1", Ipv4Address.Parse("192.168.250.2"), "sg-client")], primary);
        Assert.Equal([new ForwardClient("eg2", Ipv4Address.Parse("192.168.250.6"), "sg-client")], standby);
        Assert.Empty(HostRenderer.Plan(topology, "tokyo-nat-c").StepsOf<FailoverWatch>());
    }

    [Fact]
    public void Plan_ThreeRegionGateway_OneTunnelAndForwardRulePerClient()
    {
        var plan = HostRenderer.Plan(Topologies.ThreeRegion(OverlayMode.Gre), "tokyo-nat");

        Assert.Equal(
            [("eg1", "10.0.1.10", "192.168.250.1", 1), ("eg2", "10.2.1.10", "192.168.250.5", 2)],
            plan.StepsOf<CreateTunnel>().Select(t => (t.Name, t.Remote.ToString(), t.Address.ToString(), t.Key)));
        var firewall = Assert.Single(plan.StepsOf<GatewayFirewall>());
        Assert.Equal([("eg1", "192.168.250.2", "sg-client"), ("eg2", "192.168.250.6", "syd-client")],
            firewall.Clients.Select(c => (c.Tunnel, c.Source.ToString(), c.Client)));
        Assert.Contains(plan.StepsOf<SetSysctl>(), s => s is { Key: "net.ipv4.ip_forward", Value: "1" });
        Assert.Contains(plan.StepsOf<SetSysctl>(), s => s is { Key: "net.ipv4.conf.eg2.rp_filter", Value: "0" });
        Assert.Empty(plan.StepsOf<PinRoute>());
        Assert.Empty(plan.StepsOf<DefaultViaTunnel>());
    }

    [Fact]
    public void Plan_Gateway_FirewallBeforeIpForward()
    {
        var steps = HostRenderer.Plan(Topologies.Seed(), "tokyo-nat").Steps.ToList();

        var firewall = steps.FindIndex(s => s is GatewayFirewall);
        var forward = steps.FindIndex(s => s is SetSysctl { Key: "net.ipv4.ip_forward" });
        Assert.InRange(firewall, 0, forward - 1);
    }

    [Fact]
    public void Plan_Gateway_ConntrackSizedFromInstanceMemoryUnlessTuned()
    {
        var seed = Topologies.Seed();
        var sized = HostRenderer.Plan(seed, "tokyo-nat").StepsOf<SetSysctl>().Single(s => s.Key == "net.netfilter.nf_conntrack_max");
        var tuned = HostRenderer.Plan(seed with { Tunings = seed.Tunings with { ConntrackMax = 50000 } }, "tokyo-nat")
            .StepsOf<SetSysctl>().Single(s => s.Key == "net.netfilter.nf_conntrack_max");

        Assert.Equal(((1024 * HostPlanner.ConntrackEntriesPerMiB).ToString(System.Globalization.CultureInfo.InvariantCulture), SysctlScope.Machine), (sized.Value, sized.Scope));
        Assert.Equal("50000", tuned.Value);
    }

    [Fact]
    public void Plan_Tunings_FollowTheTopology()
    {
        var seed = Topologies.Seed();
        var plan = HostRenderer.Plan(seed with { Tunings = new Tunings { Bbr = false, Fq = false, SlowStartAfterIdle = true, RpFilter = RpFilterMode.Loose } }, "sg-client");
        var sysctls = plan.StepsOf<SetSysctl>().ToList();

        Assert.DoesNotContain(sysctls, s => s.Invariant is "tcp.bbr" or "qdisc.fq");
        Assert.All(sysctls.Where(s => s.Invariant == "sysctl.rp_filter"), s => Assert.Equal("2", s.Value));
        Assert.Equal("1", sysctls.Single(s => s.Invariant == "tcp.slow-start-after-idle").Value);
    }

    [Fact]
    public void Plan_Auto_ThrowsArgumentExceptionSayingToResolveIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => HostRenderer.Plan(Topologies.Seed(OverlayMode.Auto), "sg-client"));

        Assert.Contains("auto", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ipip, gre or vxlan", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_UnknownHost_ThrowsListingTheHosts()
    {
        var ex = Assert.Throws<ArgumentException>(() => HostRenderer.Render(Topologies.Seed(), "nope", RenderFormat.Script));

        Assert.Contains("'nope'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("sg-client, tokyo-nat", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_ClientWithStandbyGateway_DefaultViaPrimaryAndPinsBoth()
    {
        var three = Examples.Load(Examples.ThreeRegion);
        var tokyo = three.Regions[2];
        var standby = tokyo.Hosts[0] with { Name = "tokyo-nat-b", PrivateIp = Ipv4Address.Parse("10.1.1.11") };
        var topology = three with
        {
            Regions = [three.Regions[0] with { Hosts = [three.Regions[0].Hosts[0] with { EgressVia = ["tokyo-nat-b", "tokyo-nat"] }] }, three.Regions[1], tokyo with { Hosts = [tokyo.Hosts[0], standby] }],
        };
        var plan = HostRenderer.Plan(topology, "sg-client");

        var tunnels = plan.StepsOf<CreateTunnel>().ToList();
        Assert.Equal(["tokyo-nat-b", "tokyo-nat"], tunnels.Select(t => t.PeerHost));
        var primary = tunnels.Single(t => t.PeerHost == "tokyo-nat-b");
        Assert.Equal(primary.Name, Assert.Single(plan.StepsOf<DefaultViaTunnel>()).Tunnel);
        Assert.Contains(plan.StepsOf<PinRoute>(), p => p.Destination.ToString() == "10.1.1.11/32");
        Assert.Contains(plan.StepsOf<PinRoute>(), p => p.Destination.ToString() == "10.1.1.10/32");
    }
}
