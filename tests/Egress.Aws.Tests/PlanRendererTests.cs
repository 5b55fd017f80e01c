using System.Runtime.CompilerServices;
using Egress.Aws.Model;
using Egress.Aws.Planning;

namespace Egress.Aws.Tests;

/// <summary>The plan text is compared with golden files beside this test (EGRESS_UPDATE_GOLDEN=1 rewrites them).</summary>
public sealed class PlanRendererTests
{
    private static void Verify(string name, string actual, [CallerFilePath] string here = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(here)!, "Golden", name);
        if (Environment.GetEnvironmentVariable("EGRESS_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
        }

        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), actual);
    }

    [Fact]
    public void Render_SeedOnEmptyAws_MatchesGolden()
    {
        var plan = Planner.Plan(TestTopologies.Desired(TestTopologies.Seed), new ObservedState("egress-seed", []));

        Verify("seed-create.plan.txt", PlanRenderer.Render(plan));
    }

    [Fact]
    public async Task Render_DriftAndRemovedHost_MatchesGolden()
    {
        var h = new Harness(TestTopologies.ThreeRegion);
        await h.ApplyAsync();
        var observed = await h.DiscoverAsync();
        var ec2 = h.Cloud.Ec2("ap-southeast-1");
        await ec2.DeleteRouteAsync(observed.Region("ap-southeast-1").RouteTables[0].Id, "10.1.0.0/16", CancellationToken.None);
        var seedOnly = TestTopologies.Seed with { Stack = "egress-three-region" };
        var desired = TestTopologies.Desired(seedOnly) with { Regions = h.Desired.Regions };

        var plan = await h.Provisioner.PlanAsync(desired, CancellationToken.None);
        var text = System.Text.RegularExpressions.Regex.Replace(PlanRenderer.Render(plan), "(vpc|subnet|igw|rtb|sg|pcx|i|eipalloc)-[0-9a-f]{17}", "$1-ID");

        Verify("drift-and-removed-host.plan.txt", text);
    }

    [Fact]
    public void Render_NoChanges_SaysSo()
    {
        var text = PlanRenderer.Render(new Plan("egress-seed", [], new Dictionary<ResourceAddress, string>()));

        Assert.Equal("No changes. AWS matches the topology for stack egress-seed.\n\nPlan: 0 to add, 0 to change, 0 to destroy.\n", text);
    }
}
