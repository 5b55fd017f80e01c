using Egress.Aws.Model;
using Amazon.Runtime;
using Egress.Aws.Sdk;

namespace Egress.Aws.Tests;

/// <summary>Runs only when EGRESS_TEST_AWS_ENDPOINT names an EC2 emulator on 127.0.0.1; skipped with that reason otherwise.</summary>
public sealed class EndpointFactAttribute : FactAttribute
{
    public const string Variable = "EGRESS_TEST_AWS_ENDPOINT";

    public EndpointFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
        {
            Skip = $"{Variable} is not set: the SDK adapter tests against an EC2 emulator did NOT run (set it to e.g. http://127.0.0.1:4566).";
        }
    }
}

public sealed class SdkAdapterTests
{
    private static readonly BasicAWSCredentials TestKeys = new("test", "test");

    /// <summary>The emulator's URL; refuses anything but 127.0.0.1 so a test can never reach real AWS.</summary>
    private static Uri Endpoint()
    {
        var uri = new Uri(Environment.GetEnvironmentVariable(EndpointFactAttribute.Variable)!);
        Assert.True(uri.Host == "127.0.0.1", $"{EndpointFactAttribute.Variable} must point at 127.0.0.1, not {uri.Host}: these tests never contact AWS.");
        return uri;
    }

    [Fact]
    public void Ec2_WithEndpoint_SetsServiceUrlAndSignsForTheRegion()
    {
        using var ports = new SdkAwsPorts(new AwsConnection { EndpointUrl = new Uri("http://127.0.0.1:4566"), Credentials = TestKeys });

        var client = ((SdkEc2Port)ports.Ec2("ap-northeast-1")).Client;

        Assert.Equal("http://127.0.0.1:4566/", client.Config.ServiceURL);
        Assert.Equal("ap-northeast-1", client.Config.AuthenticationRegion);
    }

    [Fact]
    public void Ec2_WithoutEndpoint_UsesTheRegionEndpoint()
    {
        using var ports = new SdkAwsPorts(new AwsConnection { Credentials = TestKeys });

        var client = ((SdkEc2Port)ports.Ec2("ap-southeast-1")).Client;

        Assert.Equal("ap-southeast-1", client.Config.RegionEndpoint?.SystemName);
        Assert.Null(client.Config.ServiceURL);
    }

    [Fact]
    public void Profile_Unknown_SaysHowToCreateIt()
    {
        using var ports = new SdkAwsPorts(new AwsConnection { Profile = "egress-test-no-such-profile-" + Guid.NewGuid().ToString("N") });

        var ex = Assert.Throws<AwsProvisionException>(() => ports.Ec2("ap-southeast-1"));

        Assert.Equal(AwsErrorKind.NoCredentials, ex.Kind);
        Assert.Contains("aws configure --profile", ex.Fix, StringComparison.Ordinal);
    }

    [EndpointFact]
    public async Task Emulator_VpcRoundTrip_TaggedAndDiscovered()
    {
        using var ports = new SdkAwsPorts(new AwsConnection { EndpointUrl = Endpoint(), Credentials = TestKeys });
        var ec2 = ports.Ec2("ap-southeast-1");
        var stack = "egress-adapter-" + Guid.NewGuid().ToString("N")[..8];
        var tags = StackTags.For(stack, new ResourceAddress("ap-southeast-1", ResourceKind.Vpc, "main"));

        var id = await ec2.CreateVpcAsync("10.42.0.0/16", tags, CancellationToken.None);
        try
        {
            await ec2.SetVpcDnsHostnamesAsync(id, true, CancellationToken.None);
            var found = Assert.Single(await ec2.DescribeVpcsAsync(stack, CancellationToken.None));
            Assert.Equal(id, found.Id);
            Assert.Equal("10.42.0.0/16", found.Cidr);
            Assert.Equal("vpc/main", found.Component);
            Assert.True(found.DnsHostnames);
        }
        finally
        {
            await ec2.DeleteVpcAsync(id, CancellationToken.None);
        }

        Assert.Empty(await ec2.DescribeVpcsAsync(stack, CancellationToken.None));
    }

    [EndpointFact]
    public async Task Emulator_SeedApplyPlanDestroy_Converges()
    {
        using var ports = new SdkAwsPorts(new AwsConnection { EndpointUrl = Endpoint(), Credentials = TestKeys });
        var topology = WithAmi(TestTopologies.Seed) with { Stack = "egress-adapter-" + Guid.NewGuid().ToString("N")[..8] };
        var desired = TestTopologies.Desired(topology);
        var provisioner = new AwsProvisioner(ports, TimeProvider.System);

        try
        {
            var left = await provisioner.ApplyAsync(desired, await provisioner.PlanAsync(desired, CancellationToken.None), CancellationToken.None);
            Assert.True(left.IsEmpty, string.Join("\n", left.Steps.Select(s => $"{s.Symbol} {s.Resource}: {s.Reason} {string.Join(", ", s.Changes)}")));
        }
        finally
        {
            var gone = await provisioner.DestroyAsync(topology, await provisioner.PlanDestroyAsync(topology, CancellationToken.None), CancellationToken.None);
            Assert.True(gone.IsEmpty);
        }
    }

    /// <summary>moto has no Canonical SSM parameter: every host gets an AMI moto knows.</summary>
    internal static Egress.Core.Topology.TopologyModel WithAmi(Egress.Core.Topology.TopologyModel topology) => topology with
    {
        Regions = [.. topology.Regions.Select(r => r with { Hosts = [.. r.Hosts.Select(h => h with { Ami = "ami-1e749f67" })] })],
    };
}
