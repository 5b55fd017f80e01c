using Egress.Aws.Model;
using Egress.Aws.Ports;

namespace Egress.Aws.Tests;

/// <summary>Each failure names the action, the region and the fix, and nothing is half-applied where it can be avoided.</summary>
public sealed class ErrorTests
{
    [Fact]
    public async Task Apply_AccessDenied_NamesTheIamActionAndRegion()
    {
        var h = new Harness();
        h.Cloud.Options.DeniedActions.Add("RunInstances");

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(h.ApplyAsync);

        Assert.Equal(AwsErrorKind.AccessDenied, ex.Kind);
        Assert.Equal("RunInstances", ex.Action);
        Assert.Contains("ec2:RunInstances", ex.Fix, StringComparison.Ordinal);
        Assert.Contains(ex.Region, new[] { "ap-southeast-1", "ap-northeast-1" });
        Assert.False(ex.IsBadInput);
    }

    [Fact]
    public async Task Plan_NoCredentials_SaysHowToConfigureThem()
    {
        var h = new Harness();
        h.Cloud.Options.NoCredentials = true;

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(h.PlanAsync);

        Assert.Equal(AwsErrorKind.NoCredentials, ex.Kind);
        Assert.Contains("aws sso login --profile P", ex.Fix, StringComparison.Ordinal);
        Assert.Contains("no AWS credentials", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_VpcQuotaExhausted_SaysQuotaAndRegion()
    {
        var h = new Harness();
        h.Cloud.Options.VpcQuota = 0;

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(h.ApplyAsync);

        Assert.Equal(AwsErrorKind.QuotaExceeded, ex.Kind);
        Assert.Equal("CreateVpc", ex.Action);
        Assert.Contains("Service Quotas for " + ex.Region, ex.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_OneRegionFails_ReportsThatRegionsErrorAndARerunFinishes()
    {
        var h = new Harness();
        h.Cloud.Options.VpcQuota = 1;
        await h.Cloud.Ec2("ap-northeast-1").CreateVpcAsync("172.16.0.0/16", new Dictionary<string, string>(), CancellationToken.None);

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(h.ApplyAsync);
        h.Cloud.Options.VpcQuota = 5;
        var left = await h.ApplyAsync();

        Assert.Equal(AwsErrorKind.QuotaExceeded, ex.Kind);
        Assert.Equal("ap-northeast-1", ex.Region);
        Assert.True(left.IsEmpty);
    }

    [Fact]
    public async Task Apply_AmiParameterMissing_FailsBeforeAnyChange()
    {
        var h = new Harness();
        h.Cloud.Parameters.Remove(("ap-northeast-1", AmiSource.ParameterFor(Core.Topology.CpuArchitecture.Amd64)));

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(h.ApplyAsync);

        Assert.Equal(AwsErrorKind.AmiParameterMissing, ex.Kind);
        Assert.Equal("ap-northeast-1", ex.Region);
        Assert.Contains("ami:", ex.Fix, StringComparison.Ordinal);
        Assert.True(ex.IsBadInput);
        Assert.Equal(0, h.Cloud.MutatingCalls);
    }

    [Fact]
    public async Task Apply_ExplicitAmi_SkipsTheParameter()
    {
        var seed = TestTopologies.Seed;
        var topology = seed with
        {
            Regions = [.. seed.Regions.Select(r => r with { Hosts = [.. r.Hosts.Select(x => x with { Ami = "ami-0123456789abcdef0" })] })],
        };
        var h = new Harness(topology);
        h.Cloud.Parameters.Clear();

        Assert.True((await h.ApplyAsync()).IsEmpty);
        var instance = (await h.DiscoverAsync()).Region("ap-southeast-1").Instances[0];
        Assert.Equal("ami-0123456789abcdef0", instance.ImageId);
        Assert.False(h.Cloud.Calls.ContainsKey("GetParameter"));
    }

    [Fact]
    public async Task Apply_CidrConflictWithAnExistingPeering_SaysWhichKeyToChange()
    {
        var h = new Harness();
        // Build the stack, lose its peering, and let someone peer a Sydney VPC with Singapore's CIDR to our Tokyo VPC:
        // the stack's new peering can no longer be accepted.
        await h.ApplyAsync();
        var observed = await h.DiscoverAsync();
        var tokyoVpc = observed.Region("ap-northeast-1").Vpcs[0].Id;
        var ct = CancellationToken.None;
        await h.Cloud.Ec2("ap-southeast-1").DeletePeeringAsync(observed.Region("ap-southeast-1").Peerings[0].Id, ct);
        var sydney = h.Cloud.Ec2("ap-southeast-2");
        var other = await sydney.CreateVpcAsync("10.0.0.0/16", new Dictionary<string, string>(), ct);
        var pcx = await sydney.CreatePeeringAsync(other, tokyoVpc, "ap-northeast-1", new Dictionary<string, string>(), ct);
        await h.Cloud.Ec2("ap-northeast-1").AcceptPeeringAsync(pcx, ct);
        await sydney.DescribePeeringAsync(pcx, ct);
        await sydney.DescribePeeringAsync(pcx, ct);

        var ex = await Assert.ThrowsAsync<AwsProvisionException>(h.ApplyAsync);

        Assert.Equal(AwsErrorKind.CidrConflict, ex.Kind);
        Assert.Equal("AcceptVpcPeeringConnection", ex.Action);
        Assert.Equal("ap-northeast-1", ex.Region);
        Assert.Contains("'vpc:'", ex.Fix, StringComparison.Ordinal);
        Assert.True(ex.IsBadInput);
    }

    [Fact]
    public void Map_OtherCode_KeepsCodeAndSaysToRerun()
    {
        var ex = Execution.AwsErrors.Map(new AwsApiException("InternalError", "boom", "CreateVpc", "eu-west-1"));

        Assert.Equal(AwsErrorKind.Other, ex.Kind);
        Assert.Equal("CreateVpc in eu-west-1 failed: InternalError: boom. Fix: AWS kept failing after retries; run the same command again (it resumes)", ex.Message);
    }
}
