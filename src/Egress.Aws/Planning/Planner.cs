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
        var context = new PlanContext(observed);
        var steps = new List<PlanStep>();

        foreach (var resource in desired.Resources.OrderBy(r => r.Address))
        {
            steps.AddRange(context.PlanOne(resource));
        }

        foreach (var leftover in context.Unclaimed())
        {
            steps.Add(new PlanStep(PlanAction.Delete, leftover.Address, leftover.Reason) { Observed = leftover.Resource });
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

        public PlanContext(ObservedState observed)
        {
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
                yield return new PlanStep(PlanAction.Delete, desired.Address with { Name = $"{desired.Address.Name}#{duplicate.Id}" },
                    $"a duplicate of {match!.Id} (an earlier run was interrupted)") { Observed = duplicate };
            }

            if (match is null)
            {
                _renewed.Add(desired.Address);
                yield return new PlanStep(PlanAction.Create, desired.Address, "not found in AWS") { Desired = desired };
                yield break;
            }

            _claimed.Add(match);
            var replaceReasons = new List<string>();
            var changes = new List<string>();
            Compare(desired, match, replaceReasons, changes);
            if (replaceReasons.Count > 0)
            {
                _renewed.Add(desired.Address);
                yield return new PlanStep(PlanAction.Replace, desired.Address, string.Join("; ", replaceReasons))
                {
                    Desired = desired,
                    Observed = match,
                };
                yield break;
            }

            _known[desired.Address] = match.Id;
            if (changes.Count > 0)
            {
                yield return new PlanStep(PlanAction.Update, desired.Address, "differs from the topology")
                {
                    Desired = desired,
                    Observed = match,
                    Changes = changes,
                };
            }
        }

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
                yield return new PlanStep(PlanAction.Create, route.Address, $"{route.RouteTable.Component} is new") { Desired = route };
                yield break;
            }

            var table = (ObservedRouteTable)_byAddress[route.RouteTable][0];
            CollectOrphanRoutes(table, route.Address.Region);
            var existing = table.Routes.FirstOrDefault(r => r.Destination == route.Destination);
            if (existing is null)
            {
                yield return new PlanStep(PlanAction.Create, route.Address, "not in the route table") { Desired = route };
                yield break;
            }

            _orphanRoutes.RemoveAll(o => o.Address == route.Address);
            var entry = new ObservedRouteEntry(tableId, existing);
            var target = route.Target.Component;
            if (!_known.TryGetValue(route.Target, out var targetId) || _renewed.Contains(route.Target))
            {
                yield return new PlanStep(PlanAction.Update, route.Address, $"{route.Target.Component} is new")
                {
                    Desired = route,
                    Observed = entry,
                    Changes = [$"target {existing.Target} -> {target} (known after apply)"],
                };
            }
            else if (existing.Target != targetId)
            {
                yield return new PlanStep(PlanAction.Update, route.Address, "points elsewhere")
                {
                    Desired = route,
                    Observed = entry,
                    Changes = [$"target {existing.Target} -> {targetId}"],
                };
            }
            else if (existing.State == "blackhole")
            {
                yield return new PlanStep(PlanAction.Update, route.Address, "is a blackhole")
                {
                    Desired = route,
                    Observed = entry,
                    Changes = [$"target {existing.Target} (blackhole) -> {targetId}"],
                };
            }
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

        private void Compare(DesiredResource desired, ObservedResource observed, List<string> replace, List<string> changes)
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

                    if (!o.DnsSupport)
                    {
                        changes.Add("enable DNS support");
                    }

                    if (!o.DnsHostnames)
                    {
                        changes.Add("enable DNS hostnames");
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
                    var vpcId = IdOf(d.Vpc);
                    if (vpcId is null && o.AttachedVpcIds.Count > 0)
                    {
                        // Attached to the VPC that is being replaced: it must go before that VPC can be deleted.
                        replace.Add($"{d.Vpc.Component} is (re)created");
                        break;
                    }

                    if (vpcId is null || !o.AttachedVpcIds.Contains(vpcId))
                    {
                        changes.Add($"attach to {d.Vpc.Component}");
                    }

                    changes.AddRange(o.AttachedVpcIds.Where(v => v != vpcId).Select(v => $"detach from {v}"));
                    break;
                case (DesiredRouteTable d, ObservedRouteTable o):
                    RequireParent(d.Vpc, o.VpcId, replace);
                    foreach (var subnet in d.Subnets)
                    {
                        var subnetId = IdOf(subnet);
                        if (subnetId is null || !o.Associations.Any(a => a.SubnetId == subnetId))
                        {
                            changes.Add($"associate {subnet.Component}");
                        }
                    }

                    var wanted = d.Subnets.Select(IdOf).ToHashSet();
                    changes.AddRange(o.Associations.Where(a => !a.Main && !wanted.Contains(a.SubnetId)).Select(a => $"disassociate {a.SubnetId}"));
                    break;
                case (DesiredSecurityGroup d, ObservedSecurityGroup o):
                    RequireParent(d.Vpc, o.VpcId, replace);
                    var diff = RuleDiff.Of(d, o);
                    changes.AddRange(diff.AddIngress.Select(r => $"+ ingress {r}"));
                    changes.AddRange(diff.RemoveIngress.Select(r => $"- ingress {r}"));
                    changes.AddRange(diff.AddEgress.Select(r => $"+ egress {r}"));
                    changes.AddRange(diff.RemoveEgress.Select(r => $"- egress {r}"));
                    break;
                case (DesiredPeering d, ObservedPeering o):
                    RequireParent(d.RequesterVpc, o.RequesterVpcId, replace);
                    RequireParent(d.AccepterVpc, o.AccepterVpcId, replace);
                    if (o.AccepterRegion != d.AccepterRegion)
                    {
                        replace.Add($"accepter region {o.AccepterRegion} -> {d.AccepterRegion}");
                    }

                    if (o.Status == PeeringStates.PendingAcceptance)
                    {
                        changes.Add($"accept in {d.AccepterRegion}");
                    }

                    if (!o.RequesterAllowsDns || !o.AccepterAllowsDns)
                    {
                        changes.Add("allow DNS resolution from the remote VPC (both sides)");
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

                    if (o.SourceDestCheck != d.SourceDestCheck)
                    {
                        changes.Add($"source/dest check {(d.SourceDestCheck ? "on" : "off")}");
                    }

                    break;
                case (DesiredElasticIp d, ObservedAddress o):
                    var instanceId = IdOf(d.Instance);
                    if (instanceId is null || o.InstanceId != instanceId)
                    {
                        changes.Add($"associate with {d.Instance.Component}" + (string.IsNullOrEmpty(o.InstanceId) ? " (now unassociated)" : $" (now {o.InstanceId})"));
                    }

                    break;
                default:
                    replace.Add($"AWS holds a {observed.GetType().Name} under this name");
                    break;
            }
        }

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

/// <summary>Which security-group rules to authorize and revoke; the planner shows it, the executor does it.</summary>
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
