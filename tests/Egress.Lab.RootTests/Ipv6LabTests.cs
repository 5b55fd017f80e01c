using System.Diagnostics;
using Egress.Core.Topology;
using Egress.Host.Rendering;
using Egress.Lab.World;
using Egress.Processes;
using Egress.Tests.Shared;

namespace Egress.Lab.RootTests;

/// <summary>A seed lab with IPv6 on the client's subnet (<see cref="LabIpv6"/>), shared by <see cref="Ipv6LabTests"/>.</summary>
public sealed class Ipv6LabFixture : IAsyncLifetime
{
    private RunningLab? _lab;

    public RunningLab Lab => _lab ?? throw new InvalidOperationException("the IPv6 lab did not come up (see the first failing test)");

    public async Task InitializeAsync()
    {
        if (!Prerequisites.IsRoot && !Prerequisites.InCi)
        {
            return; // Every test here is a [RootFact] and skipped.
        }

        LabTestSupport.RequirePrerequisites();
        var id = LabNames.RandomId('t');
        _lab = await LabController.Default.UpAsync(new LabUpOptions
        {
            Topology = LabTestSupport.WithSshFromInternet(Examples.Load(Examples.Seed)),
            Id = id,
            ServicesCommand = LabTestSupport.ServicesCommand,
            ResolverCommand = LabTestSupport.ResolverCommand,
            Scripts = HostRendererScripts.Instance,
            Ipv6 = true,
        });
    }

    public async Task DisposeAsync()
    {
        if (_lab is not null)
        {
            await LabController.Default.DownAsync(_lab.Id);
        }
    }
}

/// <summary>Issue 24, item 2: on a dual-stack client IPv6 bypassed everything (`ping -6` to the internet worked while
/// `check` said ok). The client's step ipv6 refuses internet-bound IPv6 and `check` reports killswitch.ipv6.</summary>
public sealed class Ipv6LabTests(Ipv6LabFixture fixture) : IClassFixture<Ipv6LabFixture>
{
    private const string Client = "sg-client";

    private static readonly string InternetUrl = $"http://[{LabIpv6.InternetAddress}]/";

    private RunningLab Lab => fixture.Lab;

    private ICommandRunner ClientRunner => Lab.RunnerFor(Client);

    [RootFact]
    public async Task Apply_DualStackClient_RefusesInternetIpv6AtOnceWhileLinkLocalVpcImdsAndRepliesWork()
    {
        var v6 = Assert.Single(LabIpv6.Hosts(Lab.Plan), h => h.Host == Client);

        // The IPv6 internet answers when asked from where IPv6 is allowed: the lab's own path works.
        var fromInternet = await Lab.InternetRunner().RunAsync(CommandSpec.Of("ping", "-6", "-c", "1", "-W", "2", v6.Address));
        var clock = Stopwatch.StartNew();
        var ping = await ClientRunner.RunAsync(CommandSpec.Of("ping", "-6", "-n", "-c", "1", "-W", "3", LabIpv6.InternetAddress));
        var curl = await ClientRunner.RunAsync(CommandSpec.Of("curl", "-6", "-sS", "--max-time", "5", InternetUrl));
        var refusedIn = clock.Elapsed;
        var linkLocal = await ClientRunner.RunAsync(CommandSpec.Of("ping", "-6", "-c", "1", "-W", "2", $"{LabIpv6.RouterLinkLocal}%eth0"));
        var vpc = await ClientRunner.RunAsync(CommandSpec.Of("ping", "-6", "-c", "1", "-W", "2", v6.RouterAddress));
        var imds = await ClientRunner.RunAsync(CommandSpec.Of("ping", "-6", "-c", "1", "-W", "2", LabIpv6.MetadataAddress));
        var check = CheckReport.Parse((await ClientRunner.RunAsync(Lab.CheckCommand(Client))).StandardOutput);

        Assert.True(fromInternet.Succeeded, "the internet's ping to the client's IPv6 address (a connection that arrived on the uplink) got no reply: " + fromInternet.StandardOutput + fromInternet.StandardError);
        Assert.False(ping.Succeeded, "ping -6 to the internet left the client: " + ping.StandardOutput);
        Assert.False(curl.Succeeded, "curl -6 to the internet got an answer: " + curl.StandardOutput);
        Assert.True(refusedIn < TimeSpan.FromSeconds(3), $"refused, not timed out: took {refusedIn.TotalMilliseconds:F0} ms");
        Assert.True(linkLocal.Succeeded, "the VPC router's link-local fe80::1: " + linkLocal.StandardOutput + linkLocal.StandardError);
        Assert.True(vpc.Succeeded, $"the VPC over IPv6 ({v6.RouterAddress}): " + vpc.StandardOutput + vpc.StandardError);
        Assert.True(imds.Succeeded, $"IMDS over IPv6 ({LabIpv6.MetadataAddress}): " + imds.StandardOutput + imds.StandardError);
        var invariant = Assert.Single(check.Invariants, i => i.Name == "killswitch.ipv6");
        Assert.True(invariant.Ok, invariant.Detail);
        Assert.Contains("IPv6 is not carried through the gateway", invariant.Detail, StringComparison.Ordinal);
        Assert.True(check.Ok, string.Join("; ", check.Invariants.Where(i => !i.Ok).Select(i => $"{i.Name}: {i.Detail}")));
    }

    [RootFact]
    public async Task WithoutTheBlock_Ipv6BypassesAndCheckFails_ApplyBlocksAgain_DownRestoresExactly()
    {
        var environment = RunningLab.ScriptEnvironment(Lab.State, Client);
        var script = Lab.State.HostScript(Client);
        // The tunnels come and go with apply and down (and get an IPv6 link-local of their own): left out.
        var ip6State = new[] { "sh", "-c", "ip -6 -o addr show | grep -v ' eg[0-9]'; ip -6 route show table all | grep -v ' dev eg[0-9]'; ip -6 rule show; nft list tables ip6" };
        try
        {
            // What a client has without the step (today's main): the same host, no table ip6 egress.
            await ClientRunner.RunOkAsync("nft", "delete", "table", "ip6", "egress");
            var withoutState = (await ClientRunner.RunOkAsync(ip6State)).StandardOutput;
            var ping = await ClientRunner.RunAsync(CommandSpec.Of("ping", "-6", "-c", "1", "-W", "3", LabIpv6.InternetAddress));
            var curl = await ClientRunner.RunAsync(CommandSpec.Of("curl", "-6", "-sS", "--max-time", "5", InternetUrl));
            var check = CheckReport.Parse((await ClientRunner.RunAsync(Lab.CheckCommand(Client))).StandardOutput);

            Assert.True(ping.Succeeded, "without the block, ping -6 should reach the lab's IPv6 internet: " + ping.StandardOutput + ping.StandardError);
            Assert.True(curl.Succeeded, "without the block, curl -6 should reach the lab's IPv6 internet: " + curl.StandardError);
            Assert.False(check.Ok);
            var failed = Assert.Single(check.Invariants, i => !i.Ok);
            Assert.Equal("killswitch.ipv6", failed.Name);
            Assert.Contains("IPv6 bypasses egress", failed.Detail, StringComparison.Ordinal);
            Assert.Contains("via fe80::1 dev eth0", failed.Detail, StringComparison.Ordinal);

            await ClientRunner.RunOkAsyncWith(environment, "sh", script, "apply");
            var blocked = await ClientRunner.RunAsync(CommandSpec.Of("ping", "-6", "-c", "1", "-W", "3", LabIpv6.InternetAddress));
            var again = CheckReport.Parse((await ClientRunner.RunAsync(Lab.CheckCommand(Client))).StandardOutput);
            Assert.False(blocked.Succeeded, "apply did not block IPv6 again");
            Assert.True(Assert.Single(again.Invariants, i => i.Name == "killswitch.ipv6").Ok);

            await ClientRunner.RunOkAsyncWith(environment, "sh", script, "down");
            var afterDown = (await ClientRunner.RunOkAsync(ip6State)).StandardOutput;
            // Every IPv6 address, route, rule and ip6 table is as it was without egress.
            Assert.Equal(withoutState, afterDown);
            Assert.DoesNotContain("ip6", afterDown, StringComparison.Ordinal);
        }
        finally
        {
            await ClientRunner.RunOkAsyncWith(environment, "sh", script, "apply");
        }
    }
}
