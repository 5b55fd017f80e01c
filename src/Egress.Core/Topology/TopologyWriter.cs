using System.Globalization;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Egress.Core.Topology;

/// <summary>Writes the resolved topology, every default filled in and every derived value (tunnel MTU, MSS,
/// tunnel pairs) shown, as YAML that <see cref="TopologyLoader"/> reads back, or as JSON. Both walk one tree of ordered
/// maps, lists and scalars and write it event by event (YamlDotNet's <see cref="Emitter"/>, a <see cref="Utf8JsonWriter"/>):
/// no serializer reflects over a type, so the shipped build (no dynamic code, trim/AOT analyzers on) writes the same.</summary>
public static class TopologyWriter
{
    /// <summary>The JSON document's version (docs/json.md): a new field may be added within a version; renaming or removing
    /// one bumps it.</summary>
    public const int JsonSchemaVersion = 1;

    public static string ToYaml(TopologyModel topology)
    {
        var tree = ToTree(topology, includeDerived: false);
        var derivedYaml = Yaml(new OrderedDictionary<string, object?> { ["derived"] = Derived(topology) });
        var commented = string.Join('\n', derivedYaml.TrimEnd('\n').Split('\n').Select(line => "# " + line));
        return Yaml(tree) + "# Derived from the above (read-only; egress computes these):\n" + commented + "\n";
    }

    public static string ToJson(TopologyModel topology)
    {
        var tree = new OrderedDictionary<string, object?> { ["schemaVersion"] = JsonSchemaVersion };
        foreach (var (key, value) in ToTree(topology, includeDerived: true))
        {
            tree[key] = value;
        }

        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, EgressJson.WriterOptions))
        {
            WriteJson(json, tree);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray()).ReplaceLineEndings("\n") + "\n";
    }

    private static string Yaml(OrderedDictionary<string, object?> tree)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var emitter = new Emitter(text);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        WriteYaml(emitter, tree);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return text.ToString().ReplaceLineEndings("\n");
    }

    private static void WriteYaml(IEmitter emitter, object? node)
    {
        switch (node)
        {
            case OrderedDictionary<string, object?> map:
                emitter.Emit(new MappingStart());
                foreach (var (key, value) in map)
                {
                    emitter.Emit(new Scalar(key));
                    WriteYaml(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case System.Collections.IEnumerable list and not string:
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Any));
                foreach (var item in list)
                {
                    WriteYaml(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case string text:
                // A string that YAML 1.2's core schema reads as another type (true, 1500, null, ~) is quoted, as YamlDotNet's serializer does.
                emitter.Emit(LooksLikeNonString(text)
                    ? new Scalar(null, null, text, ScalarStyle.DoubleQuoted, isPlainImplicit: false, isQuotedImplicit: true)
                    : new Scalar(text));
                break;
            default:
                emitter.Emit(new Scalar(Plain(node)));
                break;
        }
    }

    private static void WriteJson(Utf8JsonWriter json, object? node)
    {
        switch (node)
        {
            case OrderedDictionary<string, object?> map:
                json.WriteStartObject();
                foreach (var (key, value) in map)
                {
                    json.WritePropertyName(key);
                    WriteJson(json, value);
                }

                json.WriteEndObject();
                break;
            case string text:
                json.WriteStringValue(text);
                break;
            case System.Collections.IEnumerable list:
                json.WriteStartArray();
                foreach (var item in list)
                {
                    WriteJson(json, item);
                }

                json.WriteEndArray();
                break;
            case bool flag:
                json.WriteBooleanValue(flag);
                break;
            case int number:
                json.WriteNumberValue(number);
                break;
            case null:
                json.WriteNullValue();
                break;
            default:
                throw NotATreeValue(node);
        }
    }

    private static string Plain(object? value) => value switch
    {
        null => "null",
        bool flag => flag ? "true" : "false",
        int number => number.ToString(CultureInfo.InvariantCulture),
        _ => throw NotATreeValue(value),
    };

    private static InvalidOperationException NotATreeValue(object value) =>
        new($"The topology tree holds a {value.GetType().Name} (a bug): only maps, lists, strings, ints and bools.");

    private static bool LooksLikeNonString(string text) =>
        text.Length == 0
        || text is "~" or "null" or "Null" or "NULL" or "true" or "True" or "TRUE" or "false" or "False" or "FALSE"
        || double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
        || text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || text.StartsWith("0o", StringComparison.OrdinalIgnoreCase)
        || text is ".inf" or "-.inf" or "+.inf" or ".nan" or ".Inf" or ".NaN";

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
            ["dns"] = new OrderedDictionary<string, object?> { ["resolveVia"] = t.Dns.ResolveVia is { } via ? Name(via) : "auto" },
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
            if (h.Dns is { } dns)
            {
                host["dns"] = new OrderedDictionary<string, object?> { ["resolveVia"] = Name(dns) };
            }
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
        ["dns"] = t.Hosts.Where(h => h.Role == HostRole.Client).Select(h => new OrderedDictionary<string, object?>
        {
            ["client"] = h.Name,
            ["resolveVia"] = Name(t.ResolveViaOf(h)),
        }).ToList(),
    };

    private static string Name<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();
}
