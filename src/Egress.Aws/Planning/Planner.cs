using Egress.Aws.Model;

namespace Egress.Aws.Planning;

/// <summary>Compares the desired state with what discovery found and returns the plan. Pure: no I/O, no clock.
/// Matching is by region and the <c>egress:component</c> tag; anything tagged for the stack that the topology no
/// longer asks for is deleted; a resource whose parent is (re)created is replaced with it.</summary>
public static class Planner
{
    public static Plan Plan(DesiredState desired, ObservedState observed)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(observed);
        desired = DesiredStateBuilder.AdoptExistingKeyPairs(desired, observed);
        var context = new PlanContext(desired.Stack, observed);
        var steps = new List<PlanStep>();

        foreach (var resource in desired.Resources.OrderBy(r => r.Address))
        {
            steps.AddRange(context.PlanOne(resource));
        }

        foreach (var leftover in context.Unclaimed())
        {
            steps.Add(context.Deletion(leftover.Address, leftover.Resource, leftover.Reason));
        }

        var ordered = steps.Where(s => s.Action != PlanAction.Delete).OrderBy(s => s.Resource)
            .Concat(steps.Where(s => s.Action == PlanAction.Delete).OrderByDescending(s => s.Resource))
            .ToList();
        return new Plan(desired.Stack, ordered, context.KnownIds) { Sweep = observed.Sweep };
    }

    private sealed record Leftover(ResourceAddress Address, ObservedResource Resource, string Reason);

    private sealed class PlanContext
    {
        private readonly Dictionary<ResourceAddress, List<ObservedResource>> _byAddress = [];
        private readonly HashSet<ObservedResource> _claimed = [];
        private readonly Dictionary<ResourceAddress, string> _known = [];
        private readonly HashSet<ResourceAddress> _renewed = [];
        private readonly List<Leftover> _extra = [];
        private readonly List<Leftover> _orphanRoutes = [];
        private readonly HashSet<string> _routeTablesSeen = [];
        private readonly string _stack;

        public PlanContext(string stack, ObservedState observed)
        {
            _stack = stack;
            foreach (var region in observed.Regions)
            {
                foreach (var resource in region.All)
                {
                    var address = ResourceAddress.FromComponent(region.Region, resource.Component);
                    if (address is null || address.Kind != KindOf(resource))
                    {
                        _extra.Add(new Leftover(new ResourceAddress(region.Region, KindOf(resource), resource.Id), resource,
                            $"tagged for the stack but its component tag '{resource.Component}' is not one egress knows"));
                        continue;
                    }

                    if (resource is ObservedInstance { State: InstanceStates.ShuttingDown })
                    {
                        // Not a match for anything, but apply must wait for it: it holds the private IP until it is gone.
                        _extra.Add(new Leftover(address with { Name = $"{address.Name}#{resource.Id}" }, resource,
                            "shutting down; wait until it is terminated so its private IP and security group are free"));
                        continue;
                    }

                    if (!_byAddress.TryGetValue(address, out var list))
                    {
                        _byAddress[address] = list = [];
                    }

                    list.Add(resource);
                }
            }
        }

        public IReadOnlyDictionary<ResourceAddress, string> KnownIds => _known;

        public IEnumerable<PlanStep> PlanOne(DesiredResource desired)
        {
            if (desired is DesiredRoute route)
            {
                foreach (var step in PlanRoute(route))
                {
                    yield return step;
                }

                yield break;
            }

            var candidates = _byAddress.TryGetValue(desired.Address, out var list) ? list : [];
            var match = candidates.FirstOrDefault();
            foreach (var duplicate in candidates.Skip(1))
            {
                _claimed.Add(duplicate);
                yield return Deletion(desired.Address with { Name = $"{desired.Address.Name}#{duplicate.Id}" }, duplicate,
                    $"a duplicate of {match!.Id} (an earlier run was interrupted)");
            }

            if (match is null)
            {
                _renewed.Add(desired.Address);
                yield return Step(PlanAction.Create, desired, null, "not found in AWS");
                yield break;
            }

            _claimed.Add(match);
            var replaceReasons = new List<string>();
            ReplaceReasons(desired, match, replaceReasons);
            if (replaceReasons.Count > 0)
            {
                _renewed.Add(desired.Address);
                yield return Step(PlanAction.Replace, desired, match, string.Join("; ", replaceReasons));
                yield break;
            }

            _known[desired.Address] = match.Id;
            var update = Step(PlanAction.Update, desired, match, "differs from the topology");
            if (update.Operations.Any(o => o.Mutates))
            {
                yield return update;
            }
        }

        /// <summary>A step that deletes <paramref name="observed"/>.</summary>
        public PlanStep Deletion(ResourceAddress address, ObservedResource observed, string reason) =>
            new(PlanAction.Delete, address, reason) { Observed = observed, Before = ResourceValues.Of(observed), Teardown = Teardown(address.Region, observed) };

        /// <summary>A create, replace or update step: a create or replace builds anew (a replace tears <paramref name="observed"/>
        /// down first); an update changes <paramref name="observed"/> in place.</summary>
        private PlanStep Step(PlanAction action, DesiredResource desired, ObservedResource? observed, string reason) =>
            new(action, desired.Address, reason)
            {
                Desired = desired,
                Observed = observed,
                Before = observed is null ? null : ResourceValues.Of(observed),
                After = ResourceValues.Of(desired, Ref),
                Teardown = action == PlanAction.Replace ? Teardown(desired.Address.Region, observed!) : [],
                Operations = Build(desired, action == PlanAction.Update ? observed : null),
            };

        public IEnumerable<Leftover> Unclaimed()
        {
            foreach (var (address, list) in _byAddress)
            {
                foreach (var resource in list.Where(r => !_claimed.Contains(r)))
                {
                    yield return new Leftover(address, resource, "tagged for the stack but no longer in the topology");
                    if (resource is ObservedRouteTable table)
                    {
                        foreach (var route in table.Routes.Where(r => r.Target != "local"))
                        {
                            yield return new Leftover(new ResourceAddress(address.Region, ResourceKind.Route, route.Destination),
                                new ObservedRouteEntry(table.Id, route), $"in {address.Component}, which goes");
                        }
                    }
                }
            }

            foreach (var extra in _extra)
            {
                yield return extra;
            }

            foreach (var route in _orphanRoutes)
            {
                yield return route;
            }
        }

        private IEnumerable<PlanStep> PlanRoute(DesiredRoute route)
        {
            if (!_known.TryGetValue(route.RouteTable, out var tableId))
            {
                yield return RouteStep(PlanAction.Create, route, null, $"{route.RouteTable.Component} is new");
                yield break;
            }

            var table = (ObservedRouteTable)_byAddress[route.RouteTable][0];
            CollectOrphanRoutes(table, route.Address.Region);
            var existing = table.Routes.FirstOrDefault(r => r.Destination == route.Destination);
            if (existing is null)
            {
                yield return RouteStep(PlanAction.Create, route, null, "not in the route table");
                yield break;
            }

            _orphanRoutes.RemoveAll(o => o.Address == route.Address);
            var entry = new ObservedRouteEntry(tableId, existing);
            var targetId = IdOf(route.Target);
            if (targetId is null)
            {
                yield return RouteStep(PlanAction.Update, route, entry, $"{route.Target.Component} is new");
            }
            else if (existing.Target != targetId)
            {
                yield return RouteStep(PlanAction.Update, route, entry, "points elsewhere");
            }
            else if (existing.State == "blackhole")
            {
                yield return RouteStep(PlanAction.Update, route, entry, "is a blackhole");
            }
        }

        /// <summary>Creates (for an update, replaces) the route, after waiting until a peering it points at is active.</summary>
        private PlanStep RouteStep(PlanAction action, DesiredRoute route, ObservedRouteEntry? entry, string reason)
        {
            var target = Ref(route.Target);
            List<AwsOperation> operations = route.Target.Kind == ResourceKind.Peering ? [new WaitPeeringActive(route.Target.Region, target)] : [];
            operations.Add(new PutRoute(route.Address.Region, route.Address, Ref(route.RouteTable), route.Destination, target, Replace: action == PlanAction.Update));
            return new PlanStep(action, route.Address, reason)
            {
                Desired = route,
                Observed = entry,
                Before = entry is null ? null : ResourceValues.Of(entry),
                After = ResourceValues.Of(route, Ref),
                Operations = operations,
            };
        }

        /// <summary>Every non-local route of a kept route table is a leftover until a desired route claims it.</summary>
        private void CollectOrphanRoutes(ObservedRouteTable table, string region)
        {
            if (!_routeTablesSeen.Add(table.Id))
            {
                return;
            }

            foreach (var route in table.Routes.Where(r => r.Target != "local"))
            {
                var address = new ResourceAddress(region, ResourceKind.Route, route.Destination);
                _orphanRoutes.Add(new Leftover(address, new ObservedRouteEntry(table.Id, route), "in the route table but not in the topology"));
            }
        }

        private string? IdOf(ResourceAddress address) =>
            _renewed.Contains(address) ? null : _known.GetValueOrDefault(address);

        private void RequireParent(ResourceAddress parent, string observedParentId, List<string> replace)
        {
            var id = IdOf(parent);
            if (id is null)
            {
                replace.Add($"{parent.Component} is (re)created");
            }
            else if (id != observedParentId)
            {
                replace.Add($"belongs to {observedParentId}, not {parent.Component} ({id})");
            }
        }

        /// <summary>A reference to a desired resource: its id when it stays, else its address (known after apply).</summary>
        private ResourceRef Ref(ResourceAddress address) => ResourceRef.To(address, IdOf(address));

        private IReadOnlyDictionary<string, string> Tags(ResourceAddress address) => StackTags.For(_stack, address);

        /// <summary>Why <paramref name="observed"/> cannot become <paramref name="desired"/> in place (empty: it can).</summary>
        private void ReplaceReasons(DesiredResource desired, ObservedResource observed, List<string> replace)
        {
            switch (desired, observed)
            {
                case (DesiredKeyPair d, ObservedKeyPair o):
                    if (d.PublicKey is not null && o.Tags.GetValueOrDefault(KeyPairTags.PublicKeyHash) != KeyPairTags.HashOf(d.PublicKey))
                    {
                        replace.Add("the public key changed");
                    }

                    break;
                case (DesiredVpc d, ObservedVpc o):
                    if (d.Cidr != o.Cidr)
                    {
                        replace.Add($"CIDR {o.Cidr} -> {d.Cidr}");
                    }

                    break;
                case (DesiredSubnet d, ObservedSubnet o):
                    RequireParent(d.Vpc, o.VpcId, replace);
                    if (d.Cidr != o.Cidr)
                    {
                        replace.Add($"CIDR {o.Cidr} -> {d.Cidr}");
                    }

                    if (d.AvailabilityZone != o.AvailabilityZone)
                    {
                        replace.Add($"zone {o.AvailabilityZone} -> {d.AvailabilityZone}");
                    }

                    break;
                case (DesiredInternetGateway d, ObservedInternetGateway o):
                    if (IdOf(d.Vpc) is null && o.AttachedVpcIds.Count > 0)
                    {
                        // Attached to the VPC that is being replaced: it must go before that VPC can be deleted.
                        replace.Add($"{d.Vpc.Component} is (re)created");
                    }

                    break;
                case (DesiredRouteTable d, ObservedRouteTable o):
                    RequireParent(d.Vpc, o.VpcId, replace);
                    break;
                case (DesiredSecurityGroup d, ObservedSecurityGroup o):
                    RequireParent(d.Vpc, o.VpcId, replace);
                    break;
                case (DesiredPeering d, ObservedPeering o):
                    RequireParent(d.RequesterVpc, o.RequesterVpcId, replace);
                    RequireParent(d.AccepterVpc, o.AccepterVpcId, replace);
                    if (o.AccepterRegion != d.AccepterRegion)
                    {
                        replace.Add($"accepter region {o.AccepterRegion} -> {d.AccepterRegion}");
                    }

                    break;
                case (DesiredInstance d, ObservedInstance o):
                    RequireParent(d.Subnet, o.SubnetId ?? "(none)", replace);
                    if (d.PrivateIp != o.PrivateIp)
                    {
                        replace.Add($"private IP {o.PrivateIp} -> {d.PrivateIp}");
                    }

                    if (d.InstanceType != o.InstanceType)
                    {
                        replace.Add($"type {o.InstanceType} -> {d.InstanceType}");
                    }

                    if (d.Ami is not null && d.Ami != o.ImageId)
                    {
                        replace.Add($"AMI {o.ImageId} -> {d.Ami}");
                    }

                    if (o.Tags.GetValueOrDefault(StackTags.UserDataHash) != d.UserDataHash)
                    {
                        replace.Add("the user data (host configuration) changed");
                    }

                    if (d.KeyPair is null ? o.KeyName is not null : _renewed.Contains(d.KeyPair) || o.KeyName is null)
                    {
                        replace.Add(d.KeyPair is null ? "the key pair is no longer wanted" : "the key pair is new");
                    }

                    if (d.InstanceProfile != InstanceProfileName(o.InstanceProfileArn))
                    {
                        replace.Add($"instance profile {InstanceProfileName(o.InstanceProfileArn) ?? "(none)"} -> {d.InstanceProfile ?? "(none)"}");
                    }

                    var sgId = IdOf(d.SecurityGroup);
                    if (sgId is null || !o.SecurityGroupIds.Contains(sgId))
                    {
                        replace.Add($"{d.SecurityGroup.Component} is not attached");
                    }

                    break;
                case (DesiredElasticIp, ObservedAddress):
                    break;
                default:
                    replace.Add($"AWS holds a {observed.GetType().Name} under this name");
                    break;
            }
        }

        /// <summary>The operations that make <paramref name="desired"/> real: from nothing when <paramref name="observed"/> is null
        /// (a create, or the create half of a replace), else those that change <paramref name="observed"/> in place (none: it matches).
        /// Waits come right before what needs them.</summary>
        private List<AwsOperation> Build(DesiredResource desired, ObservedResource? observed)
        {
            var address = desired.Address;
            var region = address.Region;
            var self = ResourceRef.To(address, observed?.Id);
            var ops = new List<AwsOperation>();
            switch (desired)
            {
                case DesiredKeyPair { PublicKey: { } publicKey } k when observed is null:
                    ops.Add(new ImportKeyPair(region, address, k.KeyName, publicKey,
                        new Dictionary<string, string>(Tags(address)) { [KeyPairTags.PublicKeyHash] = KeyPairTags.HashOf(publicKey) }));
                    break;
                case DesiredKeyPair:
                    break;
                case DesiredVpc v:
                    var vpc = (ObservedVpc?)observed;
                    if (vpc is null)
                    {
                        ops.Add(new CreateVpc(region, address, v.Cidr, Tags(address)));
                    }

                    if (vpc is not { DnsSupport: true })
                    {
                        ops.Add(new SetVpcDns(region, self, Hostnames: false, Enabled: true));
                    }

                    if (vpc is not { DnsHostnames: true })
                    {
                        ops.Add(new SetVpcDns(region, self, Hostnames: true, Enabled: true));
                    }

                    break;
                case DesiredSubnet s:
                    if (observed is null)
                    {
                        ops.Add(new CreateSubnet(region, address, Ref(s.Vpc), s.Cidr, s.AvailabilityZone, Tags(address)));
                    }

                    break;
                case DesiredInternetGateway g:
                    var igw = (ObservedInternetGateway?)observed;
                    if (igw is null)
                    {
                        ops.Add(new CreateInternetGateway(region, address, Tags(address)));
                    }

                    var vpcId = IdOf(g.Vpc);
                    ops.AddRange(igw?.AttachedVpcIds.Where(v => v != vpcId).Select(v => new DetachInternetGateway(region, self, v)) ?? []);
                    if (igw is null || vpcId is null || !igw.AttachedVpcIds.Contains(vpcId))
                    {
                        ops.Add(new AttachInternetGateway(region, self, Ref(g.Vpc)));
                    }

                    break;
                case DesiredRouteTable t:
                    var table = (ObservedRouteTable?)observed;
                    if (table is null)
                    {
                        ops.Add(new CreateRouteTable(region, address, Ref(t.Vpc), Tags(address)));
                    }

                    var wanted = t.Subnets.Select(IdOf).ToHashSet();
                    ops.AddRange(table?.Associations.Where(a => !a.Main && !wanted.Contains(a.SubnetId))
                        .Select(a => new DisassociateRouteTable(region, a.AssociationId, a.SubnetId)) ?? []);
                    foreach (var subnet in t.Subnets)
                    {
                        var subnetId = IdOf(subnet);
                        if (table is null || subnetId is null || !table.Associations.Any(a => a.SubnetId == subnetId))
                        {
                            ops.Add(new AssociateRouteTable(region, self, Ref(subnet)));
                        }
                    }

                    break;
                case DesiredSecurityGroup g:
                    var group = (ObservedSecurityGroup?)observed;
                    if (group is null)
                    {
                        ops.Add(new CreateSecurityGroup(region, address, Ref(g.Vpc), g.GroupName, g.Description, Tags(address)));
                    }

                    var diff = RuleDiff.Of(g, group);
                    ops.AddRange(new[]
                        {
                            new ChangeSecurityGroupRules(region, self, Ingress: true, Authorize: false, diff.RemoveIngress),
                            new ChangeSecurityGroupRules(region, self, Ingress: true, Authorize: true, diff.AddIngress),
                            new ChangeSecurityGroupRules(region, self, Ingress: false, Authorize: false, diff.RemoveEgress),
                            new ChangeSecurityGroupRules(region, self, Ingress: false, Authorize: true, diff.AddEgress),
                        }.Where(c => c.Rules.Count > 0));
                    break;

                case DesiredPeering p:
                    var peering = (ObservedPeering?)observed;
                    if (peering is null)
                    {
                        ops.Add(new CreatePeering(region, address, Ref(p.RequesterVpc), Ref(p.AccepterVpc), p.AccepterRegion, Tags(address)));
                    }

                    if (peering is null || peering.Status == PeeringStates.PendingAcceptance)
                    {
                        ops.Add(new AcceptPeering(p.AccepterRegion, self));
                    }

                    ops.Add(new WaitPeeringActive(region, self));
                    if (peering is not { RequesterAllowsDns: true })
                    {
                        ops.Add(new AllowPeeringDns(region, self, RequesterSide: true));
                    }

                    if (peering is not { AccepterAllowsDns: true })
                    {
                        ops.Add(new AllowPeeringDns(p.AccepterRegion, self, RequesterSide: false));
                    }

                    break;
                case DesiredInstance i:
                    var instance = (ObservedInstance?)observed;
                    if (instance is null)
                    {
                        ops.Add(new RunInstance(region, address)
                        {
                            ImageId = i.Ami,
                            AmiParameter = i.AmiParameter,
                            InstanceType = i.InstanceType,
                            Subnet = Ref(i.Subnet),
                            PrivateIp = i.PrivateIp,
                            SecurityGroup = Ref(i.SecurityGroup),
                            AssociatePublicIp = i.PublicIpOnLaunch,
                            UserData = i.UserData,
                            KeyName = i.KeyPair is null ? null : DesiredStateBuilder.KeyNameOf(_stack),
                            InstanceProfile = i.InstanceProfile,
                            Tags = new Dictionary<string, string>(Tags(address)) { [StackTags.UserDataHash] = i.UserDataHash },
                        });
                        if (!i.SourceDestCheck)
                        {
                            ops.Add(new SetSourceDestCheck(region, self, Enabled: false));
                        }
                    }
                    else if (instance.SourceDestCheck != i.SourceDestCheck)
                    {
                        ops.Add(new WaitInstanceRunning(region, self));
                        ops.Add(new SetSourceDestCheck(region, self, i.SourceDestCheck));
                    }

                    break;
                case DesiredElasticIp e:
                    var eip = (ObservedAddress?)observed;
                    if (eip is null)
                    {
                        ops.Add(new AllocateAddress(region, address, Tags(address)));
                    }

                    var instanceId = IdOf(e.Instance);
                    if (eip is null || instanceId is null || eip.InstanceId != instanceId)
                    {
                        ops.Add(new WaitInstanceRunning(region, Ref(e.Instance)));
                        ops.Add(new AssociateAddress(region, self, Ref(e.Instance)));
                    }

                    break;
                default:
                    throw new InvalidOperationException($"No operations for {desired.GetType().Name} (a bug).");
            }

            return ops;
        }

        /// <summary>The operations that delete <paramref name="observed"/>: first what ties it to others (associations,
        /// attachments), then the resource.</summary>
        private static List<AwsOperation> Teardown(string region, ObservedResource observed) => observed switch
        {
            ObservedAddress a => a.AssociationId is { } association
                ? [new DisassociateAddress(region, association), new ReleaseAddress(region, a.Id)]
                : [new ReleaseAddress(region, a.Id)],
            ObservedInstance i => [new TerminateInstance(region, i.Id)],
            ObservedRouteEntry r => [new DeleteRoute(region, r.RouteTableId, r.Route.Destination)],
            ObservedPeering p => [new DeletePeering(region, p.Id)],
            ObservedSecurityGroup g => [new DeleteSecurityGroup(region, g.Id)],
            ObservedRouteTable t => [.. t.Associations.Where(a => !a.Main).Select(a => new DisassociateRouteTable(region, a.AssociationId, a.SubnetId)),
                new DeleteRouteTable(region, t.Id)],
            ObservedInternetGateway g => [.. g.AttachedVpcIds.Select(v => new DetachInternetGateway(region, ResourceRef.ToId(g.Id), v)),
                new DeleteInternetGateway(region, g.Id)],
            ObservedSubnet s => [new DeleteSubnet(region, s.Id)],
            ObservedVpc v => [new DeleteVpc(region, v.Id)],
            ObservedKeyPair k => [new DeleteKeyPair(region, k.Id)],
            _ => throw new InvalidOperationException($"Cannot delete {observed.GetType().Name} (a bug)."),
        };

        private static string? InstanceProfileName(string? arn) =>
            arn is null ? null : arn[(arn.LastIndexOf('/') + 1)..];
    }

    internal static ResourceKind KindOf(ObservedResource resource) => resource switch
    {
        ObservedKeyPair => ResourceKind.KeyPair,
        ObservedVpc => ResourceKind.Vpc,
        ObservedSubnet => ResourceKind.Subnet,
        ObservedInternetGateway => ResourceKind.InternetGateway,
        ObservedRouteTable => ResourceKind.RouteTable,
        ObservedRouteEntry => ResourceKind.Route,
        ObservedSecurityGroup => ResourceKind.SecurityGroup,
        ObservedPeering => ResourceKind.Peering,
        ObservedInstance => ResourceKind.Instance,
        ObservedAddress => ResourceKind.ElasticIp,
        _ => throw new ArgumentOutOfRangeException(nameof(resource)),
    };
}

/// <summary>Which security-group rules to authorize and revoke (the planner turns them into operations).</summary>
public sealed record RuleDiff(IReadOnlyList<SecurityGroupRule> AddIngress, IReadOnlyList<SecurityGroupRule> RemoveIngress,
    IReadOnlyList<SecurityGroupRule> AddEgress, IReadOnlyList<SecurityGroupRule> RemoveEgress)
{
    public static RuleDiff Of(DesiredSecurityGroup desired, ObservedSecurityGroup? observed)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var ingress = observed?.Ingress ?? [];
        var egress = observed?.Egress ?? DesiredSecurityGroup.AllEgress; // AWS adds all-egress to a new group
        return new RuleDiff(
            [.. desired.Ingress.Except(ingress)], [.. ingress.Except(desired.Ingress)],
            [.. desired.Egress.Except(egress)], [.. egress.Except(desired.Egress)]);
    }
}

/// <summary>Key pairs carry a hash of the imported public key, so a changed key is seen without comparing AWS's fingerprints.</summary>
public static class KeyPairTags
{
    public const string PublicKeyHash = "egress:public-key-sha256";

    public static string HashOf(string publicKey) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(publicKey.Trim())));
}
