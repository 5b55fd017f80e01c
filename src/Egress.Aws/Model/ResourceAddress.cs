using System.Text.Json;
using System.Text.Json.Serialization;

namespace Egress.Aws.Model;

/// <summary>The kinds of AWS resources egress manages, in the order they are created (destroy runs it backwards).</summary>
public enum ResourceKind
{
    KeyPair,
    Vpc,
    Subnet,
    InternetGateway,
    RouteTable,
    SecurityGroup,
    Peering,
    Route,
    Instance,
    ElasticIp,
}

/// <summary>Where a resource lives and what the stack calls it: region, kind and the component name that is
/// also its <c>egress:component</c> tag (routes, which AWS cannot tag, are named by their destination). In JSON: "region:kind/name".</summary>
[JsonConverter(typeof(ResourceAddressJsonConverter))]
public sealed record ResourceAddress(string Region, ResourceKind Kind, string Name) : IComparable<ResourceAddress>
{
    public string KindName => Kind switch
    {
        ResourceKind.KeyPair => "key-pair",
        ResourceKind.Vpc => "vpc",
        ResourceKind.Subnet => "subnet",
        ResourceKind.InternetGateway => "internet-gateway",
        ResourceKind.RouteTable => "route-table",
        ResourceKind.SecurityGroup => "security-group",
        ResourceKind.Peering => "peering",
        ResourceKind.Route => "route",
        ResourceKind.Instance => "instance",
        ResourceKind.ElasticIp => "elastic-ip",
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };

    /// <summary>The value of the <c>egress:component</c> tag: kind/name.</summary>
    public string Component => $"{KindName}/{Name}";

    public override string ToString() => $"{Region}:{Component}";

    public int CompareTo(ResourceAddress? other)
    {
        if (other is null)
        {
            return 1;
        }

        var byKind = Kind.CompareTo(other.Kind);
        if (byKind != 0)
        {
            return byKind;
        }

        var byRegion = string.CompareOrdinal(Region, other.Region);
        return byRegion != 0 ? byRegion : string.CompareOrdinal(Name, other.Name);
    }

    /// <summary>Parses an <c>egress:component</c> tag value (kind/name); null when it is not one of ours.</summary>
    public static ResourceAddress? FromComponent(string region, string? component)
    {
        if (string.IsNullOrEmpty(component))
        {
            return null;
        }

        var slash = component.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == component.Length - 1)
        {
            return null;
        }

        var kindName = component[..slash];
        foreach (var kind in Enum.GetValues<ResourceKind>())
        {
            var address = new ResourceAddress(region, kind, component[(slash + 1)..]);
            if (address.KindName == kindName)
            {
                return address;
            }
        }

        return null;
    }
}

/// <summary>The tags every resource carries; discovery reads them back, so egress keeps no state file.</summary>
public static class StackTags
{
    public const string Stack = "egress:stack";
    public const string Component = "egress:component";
    public const string Name = "Name";

    /// <summary>SHA-256 of the instance's user data: a change means the host must be replaced.</summary>
    public const string UserDataHash = "egress:user-data-sha256";

    public static IReadOnlyDictionary<string, string> For(string stack, ResourceAddress address) =>
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Stack] = stack,
            [Component] = address.Component,
            [Name] = $"{stack}-{address.KindName}-{address.Name}".Replace('/', '-'),
        };
}

internal sealed class ResourceAddressJsonConverter : JsonConverter<ResourceAddress>
{
    public override ResourceAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("A plan is written, never read.");

    public override void Write(Utf8JsonWriter writer, ResourceAddress value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
