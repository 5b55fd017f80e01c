using Egress.Aws;
using Egress.Aws.Model;
using Egress.Aws.Ports;
using Egress.Aws.Testing;
using Egress.Core.Topology;

namespace Egress.Doctor.Tests;

/// <summary>Against the fake AWS (which enforces AWS's rules): a converged seed stack has no finding; each fault made
/// through EC2's own API afterwards is diagnosed as the only finding, with a fix.</summary>
public sealed class AwsFindingsTests
{
    private static readonly TopologyModel Seed = Examples.Load(Examples.Seed);

    [Fact]
    public async Task ConvergedStack_NoFinding_EveryResourceOnThePathChecked()
    {
        var stack = await Stack.ApplyAsync();

        var checks = AwsFindings.Judge(Seed, stack.Desired, await stack.DiscoverAsync());

        Assert.DoesNotContain(checks, c => c.Status == DoctorStatus.Finding);
        foreach (var id in new[] { "instance.running", "instance.source-dest-check", "peering.active", "route.to-peering", "route.to-internet", "security-group.rule", "elastic-ip.associated" })
        {
            Assert.Contains(checks, c => c.Id == id);
        }
    }

    [Fact]
    public async Task PeeringPendingAcceptance_IsTheOnlyFinding_AndTheFixAccepts()
    {
        var stack = await Stack.ApplyAsync();
        var observed = await stack.DiscoverAsync();
        // A peering that was requested and never accepted (the accepter region's side was not done): as AWS reports it.
        var pending = observed with
        {
            Regions = [.. observed.Regions.Select(r => r with { Peerings = [.. r.Peerings.Select(p => p with { Status = PeeringStates.PendingAcceptance })] })],
        };

        var finding = Only(AwsFindings.Judge(Seed, stack.Desired, pending));

        Assert.Equal("peering.active", finding.Id);
        Assert.Contains("pending-acceptance", finding.Seen, StringComparison.Ordinal);
        Assert.Contains("accept-vpc-peering-connection --region ap-northeast-1", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PeeringRouteDeleted_IsTheOnlyFinding()
    {
        var stack = await Stack.ApplyAsync();
        var observed = await stack.DiscoverAsync();
        var client = observed.Region("ap-southeast-1");
        var table = client.RouteTables.Single(t => t.Routes.Any(r => r.Target.StartsWith("pcx-", StringComparison.Ordinal)));
        var route = table.Routes.Single(r => r.Target.StartsWith("pcx-", StringComparison.Ordinal));
        await stack.Ec2("ap-southeast-1").DeleteRouteAsync(table.Id, route.Destination, CancellationToken.None);

        var finding = Only(AwsFindings.Judge(Seed, stack.Desired, await stack.DiscoverAsync()));

        Assert.Equal("route.to-peering", finding.Id);
        Assert.Contains($"no route for {route.Destination}", finding.Seen, StringComparison.Ordinal);
        Assert.Equal(FixedBy.EgressApply, finding.FixedBy);
    }

    [Fact]
    public async Task SourceDestCheckOnTheGateway_IsTheOnlyFinding()
    {
        var stack = await Stack.ApplyAsync();
        var gateway = (await stack.DiscoverAsync()).Region("ap-northeast-1").Instances.Single();
        await stack.Ec2("ap-northeast-1").SetSourceDestCheckAsync(gateway.Id, enabled: true, CancellationToken.None);

        var finding = Only(AwsFindings.Judge(Seed, stack.Desired, await stack.DiscoverAsync()));

        Assert.Equal(("instance.source-dest-check", "tokyo-nat"), (finding.Id, finding.Host));
        Assert.Contains("--no-source-dest-check", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TunnelRuleRevoked_IsTheOnlyFinding()
    {
        var stack = await Stack.ApplyAsync();
        var group = (await stack.DiscoverAsync()).Region("ap-northeast-1").SecurityGroups.Single(g => g.Ingress.Count > 0);
        var tunnel = DesiredStateBuilder.TunnelRule(OverlayMode.Ipip, "10.0.1.10/32");
        Assert.Contains(tunnel, group.Ingress);
        await stack.Ec2("ap-northeast-1").RevokeIngressAsync(group.Id, [tunnel], CancellationToken.None);

        var finding = Only(AwsFindings.Judge(Seed, stack.Desired, await stack.DiscoverAsync()));

        Assert.Equal("security-group.rule", finding.Id);
        Assert.Contains(tunnel.ToString(), finding.Expected, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ElasticIpDisassociated_IsTheOnlyFinding()
    {
        var stack = await Stack.ApplyAsync();
        var address = (await stack.DiscoverAsync()).Region("ap-northeast-1").Addresses.Single();
        await stack.Ec2("ap-northeast-1").DisassociateAddressAsync(address.AssociationId!, CancellationToken.None);

        var finding = Only(AwsFindings.Judge(Seed, stack.Desired, await stack.DiscoverAsync()));

        Assert.Equal(("elastic-ip.associated", "tokyo-nat"), (finding.Id, finding.Host));
        Assert.Contains("not associated", finding.Seen, StringComparison.Ordinal);
    }

    private static DoctorCheck Only(IReadOnlyList<DoctorCheck> checks)
    {
        var findings = checks.Where(c => c.Status == DoctorStatus.Finding).ToList();
        Assert.True(findings.Count == 1, "findings: " + string.Join("; ", findings.Select(f => $"{f.Id} {f.Seen}")));
        Assert.NotNull(findings[0].Fix);
        return findings[0];
    }

    /// <summary>The seed stack applied on a fake AWS with an instant clock.</summary>
    private sealed class Stack
    {
        private readonly FakeAwsCloud _cloud = new();
        private readonly AwsProvisioner _provisioner;

        private Stack()
        {
            _provisioner = new AwsProvisioner(_cloud, new InstantTimeProvider(), null);
            Desired = DesiredStateBuilder.Build(Seed, (t, h) => $"#cloud-config\n# egress {t.Stack} {h}\n");
        }

        public DesiredState Desired { get; }

        public static async Task<Stack> ApplyAsync()
        {
            var stack = new Stack();
            var left = await stack._provisioner.ApplyAsync(stack.Desired, await stack._provisioner.PlanAsync(stack.Desired, CancellationToken.None), CancellationToken.None);
            Assert.True(left.IsEmpty, "the seed stack did not converge on the fake");
            return stack;
        }

        public IEc2Port Ec2(string region) => _cloud.Ec2(region);

        public Task<ObservedState> DiscoverAsync() => _provisioner.DiscoverAsync(Seed.Stack, AwsProvisioner.RegionsOf(Seed), CancellationToken.None);
    }
}
