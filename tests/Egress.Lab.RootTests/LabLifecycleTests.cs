using Egress.Core.Topology;
using Egress.Tests.Shared;

namespace Egress.Lab.RootTests;

/// <summary>Labs of their own: the three-region example, the naive design, and what `down` leaves behind.</summary>
public sealed class LabLifecycleTests
{
    [RootFact]
    public async Task ThreeRegion_BothClients_EgressFromTokyo()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.ThreeRegion));
        try
        {
            var report = await LabTestSupport.VerifyAsync(lab, rounds: 1);

            Assert.True(report.Passed, LabTestSupport.Describe(report));
            Assert.Equal(["sg-client", "syd-client"], report.Egress.Select(e => e.Client).Order());
            Assert.All(report.Egress, e => Assert.Equal("198.51.100.138", e.Observed?.Ip));
            Assert.Equal(["192.168.250.1", "192.168.250.5"], report.Paths.Select(p => p.Trace.Hops[0].Address).Distinct().Order());
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    [RootFact]
    public async Task TwoLabs_SameTopologyAtOnce_EachEgressesThroughItsOwnWorld()
    {
        LabTestSupport.RequirePrerequisites();
        var topology = Examples.Load(Examples.Seed);
        var first = await LabTestSupport.UpAsync(topology);
        try
        {
            var second = await LabTestSupport.UpAsync(topology);
            try
            {
                // Stop the first lab's gateway NAT: only the first lab's egress may break.
                await first.RunnerFor("tokyo-nat").RunOkAsync("nft", "delete", "table", "ip", "egress");
                var broken = await first.RunnerFor("sg-client").RunAsync(new Processes.CommandSpec("curl", ["-sS", "--max-time", "3", "https://ipinfo.io/json"]));
                var working = await second.RunnerFor("sg-client").RunOkAsync("curl", "-sS", "--max-time", "5", "https://ipinfo.io/json");

                Assert.NotEqual(first.Id, second.Id);
                Assert.False(broken.Succeeded && broken.StandardOutput.Contains("198.51.100.74", StringComparison.Ordinal));
                Assert.Contains("\"city\":\"Tokyo\"", working.StandardOutput, StringComparison.Ordinal);
            }
            finally
            {
                await LabController.Default.DownAsync(second.Id);
            }
        }
        finally
        {
            await LabController.Default.DownAsync(first.Id);
        }
    }

    [RootFact]
    public async Task Naive_SeedDesign_FailsBecauseThePeeringDropsEdgeToEdgePackets()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed), naive: true);
        try
        {
            var report = await LabTestSupport.VerifyAsync(lab, rounds: 1);
            var failed = report.Failures.ToList();

            Assert.False(report.Passed);
            Assert.Contains(failed, c => c.Id == "egress.ip" && c.Host == "sg-client");
            Assert.Contains(failed, c => c.Id == "connectivity.host-check" && c.Host == "sg-client"); // written, not applied
            Assert.Contains(failed, c => c.Id == "lab." + LabCounterChecks.PeeringDrops && c.Host == "ap-southeast-1" && c.Detail.Contains("edge-to-edge", StringComparison.Ordinal));
            Assert.True((await LabStatusCollector.CountersAsync(lab)).PeeringDrops["ap-southeast-1"] > 0);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }

    [RootFact]
    public async Task Down_AfterUp_LeavesNoNamespaceVethEtcEntryProcessOrState()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed));
        var pid = lab.ServicesPid;
        Assert.NotNull(pid);

        var first = await LabController.Default.DownAsync(lab.Id);
        var second = await LabController.Default.DownAsync(lab.Id);

        Assert.Equal(5, first.Namespaces.Count);
        Assert.False(second.WasUp); // idempotent
        Assert.Empty(await LabController.Default.ExistingNamespacesAsync(lab.Id));
        Assert.Empty(Directory.GetDirectories(LabNames.NetnsEtc, LabNames.NamespacePrefix(lab.Id) + "*"));
        Assert.False(Directory.Exists(lab.State.Path));
        Assert.False(LabController.IsAlive(pid.Value)); // exited (at most a zombie awaiting init)
        var links = await Processes.ProcessRunner.Instance.RunOkAsync("ip", "-o", "link", "show");
        Assert.DoesNotContain("link-netns " + LabNames.NamespacePrefix(lab.Id), links.StandardOutput, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Up_SameIdTwice_RefusesWithoutTouchingTheFirstLab()
    {
        LabTestSupport.RequirePrerequisites();
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed), naive: true);
        try
        {
            var error = await Assert.ThrowsAsync<LabException>(() => LabTestSupport.UpAsync(Examples.Load(Examples.Seed), naive: true, id: lab.Id));

            Assert.Contains("already up", error.Message, StringComparison.Ordinal);
            Assert.Equal(5, (await LabController.Default.ExistingNamespacesAsync(lab.Id)).Count);
            Assert.NotNull(lab.ServicesPid);
        }
        finally
        {
            await LabController.Default.DownAsync(lab.Id);
        }
    }
}
