using System.Security.Cryptography.X509Certificates;
using Egress.Core.Topology;
using Egress.Lab.Services;
using Egress.Lab.World;

namespace Egress.Lab.Tests;

public sealed class LabNamesTests
{
    [Theory]
    [InlineData("egress-seed", "seed")]
    [InlineData("egress-three-region", "threeregion")]
    [InlineData("My_Stack.Prod-2026-with-a-long-name", "mystackprod2")]
    [InlineData("---", "lab")]
    public void IdFromStack_StackName_ShortLowerCaseId(string stack, string id)
    {
        Assert.Equal(id, LabNames.IdFromStack(stack));
        Assert.True(LabNames.IsValidId(LabNames.IdFromStack(stack)));
    }

    [Fact]
    public void RandomId_TestLetter_IsValidAndDistinct()
    {
        var ids = Enumerable.Range(0, 20).Select(_ => LabNames.RandomId('t')).ToList();

        Assert.All(ids, id => Assert.Matches("^t[0-9a-f]{6}$", id));
        Assert.True(ids.Distinct().Count() > 15);
    }
}

public sealed class KernelFeaturesTests
{
    [Theory]
    [InlineData(OverlayMode.Ipip, false, OverlayMode.Vxlan, "this kernel cannot create an ipip link")]
    [InlineData(OverlayMode.Ipip, true, OverlayMode.Ipip, "as the topology says")]
    [InlineData(OverlayMode.Auto, false, OverlayMode.Vxlan, "overlay auto")]
    [InlineData(OverlayMode.Auto, true, OverlayMode.Ipip, "overlay auto")]
    [InlineData(OverlayMode.Vxlan, true, OverlayMode.Vxlan, "as the topology says")]
    public void ResolveOverlay_KernelWithOrWithoutIpip_ChoosesAndSaysWhy(OverlayMode requested, bool ipip, OverlayMode expected, string note)
    {
        var (mode, text) = new KernelFeatures(ipip, Gre: false, Netem: false).ResolveOverlay(requested);

        Assert.Equal(expected, mode);
        Assert.Contains(note, text, StringComparison.Ordinal);
    }

    [Fact]
    public void LatencyNote_NoNetem_SaysEmulationIsOff() =>
        Assert.Equal("latency emulation: off (kernel has no netem)", new KernelFeatures(false, false, false).LatencyNote(topologyHasLatency: true));
}

public sealed class LabServicesTests
{
    private static readonly LabWorldPlan Plan = LabWorldPlanner.Plan(Examples.Load(Examples.Seed), "seed", OverlayMode.Vxlan);

    [Fact]
    public void Echo_TokyoPublicAddress_TokyoJapanAmazon() =>
        Assert.Equal(new LabServices.IpEchoAnswer("198.51.100.74", "Tokyo", "Tokyo", "JP", "AS16509 Amazon.com, Inc."), LabServices.Echo(Plan, "198.51.100.74"));

    [Fact]
    public void Echo_SingaporePublicAddress_Singapore() =>
        Assert.Equal("SG", LabServices.Echo(Plan, "198.51.100.10").Country);

    [Fact]
    public void Echo_AddressOutsideTheTable_NoLocation() =>
        Assert.Equal(new LabServices.IpEchoAnswer("10.0.1.10", "", "", "", ""), LabServices.Echo(Plan, "10.0.1.10"));

    [Fact]
    public void Create_ServiceNames_LeafChainsToTheLabCaWithEveryName()
    {
        var certificates = LabCertificates.Create(["api.binance.com", "ipinfo.io"], [System.Net.IPAddress.Parse("192.0.2.10")], "seed", TimeProvider.System);
        using var ca = X509Certificate2.CreateFromPem(certificates.CaPem);
        using var leaf = X509Certificate2.CreateFromPem(certificates.LeafPem);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;

        Assert.True(chain.Build(leaf), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.True(leaf.MatchesHostname("api.binance.com"));
        Assert.True(leaf.MatchesHostname("ipinfo.io"));
        Assert.False(leaf.MatchesHostname("example.com"));
    }
}

public sealed class LabManifestTests
{
    [Fact]
    public void FromJson_RoundTrip_ReplansTheSameWorld()
    {
        var topology = Examples.Load(Examples.ThreeRegion);
        var manifest = new LabManifest
        {
            Id = "t123456",
            Topology = TopologyWriter.ToYaml(topology),
            Naive = false,
            Overlay = OverlayMode.Vxlan,
            OverlayNote = "vxlan",
            LatencyEmulated = false,
            LatencyNote = "latency emulation: off (kernel has no netem)",
            Created = DateTimeOffset.UnixEpoch,
            ResolverDelays = new Dictionary<string, int> { ["ap-southeast-2"] = 300 },
        };

        var back = LabManifest.FromJson(manifest.ToJson());

        // The resolver delays are a dictionary (no value equality in a record): compared by content.
        Assert.Equal(manifest.ResolverDelays, back.ResolverDelays);
        Assert.Equal(manifest with { ResolverDelays = back.ResolverDelays }, back);
        Assert.Equal(LabWorldPlanner.Plan(topology, "t123456", OverlayMode.Vxlan).Describe(), back.Plan().Describe());
    }
}

public sealed class LabControllerNamesTests
{
    [Theory]
    [InlineData("egl-seed-host-sg-client", "seed")]
    [InlineData("egl-t0a1b2c-internet", "t0a1b2c")]
    [InlineData("egl-r1-probe", "r1")]
    [InlineData("egl-Bad-internet", null)]
    [InlineData("eglx-seed-internet", null)]
    [InlineData("egh-t123456-client", null)]
    public void IdOf_NamespaceName_TheLabIdOrNull(string ns, string? id) =>
        Assert.Equal(id, LabController.IdOf(ns));
}
