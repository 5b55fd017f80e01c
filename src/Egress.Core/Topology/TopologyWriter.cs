using System.Text.Json;
using YamlDotNet.Serialization;

namespace Egress.Core.Topology;

/// <summary>Writes the resolved topology, every default filled in and every derived value (tunnel MTU, MSS,
/// tunnel pairs) shown, as YAML that <see cref="TopologyLoader"/> reads back, or as JSON.</summary>
public static class TopologyWriter
{
    public static string ToYaml(TopologyModel topology)
    {
        var serializer = new SerializerBuilder().DisableAliases().Build();
        var tree = ToTree(topology, includeDerived: false);
        var derived = Derived(topology);
        var derivedYaml = serializer.Serialize(new OrderedDictionary<string, object?> { ["derived"] = derived });
        var commented = string.Join('\n', derivedYaml.TrimEnd('\n').Split('\n').Select(line => "# " + line));
        return serializer.Serialize(tree) + "# Derived from the above (read-only; egress computes these):\n" + commented + "\n";
    }

    public static string ToJson(TopologyModel topology) =>
        JsonSerializer.Serialize(ToTree(topology, includeDerived: true), EgressJson.Options) + "\n";

    private static OrderedDictionary<string, object?> ToTree(TopologyModel t, bool includeDerived)
    {
        var tree = new OrderedDictionary<string, object?>
        {
            ["stack"] = t.Stack,
            ["regions"] = t.Regions.Select(r => new OrderedDictionary<string, object?>
            {
                ["name"] = r.Name,
                ["vpc"] = r.Vpc.ToString(),
                ["subnets"] = r.Subnets.Select(s => new OrderedDictionary<string, object?>
                {
                    ["name"] = s.Name,
                    ["cidr"] = s.Cidr.ToString(),
                    ["az"] = s.Az,
                }).ToList(),
                ["hosts"] = r.Hosts.Select(Host).ToList(),
            }).ToList(),
            ["overlay"] = new OrderedDictionary<string, object?>
            {
                ["mode"] = Name(t.Overlay.Mode),
                ["pool"] = t.Overlay.Pool.ToString(),
                ["underlayMtu"] = t.Overlay.UnderlayMtu,
            },
            ["tunings"] = new OrderedDictionary<string, object?>
            {
                ["bbr"] = t.Tunings.Bbr,
                ["fq"] = t.Tunings.Fq,
                ["slowStartAfterIdle"] = t.Tunings.SlowStartAfterIdle,
                ["rpFilter"] = Name(t.Tunings.RpFilter),
                ["conntrackMax"] = t.Tunings.ConntrackMax?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "auto",
            },
            ["failover"] = new OrderedDictionary<string, object?>
            {
                ["policy"] = t.Failover.Policy == FailurePolicy.FailOpen ? "fail-open" : "fail-closed",
                ["failback"] = t.Failover.Failback,
                ["holdDownMs"] = t.Failover.HoldDownMs,
                ["probeIntervalMs"] = t.Failover.ProbeIntervalMs,
                ["downAfter"] = t.Failover.DownAfter,
                ["upAfter"] = t.Failover.UpAfter,
            },
            ["access"] = new OrderedDictionary<string, object?> { ["ssh"] = t.Access.Ssh?.ToString() ?? "none" },
            ["verify"] = new OrderedDictionary<string, object?>
            {
                ["targets"] = t.Verify.Targets.Select(u => u.OriginalString).ToList(),
                ["ipEcho"] = t.Verify.IpEcho.OriginalString,
                ["criteria"] = new OrderedDictionary<string, object?>
                {
                    ["coldLatencyMs"] = new OrderedDictionary<string, object?>
                    {
                        ["min"] = t.Verify.Criteria.ColdLatencyMs.MinMs,
                        ["max"] = t.Verify.Criteria.ColdLatencyMs.MaxMs,
                    },
                    ["geolocation"] = t.Verify.Criteria.Geolocation == GeolocationExpectation.GatewayRegion ? "gateway-region" : "none",
                    ["pathViaGateway"] = t.Verify.Criteria.PathViaGateway,
                    ["rounds"] = t.Verify.Criteria.Rounds,
                },
            },
            ["lab"] = new OrderedDictionary<string, object?>
            {
                ["latency"] = t.Lab.Latency.Select(l => new OrderedDictionary<string, object?>
                {
                    ["between"] = new List<string> { l.A, l.B },
                    ["rttMs"] = l.RttMs,
                }).ToList(),
            },
        };
        if (includeDerived)
        {
            tree["derived"] = Derived(t);
        }

        return tree;
    }

    private static OrderedDictionary<string, object?> Host(Host h)
    {
        var host = new OrderedDictionary<string, object?>
        {
            ["name"] = h.Name,
            ["role"] = Name(h.Role),
            ["subnet"] = h.Subnet,
            ["privateIp"] = h.PrivateIp.ToString(),
            ["instanceType"] = h.InstanceType,
            ["architecture"] = Name(h.Architecture),
            ["publicIp"] = Name(h.PublicIp),
        };
        if (h.Role == HostRole.Client)
        {
            host["egressVia"] = h.EgressVia.ToList();
        }

        if (h.Ami is not null)
        {
            host["ami"] = h.Ami;
        }

        if (h.InstanceProfile is not null)
        {
            host["instanceProfile"] = h.InstanceProfile;
        }

        return host;
    }

    private static OrderedDictionary<string, object?> Derived(TopologyModel t) => new()
    {
        ["tunnelMtu"] = t.Overlay.TunnelMtu,
        ["tcpMss"] = t.Overlay.TcpMss,
        ["tunnels"] = TunnelPairs.Of(t).Select(p => new OrderedDictionary<string, object?>
        {
            ["client"] = p.Client.Name,
            ["gateway"] = p.Gateway.Name,
            ["prefix"] = p.Prefix.ToString(),
            ["gatewayAddress"] = p.GatewayAddress.ToString(),
            ["clientAddress"] = p.ClientAddress.ToString(),
        }).ToList(),
    };

    private static string Name<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();
}
