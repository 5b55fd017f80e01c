using Egress.Aws.Model;
using Egress.Core.Topology;

namespace Egress.Doctor;

/// <summary>The <see cref="PathLink.Environment"/> checks on AWS, from read-only describe calls: what the stack should
/// be (<see cref="DesiredState"/>) against what AWS holds (<see cref="ObservedState"/>), for the resources the path
/// crosses: each instance running, the peering active, every route to the peering and to the internet gateway there and
/// active, each gateway's source/destination check off, each security group with its overlay rule from the peer's /32,
/// each Elastic IP associated with its instance.</summary>
public static class AwsFindings
{
    public static IReadOnlyList<DoctorCheck> Judge(TopologyModel topology, DesiredState desired, ObservedState observed)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(observed);
        var checks = new List<DoctorCheck>();
        foreach (var instance in desired.OfType<DesiredInstance>())
        {
            var name = instance.Address.Name;
            var seen = Find(observed, instance.Address, observed.Region(instance.Address.Region).Instances.Where(i => !InstanceStates.IsGone(i.State)));
            const string Expected = "the instance running";
            if (seen is null)
            {
                checks.Add(Broken("instance.running", name, Expected, "no instance of the stack (terminated or never created)", "'egress apply' launches it", FixedBy.EgressApply));
                continue;
            }

            checks.Add(seen.State == InstanceStates.Running
                ? DoctorCheck.Healthy("instance.running", PathLink.Environment, name, Expected, $"{seen.Id} running")
                : Broken("instance.running", name, Expected, $"{seen.Id} is {seen.State}", $"'aws ec2 start-instances --region {instance.Address.Region} --instance-ids {seen.Id}'", FixedBy.Manual));
            if (!instance.SourceDestCheck)
            {
                const string Forwards = "source/destination check off (the gateway forwards the clients' packets)";
                checks.Add(seen.SourceDestCheck
                    ? Broken("instance.source-dest-check", name, Forwards, $"{seen.Id} has it on: AWS drops every packet the gateway forwards for a client",
                        $"'egress apply' turns it off (by hand: aws ec2 modify-instance-attribute --region {instance.Address.Region} --instance-id {seen.Id} --no-source-dest-check)", FixedBy.EgressApply)
                    : DoctorCheck.Healthy("instance.source-dest-check", PathLink.Environment, name, Forwards, "off"));
            }
        }

        foreach (var peering in desired.OfType<DesiredPeering>())
        {
            var seen = Find(observed, peering.Address, observed.Regions.SelectMany(r => r.Peerings).Where(p => !PeeringStates.IsGone(p.Status)));
            var expected = $"the peering {peering.RequesterVpc.Region} <-> {peering.AccepterRegion} active";
            checks.Add(seen switch
            {
                null => Broken("peering.active", null, expected, "no peering of the stack", "'egress apply' requests and accepts it", FixedBy.EgressApply),
                { Status: PeeringStates.Active } => DoctorCheck.Healthy("peering.active", PathLink.Environment, null, expected, $"{seen.Id} active"),
                _ => Broken("peering.active", null, expected, $"{seen.Id} is {seen.Status}{(seen.StatusMessage is { } m ? $" ({m})" : string.Empty)}",
                    seen.Status == PeeringStates.PendingAcceptance
                        ? $"accept it in the accepter region: 'egress apply' does, or 'aws ec2 accept-vpc-peering-connection --region {peering.AccepterRegion} --vpc-peering-connection-id {seen.Id}'"
                        : "'egress apply' waits for it or replaces it", FixedBy.EgressApply),
            });
        }

        foreach (var route in desired.OfType<DesiredRoute>())
        {
            var region = observed.Region(route.RouteTable.Region);
            var table = Find(observed, route.RouteTable, region.RouteTables);
            var target = route.Target.Kind == ResourceKind.Peering
                ? Find(observed, route.Target, observed.Regions.SelectMany(r => r.Peerings).Where(p => !PeeringStates.IsGone(p.Status)))?.Id
                : Find(observed, route.Target, region.InternetGateways)?.Id;
            var expected = $"route {route.Destination} -> {route.Target.KindName}/{route.Target.Name} in {route.RouteTable.Name}";
            var seen = table?.Routes.FirstOrDefault(r => r.Destination == route.Destination);
            var id = route.Target.Kind == ResourceKind.Peering ? "route.to-peering" : "route.to-internet";
            checks.Add(seen is not null && target is not null && seen.Target == target && seen.State == "active"
                ? DoctorCheck.Healthy(id, PathLink.Environment, null, expected, $"{seen.Destination} -> {seen.Target} active")
                : Broken(id, null, expected,
                    table is null ? $"no route table {route.RouteTable.Name}" : seen is null ? $"{table.Id} has no route for {route.Destination}" : $"{table.Id}: {seen.Destination} -> {seen.Target} ({seen.State})",
                    $"'egress apply' restores it (by hand: aws ec2 create-route --region {route.RouteTable.Region} --route-table-id {table?.Id ?? "RTB"} --destination-cidr-block {route.Destination} ...)", FixedBy.EgressApply));
        }

        foreach (var group in desired.OfType<DesiredSecurityGroup>())
        {
            var seen = Find(observed, group.Address, observed.Region(group.Address.Region).SecurityGroups);
            foreach (var rule in group.Ingress)
            {
                var expected = $"{group.Address.Name} allows {rule}";
                checks.Add(seen is not null && seen.Ingress.Contains(rule)
                    ? DoctorCheck.Healthy("security-group.rule", PathLink.Environment, null, expected, $"{seen.Id} has it")
                    : Broken("security-group.rule", null, expected, seen is null ? "no such security group" : $"{seen.Id} lacks it: {Rules(seen.Ingress)}",
                        "'egress apply' adds it; without it AWS drops the overlay (or SSH) before it reaches the instance", FixedBy.EgressApply));
            }
        }

        foreach (var address in desired.OfType<DesiredElasticIp>())
        {
            var seen = Find(observed, address.Address, observed.Region(address.Address.Region).Addresses);
            var instance = Find(observed, address.Instance, observed.Region(address.Instance.Region).Instances.Where(i => !InstanceStates.IsGone(i.State)));
            var expected = $"the Elastic IP of {address.Instance.Name} associated with it";
            checks.Add(seen is not null && instance is not null && seen.InstanceId == instance.Id
                ? DoctorCheck.Healthy("elastic-ip.associated", PathLink.Environment, address.Instance.Name, expected, $"{seen.PublicIp} on {instance.Id}")
                : Broken("elastic-ip.associated", address.Instance.Name, expected,
                    seen is null ? "no Elastic IP of the stack" : $"{seen.PublicIp} is {(seen.InstanceId is { } other ? "on " + other : "not associated")}: egress leaves from another address, or not at all",
                    "'egress apply' associates it", FixedBy.EgressApply));
        }

        return checks;
    }

    private static DoctorCheck Broken(string id, string? host, string expected, string seen, string fix, FixedBy by) =>
        DoctorCheck.Broken(id, PathLink.Environment, host, expected, seen, fix, by);

    private static T? Find<T>(ObservedState observed, ResourceAddress address, IEnumerable<T> candidates) where T : ObservedResource =>
        candidates.FirstOrDefault(c => c.Component == address.Component);

    private static string Rules(IReadOnlyList<SecurityGroupRule> rules) => rules.Count == 0 ? "no ingress at all" : string.Join("; ", rules);
}
