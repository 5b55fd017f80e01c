using System.Text.Json;
using System.Text.Json.Serialization;
using Egress.Core;
using Egress.Lab.Services;
using Egress.Lab.Vm;

namespace Egress.Lab;

/// <summary>The lab's JSON, source-generated (no reflection): the manifest and <c>lab status</c> in egress's style
/// (<see cref="Egress"/>), and what the lab's services answer on the wire in the web's style (<see cref="Web"/>: compact,
/// camelCase), as the real APIs do.</summary>
[JsonSerializable(typeof(LabManifest))]
[JsonSerializable(typeof(LabStatusReport))]
[JsonSerializable(typeof(InstanceIdentityDocument))]
[JsonSerializable(typeof(LabServices.EdgeAnswer))]
[JsonSerializable(typeof(LabServices.ServerTimeAnswer))]
[JsonSerializable(typeof(LabServices.IpEchoAnswer))]
public sealed partial class LabJson : JsonSerializerContext
{
    public static LabJson Egress { get; } = new(EgressJson.NewOptions());

    public static LabJson Web { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
