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
            var report = await LabVerifier.RunAsync(lab);

            Assert.True(report.Passed, string.Join("\n", report.Checks.Select(c => $"{c.Name} {c.Host} {c.Ok} {c.Detail}")));
            Assert.Equal(["sg-client", "syd-client"], report.Checks.Where(c => c.Name == "egress.ip-echo").Select(c => c.Host).Order());
            Assert.All(report.Checks.Where(c => c.Name == "path.first-hop"), c => Assert.Matches("192\\.168\\.250\\.[15]", c.Detail));
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
                var broken = await first.RunnerFor("sg-client").RunAsync(new Host.Execution.CommandSpec("curl", ["-sS", "--max-time", "3", "https://ipinfo.io/json"]));
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
        var lab = await LabTestSupport.UpAsync(Examples.Load(Examples.Seed) with { Verify = new VerifySettings { Criteria = new VerifyCriteria { Rounds = 1 } } }, naive: true);
        try
        {
            var report = await LabVerifier.RunAsync(lab);

            Assert.False(report.Passed);
            Assert.Contains(report.Checks, c => c.Name == "egress.ip-echo" && !c.Ok);
            Assert.True(report.Counters.PeeringDrops["ap-southeast-1"] > 0);
            Assert.Contains(report.Checks, c => c is { Name: "host.check", Host: "sg-client", Ok: false }); // written, not applied
            Assert.Contains(report.Checks, c => c is { Name: LabCounterChecks.PeeringDrops, Host: "ap-southeast-1", Ok: false } && c.Detail.Contains("edge-to-edge", StringComparison.Ordinal));
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
        var links = await Host.Execution.ProcessRunner.Instance.RunOkAsync("ip", "-o", "link", "show");
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
