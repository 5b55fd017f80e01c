using System.Text.Json;
using Egress.Aws.Execution;
using Egress.Aws.Model;
using Egress.Aws.Planning;
using Egress.Aws.Ports;

namespace Egress.Aws.Tests;

/// <summary>The plan is what apply does: for every resource kind, created, updated in place, replaced and deleted, the
/// executor makes exactly the mutating calls the plan's operations list (region and AWS action, as the fake recorded them),
/// and nothing else; and the plan as data carries values, not sentences.</summary>
public sealed class PlanOperationsTests
{
    private const string KeyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEYA you@laptop";
    private const string KeyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEYB you@laptop";

    private readonly HashSet<(ResourceKind Kind, PlanAction Action)> _covered = [];

    /// <summary>Runs the plan with the executor alone (no re-plan) and compares the fake's mutating calls with the plan's.</summary>
    private async Task ApplyExactly(Harness h, Plan plan)
    {
        Assert.False(plan.IsEmpty);
        h.Cloud.ResetCounters();

        await new Executor(h.Cloud, h.Clock, new RetryPolicy(h.Clock)).ApplyAsync(plan, CancellationToken.None);

        var planned = plan.Steps.SelectMany(s => s.AllOperations).Where(o => o.Mutates).Select(o => $"{o.Region} {o.Action}").Order(StringComparer.Ordinal);
        var made = h.Cloud.MutationLog.Select(c => $"{c.Region} {c.Action}").Order(StringComparer.Ordinal);
        Assert.Equal(planned, made);
        Assert.All(plan.Steps, s => Assert.True(s.AllOperations.Any(o => o.Mutates), $"{s.Resource} is planned without an operation"));
        foreach (var step in plan.Steps)
        {
            _covered.Add((step.Resource.Kind, step.Action));
        }

        // The plan's JSON (source-generated, as the shipped build writes it) holds every operation with its action.
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(PlanRenderer.ToData(plan, versioned: true), AwsJson.Egress.PlanDocument));
        Assert.Equal(1, json.RootElement.GetProperty("schemaVersion").GetInt32());
        var written = json.RootElement.GetProperty("changes").EnumerateArray()
            .SelectMany(c => c.GetProperty("teardown").EnumerateArray().Concat(c.GetProperty("operations").EnumerateArray()))
            .Select(o => o.GetProperty("action").GetString());
        Assert.Equal(plan.Steps.SelectMany(s => s.AllOperations).Select(o => o.Action), written);
    }

    [Fact]
    public void AwsOperation_EveryOperationType_IsWrittenInThePlansJson()
    {
        var operations = typeof(AwsOperation).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(AwsOperation)) && !t.IsAbstract);
        var registered = typeof(AwsOperation).GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonDerivedTypeAttribute), inherit: false)
            .Cast<System.Text.Json.Serialization.JsonDerivedTypeAttribute>().Select(a => a.DerivedType);

        Assert.Empty(operations.Except(registered));
    }

    [Fact]
    public async Task Apply_EveryKindCreatedUpdatedReplacedDeleted_MakesExactlyThePlannedCalls()
    {
        var h = new Harness(options: new ProvisionOptions { SshPublicKey = KeyA });

        // Create: every kind, from nothing.
        await ApplyExactly(h, await h.PlanAsync());
        Assert.True((await h.PlanAsync()).IsEmpty);

        // Update in place: drift in each kind that has something to update.
        var observed = await h.DiscoverAsync();
        var sg = observed.Region("ap-southeast-1");
        var tokyo = observed.Region("ap-northeast-1");
        var sgEc2 = h.Cloud.Ec2("ap-southeast-1");
        var tokyoEc2 = h.Cloud.Ec2("ap-northeast-1");
        await sgEc2.SetVpcDnsHostnamesAsync(sg.Vpcs[0].Id, false, CancellationToken.None);
        h.Cloud.Gateways.Single(g => g.Region == "ap-southeast-1").VpcId = null; // detached behind egress's back
        await sgEc2.DisassociateRouteTableAsync(sg.RouteTables[0].Associations.Single(a => !a.Main).AssociationId, CancellationToken.None);
        await tokyoEc2.RevokeIngressAsync(tokyo.SecurityGroups[0].Id, [.. tokyo.SecurityGroups[0].Ingress], CancellationToken.None);
        await tokyoEc2.AuthorizeIngressAsync(tokyo.SecurityGroups[0].Id, [new SecurityGroupRule("4", -1, -1, "10.0.0.0/16")], CancellationToken.None);
        h.Cloud.Peerings.Single().AccepterDns = false;
        await tokyoEc2.ReplaceRouteAsync(tokyo.RouteTables[0].Id, "10.0.0.0/16", RouteTarget.Gateway(tokyo.InternetGateways[0].Id), CancellationToken.None);
        await tokyoEc2.SetSourceDestCheckAsync(tokyo.Instances[0].Id, true, CancellationToken.None);
        await tokyoEc2.DisassociateAddressAsync(tokyo.Addresses[0].AssociationId!, CancellationToken.None);
        var updates = await h.PlanAsync();
        Assert.All(updates.Steps, s => Assert.Equal(PlanAction.Update, s.Action));
        await ApplyExactly(h, updates);
        Assert.True((await h.PlanAsync()).IsEmpty);

        // Replace: a new key pair (and so new hosts), and a gateway region whose VPC moved (everything in it, and the peering).
        var moved = h.Topology with
        {
            Regions = [.. h.Topology.Regions.Select(r => r.Name != "ap-northeast-1" ? r : r with
            {
                Vpc = Core.Net.Ipv4Cidr.Parse("10.5.0.0/16"),
                Subnets = [.. r.Subnets.Select(s => s with { Cidr = Core.Net.Ipv4Cidr.Parse("10.5.1.0/24") })],
                Hosts = [.. r.Hosts.Select(x => x with { PrivateIp = Core.Net.Ipv4Address.Parse("10.5.1.10") })],
            })],
        };
        var desired = TestTopologies.Desired(moved, new ProvisionOptions { SshPublicKey = KeyB });
        await ApplyExactly(h, await h.Provisioner.PlanAsync(desired, CancellationToken.None));
        Assert.True((await h.Provisioner.PlanAsync(desired, CancellationToken.None)).IsEmpty);

        // Delete: every kind.
        await ApplyExactly(h, await h.Provisioner.PlanDestroyAsync(h.Topology, CancellationToken.None));
        Assert.Empty(h.Cloud.LiveResources());

        var kinds = Enum.GetValues<ResourceKind>();
        Assert.Equal(kinds, kinds.Where(k => _covered.Contains((k, PlanAction.Create))));
        Assert.Equal(kinds, kinds.Where(k => _covered.Contains((k, PlanAction.Delete))));
        Assert.Equal(kinds.Except([ResourceKind.KeyPair, ResourceKind.Subnet]), kinds.Where(k => _covered.Contains((k, PlanAction.Update))));
        Assert.Equal(kinds.Except([ResourceKind.Route, ResourceKind.ElasticIp]), kinds.Where(k => _covered.Contains((k, PlanAction.Replace))));
    }

    [Fact]
    public async Task Plan_AsData_CarriesActionAddressAndValuesBeforeAndAfter()
    {
        var h = new Harness();
        await h.ApplyAsync();
        var group = (await h.DiscoverAsync()).Region("ap-northeast-1").SecurityGroups[0];
        await h.Cloud.Ec2("ap-northeast-1").AuthorizeIngressAsync(group.Id, [new SecurityGroupRule("tcp", 22, 22, "0.0.0.0/0")], CancellationToken.None);
        var plan = await h.PlanAsync();

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(PlanRenderer.ToData(plan), AwsJson.Egress.PlanDocument));

        var change = Assert.Single(json.RootElement.GetProperty("changes").EnumerateArray());
        Assert.Equal("update", change.GetProperty("action").GetString());
        Assert.Equal("ap-northeast-1:security-group/tokyo-nat", change.GetProperty("address").GetString());
        Assert.Equal(group.Id, change.GetProperty("before").GetProperty("id").GetString());
        Assert.Equal(2, change.GetProperty("before").GetProperty("ingress").GetArrayLength());
        var after = Assert.Single(change.GetProperty("after").GetProperty("ingress").EnumerateArray());
        Assert.Equal("4", after.GetProperty("protocol").GetString());
        Assert.Equal("10.0.1.10/32", after.GetProperty("cidr").GetString());
        var operation = Assert.Single(change.GetProperty("operations").EnumerateArray());
        Assert.Equal("RevokeSecurityGroupIngress", operation.GetProperty("action").GetString());
        Assert.Equal(group.Id, operation.GetProperty("group").GetString());
        Assert.Equal(22, Assert.Single(operation.GetProperty("rules").EnumerateArray()).GetProperty("fromPort").GetInt32());
    }

    [Fact]
    public void Plan_OnEmptyAws_RefersToWhatApplyCreatesAsKnownAfterApply()
    {
        var plan = Planner.Plan(TestTopologies.Desired(TestTopologies.Seed), new ObservedState("egress-seed", []));

        var subnet = plan.Steps.Single(s => s.Resource.ToString() == "ap-northeast-1:subnet/public-a");
        var create = Assert.IsType<CreateSubnet>(Assert.Single(subnet.Operations));
        Assert.Equal(new ResourceAddress("ap-northeast-1", ResourceKind.Vpc, "main"), create.Vpc.Address);
        Assert.Null(create.Vpc.Id);
        Assert.Equal("ap-northeast-1:vpc/main (known after apply)", subnet.After!["vpc"]);
        Assert.Null(subnet.Before);
        var gateway = plan.Steps.Single(s => s.Resource.ToString() == "ap-northeast-1:instance/tokyo-nat");
        Assert.Equal(["RunInstances", "ModifyInstanceAttribute"], gateway.Operations.Select(o => o.Action));
    }
}
