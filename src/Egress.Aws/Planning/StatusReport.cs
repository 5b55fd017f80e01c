using Egress.Aws.Model;

namespace Egress.Aws.Planning;

/// <summary>One row of <c>egress status</c>: a resource of the stack with its state and what matters about it.</summary>
public sealed record StatusRow(string Region, string Resource, string Id, string State, string Detail);

/// <summary>What the stack holds in AWS now, region by region. Pure: it reads an <see cref="ObservedState"/>.</summary>
public static class StatusReport
{
    public static IReadOnlyList<StatusRow> Rows(ObservedState observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var rows = new List<StatusRow>();
        foreach (var region in observed.Regions)
        {
            foreach (var resource in region.All.OrderBy(r => Planner.KindOf(r)).ThenBy(r => r.Component, StringComparer.Ordinal))
            {
                rows.Add(Row(region.Region, resource));
            }
        }

        return rows;
    }

    private static StatusRow Row(string region, ObservedResource r)
    {
        var name = r.Component ?? r.Id;
        return r switch
        {
            ObservedVpc v => new(region, name, v.Id, v.State, $"{v.Cidr}, DNS support {OnOff(v.DnsSupport)}, hostnames {OnOff(v.DnsHostnames)}"),
            ObservedSubnet s => new(region, name, s.Id, "available", $"{s.Cidr} in {s.AvailabilityZone}"),
            ObservedInternetGateway g => new(region, name, g.Id, g.AttachedVpcIds.Count > 0 ? "attached" : "detached", string.Join(", ", g.AttachedVpcIds)),
            ObservedRouteTable t => new(region, name, t.Id, t.Routes.Any(x => x.State == "blackhole") ? "blackhole route" : "ok",
                string.Join("; ", t.Routes.Select(x => $"{x.Destination} -> {x.Target}{(x.State == "blackhole" ? " (blackhole)" : string.Empty)}"))),
            ObservedSecurityGroup g => new(region, name, g.Id, "ok", g.Ingress.Count == 0 ? "no ingress" : "ingress " + string.Join("; ", g.Ingress)),
            ObservedPeering p => new(region, name, p.Id, p.Status,
                $"{p.RequesterRegion} -> {p.AccepterRegion}, DNS {OnOff(p.RequesterAllowsDns && p.AccepterAllowsDns)}"),
            ObservedInstance i => new(region, name, i.Id, i.State,
                $"{i.InstanceType}, {i.PrivateIp}{(i.PublicIp is null ? string.Empty : " / " + i.PublicIp)}, source/dest check {OnOff(i.SourceDestCheck)}, IMDS tokens {i.HttpTokens ?? "?"}"),
            ObservedAddress a => new(region, name, a.Id, a.InstanceId is null ? "unassociated" : "associated", $"{a.PublicIp}{(a.InstanceId is null ? string.Empty : " -> " + a.InstanceId)}"),
            ObservedKeyPair k => new(region, name, k.Id, "ok", k.KeyName),
            _ => new(region, name, r.Id, "?", string.Empty),
        };
    }

    private static string OnOff(bool value) => value ? "on" : "off";
}
